"""A small ctypes binding to libespeak-ng (the library and voice data of the ``espeakng-loader`` wheel).

Only the classic ``speak_lib.h`` API is used::

    int  espeak_Initialize(espeak_AUDIO_OUTPUT output, int buflength, const char *path, int options);
    void espeak_SetSynthCallback(int (*cb)(short *wav, int numsamples, espeak_EVENT *events));
    espeak_ERROR espeak_SetVoiceByName(const char *name);            /* "en-us+m3" selects a variant */
    espeak_ERROR espeak_SetParameter(espeak_PARAMETER parameter, int value, int relative);
    espeak_ERROR espeak_Synth(const void *text, size_t size, unsigned int position,
                              espeak_POSITION_TYPE position_type, unsigned int end_position,
                              unsigned int flags, unsigned int *unique_identifier, void *user_data);
    espeak_ERROR espeak_Synchronize(void);

The library is initialised once per process in ``AUDIO_OUTPUT_SYNCHRONOUS`` mode (``espeak_Synth``
returns when the whole text has been rendered through the callback) and keeps global state, so every
call goes through one process-wide lock.  Loading is lazy: importing this module (or
:mod:`speechsent.synth`) does not touch the library; the first :func:`get_espeak` does.

eSpeak NG keeps synthesis state in static variables that no call resets, so :meth:`Espeak.synthesize`
reloads the library before each text, reseeds the C library's ``rand()`` (``srand``) and selects the voice
and every parameter anew: the samples for given (text, voice, parameters) do not depend on what was
synthesized before.  The exception are variants with breath noise (``f2``, ``f3``, ``f5``, ``whisper``,
...; :func:`is_reproducible`), whose noise also depends on the process's heap history: they are left out
of :data:`DEFAULT_VARIANTS`.

Voices are ``<language>[+<variant>]``: the English languages shipped in ``espeak-ng-data/lang/gmw``
(:data:`ENGLISH_LANGUAGES`) and the variants of ``espeak-ng-data/voices/!v`` (``m1`` .. ``m8``,
``f1`` .. ``f5``, ``croak``, ``whisper``, named ones such as ``klatt3``); :func:`list_english_voices`
lists the combinations that exist in the installed data.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DEFAULT_VARIANTS",
    "ENGLISH_LANGUAGES",
    "Espeak",
    "EspeakError",
    "EspeakPaths",
    "find_espeak",
    "get_espeak",
    "is_reproducible",
    "list_english_voices",
    "list_variants",
    "voice_gender",
]

# espeak_AUDIO_OUTPUT
AUDIO_OUTPUT_SYNCHRONOUS = 2
# espeak_POSITION_TYPE
POS_CHARACTER = 1
# espeak_Synth flags (espeakCHARS_UTF8, espeakENDPAUSE)
CHARS_UTF8 = 1
ENDPAUSE = 0x1000
# espeak_PARAMETER (espeakRATE, espeakVOLUME, espeakPITCH, espeakRANGE, espeakWORDGAP)
PARAM_RATE = 1
PARAM_VOLUME = 2
PARAM_PITCH = 3
PARAM_RANGE = 4
PARAM_WORDGAP = 7
# espeak_EVENT_TYPE
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
# espeak_ERROR
EE_OK = 0
# espeakRATE_MINIMUM / espeakRATE_MAXIMUM
RATE_MIN = 80
RATE_MAX = 450

#: English languages of espeak-ng-data (voice names for espeak_SetVoiceByName), in lower case.
ENGLISH_LANGUAGES: tuple[str, ...] = (
    "en-us",
    "en",
    "en-gb-x-rp",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
#: Variants that sound like ordinary (if synthetic) talkers and render deterministically; the default
#: pool of the corpus synthesizer.  Variants with a ``breath`` line (f2, f3, f5, whisper, ...) are left
#: out: their breath noise depends on the library's heap history, so they are not bit-reproducible.
DEFAULT_VARIANTS: tuple[str, ...] = (
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "m8",
    "f1",
    "f4",
    "croak",
    "klatt",
    "klatt2",
    "klatt3",
    "Annie",
    "Andrea",
    "anika",
    "aunty",
    "belinda",
    "linda",
    "steph",
    "adam",
    "david",
    "ed",
    "john",
    "max",
    "norbert",
    "paul",
    "quincy",
    "travis",
)


class EspeakError(RuntimeError):
    """libespeak-ng or its data cannot be found or loaded, or synthesis failed."""


@dataclass(frozen=True)
class EspeakPaths:
    """Where the shared library and the ``espeak-ng-data`` directory are."""

    library: Path
    data: Path


def find_espeak() -> EspeakPaths:
    """Locate libespeak-ng and espeak-ng-data.

    ``SPEECHSENT_ESPEAK_LIBRARY`` / ``SPEECHSENT_ESPEAK_DATA`` override; otherwise the
    ``espeakng-loader`` wheel's copies are used.  Raises :class:`EspeakError` with a hint when
    either is missing.
    """
    library = os.environ.get("SPEECHSENT_ESPEAK_LIBRARY")
    data = os.environ.get("SPEECHSENT_ESPEAK_DATA")
    if library is None or data is None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise EspeakError(
                "libespeak-ng not found: install the 'espeakng-loader' package (pip install espeakng-loader) "
                "or set SPEECHSENT_ESPEAK_LIBRARY and SPEECHSENT_ESPEAK_DATA"
            ) from exc
        library = library or espeakng_loader.get_library_path()
        data = data or espeakng_loader.get_data_path()
    paths = EspeakPaths(Path(library), Path(data))
    if not paths.library.is_file():
        raise EspeakError(f"libespeak-ng not found at {paths.library}")
    if not (paths.data / "phontab").is_file():
        raise EspeakError(f"espeak-ng-data not found (no phontab) at {paths.data}")
    return paths


def list_variants(data: Path | None = None, *, breathy: bool = True) -> list[str]:
    """Names of the voice variants in ``espeak-ng-data/voices/!v`` (sorted; names with spaces omitted).

    ``breathy=False`` leaves out the variants with breath noise, which are not bit-reproducible.
    """
    data = data if data is not None else find_espeak().data
    directory = data / "voices" / "!v"
    if not directory.is_dir():
        return []
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and " " not in p.name)
    return names if breathy else [n for n in names if not _is_breathy(directory / n)]


def _is_breathy(path: Path) -> bool:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    return any(line.split()[:1] == ["breath"] and any(v != "0" for v in line.split()[1:]) for line in lines)


def voice_gender(voice: str, data: Path | None = None) -> str:
    """``"f"`` or ``"m"``: the ``gender`` of the voice's variant file (plain language voices are male)."""
    variant = voice.partition("+")[2]
    if not variant:
        return "m"
    data = data if data is not None else find_espeak().data
    try:
        lines = (data / "voices" / "!v" / variant).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "m"
    for line in lines:
        fields = line.split()
        if fields[:1] == ["gender"] and len(fields) > 1:
            return "f" if fields[1].lower() == "female" else "m"
    return "m"


def is_reproducible(voice: str, data: Path | None = None) -> bool:
    """Whether ``voice`` (``language[+variant]``) renders the same samples whatever was synthesized before.

    False for variants with breath noise (``f2``, ``f3``, ``f5``, ``whisper``, ...): eSpeak NG's breath
    generator reads state that depends on the library's heap history.
    """
    variant = voice.partition("+")[2]
    if not variant:
        return True
    data = data if data is not None else find_espeak().data
    return not _is_breathy(data / "voices" / "!v" / variant)


def _language_names(data: Path) -> set[str]:
    names: set[str] = set()
    for path in (data / "lang").rglob("*"):
        if path.is_file():
            names.add(path.name.lower())
    return names


def list_english_voices(
    variants: tuple[str, ...] | list[str] | None = DEFAULT_VARIANTS, data: Path | None = None
) -> list[str]:
    """``language+variant`` voice names available in the installed data.

    ``variants=None`` combines with every reproducible variant of the data (robotic ones included);
    the plain language voices are always listed first.
    """
    data = data if data is not None else find_espeak().data
    languages = [lang for lang in ENGLISH_LANGUAGES if lang in _language_names(data)]
    available = set(list_variants(data, breathy=variants is not None))
    chosen = sorted(available) if variants is None else [v for v in variants if v in available]
    return languages + [f"{lang}+{variant}" for lang in languages for variant in chosen]


class _Event(ctypes.Structure):
    class _Id(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_LOCK = threading.RLock()
_INSTANCE: Espeak | None = None


def get_espeak() -> Espeak:
    """The process-wide :class:`Espeak` (the library is initialised on the first call)."""
    global _INSTANCE
    with _LOCK:
        if _INSTANCE is None:
            _INSTANCE = Espeak(_token=_TOKEN)
        return _INSTANCE


_TOKEN = object()


class Espeak:
    """libespeak-ng for this process; get it with :func:`get_espeak`.

    The library keeps synthesis state in static variables (pitch flutter index, wave phase, echo
    buffer, ...) that no API call resets, so the same text would come out slightly differently after
    other texts.  To make every :meth:`synthesize` independent of history, the library is unloaded
    (``espeak_Terminate`` + ``dlclose``) and loaded afresh before each synthesis that follows another
    one (about 10 ms).
    """

    def __init__(self, *, _token: object = None) -> None:
        if _token is not _TOKEN:
            raise TypeError(
                "use speechsent.synth.espeak.get_espeak(): libespeak-ng is initialised once per process"
            )
        self.paths = find_espeak()
        libc_name = ctypes.util.find_library("c")
        try:
            self._libc = ctypes.CDLL(libc_name)
        except OSError as exc:  # pragma: no cover - no C library: not a Linux/macOS system
            raise EspeakError(f"cannot load the C library ({libc_name}): {exc}") from exc
        self._chunks: list[bytes] = []
        self._words: list[tuple[int, int]] | None = None
        self._callback = _CALLBACK(self._on_audio)  # kept referenced: the library holds the pointer
        self._lib: ctypes.CDLL | None = None
        self._dirty = False
        with _LOCK:
            self.sample_rate: int = self._load()
        self.version: str = (self._lib.espeak_Info(None) or b"").decode(errors="replace")

    def _load(self) -> int:
        try:
            lib = ctypes.CDLL(str(self.paths.library))
        except OSError as exc:
            raise EspeakError(f"cannot load {self.paths.library}: {exc}") from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Terminate.argtypes = []
        lib.espeak_Terminate.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.paths.data).encode(), 0)
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed (data {self.paths.data})")
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib
        self._dirty = False
        return rate

    def _reload(self) -> None:
        import _ctypes

        if self._lib is not None:
            self._lib.espeak_Terminate()
            _ctypes.dlclose(self._lib._handle)
            self._lib = None
        self._load()

    def _on_audio(self, wav, numsamples, events) -> int:  # type: ignore[no-untyped-def]
        if wav and numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        if self._words is not None and events:
            i = 0
            while events[i].type != EVENT_LIST_TERMINATED:
                if events[i].type == EVENT_WORD:
                    self._words.append((events[i].text_position - 1, events[i].sample))
                i += 1
        return 0

    def _set(self, parameter: int, value: int) -> None:
        assert self._lib is not None
        if self._lib.espeak_SetParameter(parameter, int(value), 0) != EE_OK:
            raise EspeakError(f"espeak_SetParameter({parameter}, {value}) failed")

    def synthesize(
        self,
        text: str,
        voice: str = "en-us",
        rate: int = 175,
        pitch: int = 50,
        pitch_range: int = 50,
        volume: int = 100,
        word_gap: int = 0,
        seed: int = 0,
        words: list[tuple[int, int]] | None = None,
    ) -> np.ndarray:
        """Render ``text`` (UTF-8, plain) with ``voice``; int16 samples at :attr:`sample_rate` (22,050 Hz).

        ``rate`` in words per minute (clipped to 80..450), ``pitch`` and ``pitch_range`` 0..100
        (50 = the voice's own), ``volume`` 0..200, ``word_gap`` in units of 10 ms; ``seed`` seeds the
        noise of breathy variants.  No pause is added at the end of the text.  The result depends
        only on the arguments.  ``words``, when given, receives one ``(character offset, sample)`` pair
        per word eSpeak speaks (its word events: the 0-based offset of the word in ``text``, in
        characters, and the sample where the word starts).
        """
        import numpy as np

        if not 0 <= pitch <= 100 or not 0 <= pitch_range <= 100:
            raise ValueError("pitch and pitch_range must be in 0..100")
        if not 0 <= volume <= 200:
            raise ValueError("volume must be in 0..200")
        rate = min(max(int(rate), RATE_MIN), RATE_MAX)
        data = text.encode("utf-8") + b"\0"
        with _LOCK:
            if self._dirty or self._lib is None:
                self._reload()
            lib = self._lib
            assert lib is not None
            self._dirty = True
            if lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
                raise EspeakError(f"unknown eSpeak voice {voice!r}")
            self._set(PARAM_RATE, rate)
            self._set(PARAM_PITCH, pitch)
            self._set(PARAM_RANGE, pitch_range)
            self._set(PARAM_VOLUME, volume)
            self._set(PARAM_WORDGAP, word_gap)
            self._libc.srand(ctypes.c_uint(seed & 0xFFFFFFFF))
            self._chunks = []
            self._words = words
            buffer = ctypes.create_string_buffer(data, len(data))
            status = lib.espeak_Synth(buffer, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
            if status != EE_OK:
                raise EspeakError(f"espeak_Synth failed with status {status}")
            lib.espeak_Synchronize()
            audio = b"".join(self._chunks)
            self._chunks = []
            self._words = None
        return np.frombuffer(audio, dtype="<i2").astype(np.int16)
