"""Audio of Kaldi data dirs: recordings from ``wav.scp``, utterances from ``segments``.

``wav.scp`` entries are read the way Kaldi reads them:

- a file path: NIST SPHERE (any coding :mod:`speechsent.audio.sphere` reads, shorten included) or anything
  libsndfile reads (wav, flac, ...), sniffed from the file's first bytes, not its name;
- a ``cmd |`` pipe: the command runs under bash and its stdout is read as audio (wav, flac, SPHERE).
  ``sph2pipe`` / ``speechsent-sph2pipe`` pipes, the usual form in Switchboard and Fisher data dirs, are
  decoded in-process instead (same samples, no process per recording: this matters for 2,000 h of Fisher);
- ``ark:offset`` entries (``foo.ark:1234``) through kaldiio.

**Sample scale.** A :class:`Recording` holds int16 samples whatever the file's coding: integer codings of
16 bits or fewer (8-bit PCM, 16-bit PCM, µ-law, A-law, FLAC of those widths) as libsndfile decodes them to
16 bits (exact); every other coding (24- and 32-bit PCM, float, double, Vorbis, ...) is read as float, where
full scale is ±1.0, and converted by :func:`float_to_int16`: ×32768, rounded to the nearest integer, +1.0
becoming 32767. So every coding gives the samples of ``soundfile.read(dtype="float32")`` ×32768 within the
coding's precision (libsndfile itself does not scale float codings when asked for int16: they would be
silence). A float sample beyond ±1.0 is clipped to full scale, as sox and ffmpeg do, with a warning naming
the input and counting the clipped samples; float samples beyond ±:data:`MAX_FLOAT_PEAK` are not float-scale
audio (integer-scale values stored as float) and, like NaN or infinite samples, an :class:`AudioError`.

Segments are cut as Kaldi's ``extract-segments`` cuts them: sample indices ``int(t * rate)``, an end past
the recording by less than ``max_overshoot`` (0.5 s) truncated, more than that an error; a multi-channel
recording needs an explicit channel.
"""

from __future__ import annotations

import collections
import io
import logging
import math
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speechsent.audio.sphere import read_sphere
from speechsent.kaldi.data_dir import DataDir, Segment, WavEntry

MAX_OVERSHOOT = 0.5  # seconds, Kaldi extract-segments' default
SPHERE_MAGIC = b"NIST_1A"  # first bytes of every SPHERE header
FULL_SCALE = 32768.0  # int16 full scale: float sample 1.0
# A float peak beyond this (+48 dBFS) is not float-scale audio with overs but integer-scale values.
MAX_FLOAT_PEAK = 256.0
# libsndfile subtypes of at most 16-bit integer samples: read as int16 they are exact, the same samples as
# float ×32768, without a float copy. Any other subtype is read as float (see float_to_int16).
INT16_EXACT_SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "ULAW", "ALAW"})

log = logging.getLogger(__name__)


class AudioError(ValueError):
    """A recording or utterance that cannot be read; the message names the entry and the reason."""


@dataclass(frozen=True)
class Recording:
    """A whole recording: int16 samples shaped ``(num_samples, num_channels)`` at ``rate`` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def num_channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.rate


# --------------------------------------------------------------------------------------------------------
# Recordings
# --------------------------------------------------------------------------------------------------------


def _as_2d(samples: np.ndarray) -> np.ndarray:
    return samples[:, None] if samples.ndim == 1 else samples


def _read_audio_bytes(data: bytes, what: str) -> Recording:
    """Audio bytes of any format libsndfile reads (or SPHERE) → :class:`Recording`."""
    if data.startswith(SPHERE_MAGIC):
        import tempfile

        # The SPHERE reader seeks (shorten streams, headers of any size): give it a file.
        with tempfile.NamedTemporaryFile(suffix=".sph") as tmp:
            tmp.write(data)
            tmp.flush()
            samples, rate = read_sphere(tmp.name)
        return Recording(samples, rate)
    import soundfile

    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            if sound.subtype in INT16_EXACT_SUBTYPES:
                return Recording(sound.read(dtype="int16", always_2d=True), int(sound.samplerate))
            # float32 holds FLOAT samples exactly; 24/32-bit PCM and doubles need float64 to round right.
            dtype = "float32" if sound.subtype == "FLOAT" else "float64"
            samples = sound.read(dtype=dtype, always_2d=True)
            rate = int(sound.samplerate)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        # libsndfile's own reason ("Format not recognised."), without soundfile's "Error opening
        # <_io.BytesIO object at 0x...>: " prefix, which names nothing the user wrote
        reason = getattr(error, "error_string", None) or str(error)
        raise AudioError(f"{what}: not readable audio ({len(data)} bytes): {reason}") from None
    return Recording(float_to_int16(samples, what, rate), rate)


def float_to_int16(samples: np.ndarray, what: str, rate: int | None = None) -> np.ndarray:
    """Float samples (full scale ±1.0) → int16: ×32768, rounded half to even, clipped to [-32768, 32767].

    A sample beyond ±1.0 is clipped with a logged warning that names ``what`` and counts them; NaN or
    infinite samples, or a peak beyond ±:data:`MAX_FLOAT_PEAK` (integer-scale values stored as float), are an
    :class:`AudioError` naming ``what`` (``rate``, when given, puts the first bad sample's time in it).
    """
    samples = np.asarray(samples)
    if samples.size == 0:
        return np.zeros(samples.shape, dtype=np.int16)
    finite = np.isfinite(samples)
    if not finite.all():
        flat = np.flatnonzero(~finite.reshape(-1))
        first = int(flat[0]) // (samples.shape[1] if samples.ndim == 2 else 1)
        where = f"sample {first}" + (f", {first / rate:.3f} s" if rate else "")
        raise AudioError(
            f"{what}: {flat.size} of {samples.size} samples are NaN or infinite (the first at {where}): "
            "not audio"
        )
    peak = float(np.max(np.abs(samples)))
    if peak > MAX_FLOAT_PEAK:
        raise AudioError(
            f"{what}: float samples reach {peak:g}, far beyond full scale (±1.0): integer-scale values "
            "stored as float? Float audio must be scaled to [-1, 1]"
        )
    scaled = np.rint(samples * FULL_SCALE)
    if peak > 1.0:
        over = int(np.count_nonzero(np.abs(samples) > 1.0))
        log.warning(
            "%s: %d of %d samples beyond full scale (peak %.4g, %+.1f dBFS) clipped to ±1.0",
            what,
            over,
            samples.size,
            peak,
            20 * math.log10(peak),
        )
    return np.clip(scaled, -FULL_SCALE, FULL_SCALE - 1, out=scaled).astype(np.int16)


def read_audio_file(path: str | Path) -> Recording:
    """A SPHERE or libsndfile-readable file → :class:`Recording` (format sniffed from the content)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(SPHERE_MAGIC))
    except OSError as error:
        raise AudioError(f"{path}: {error.strerror}") from None
    if magic == SPHERE_MAGIC:
        samples, rate = read_sphere(path)
        return Recording(samples, rate)
    return _read_audio_bytes(path.read_bytes(), str(path))


def _read_ark_audio(spec: str, what: str) -> Recording:
    """An ``ark:offset`` entry: a WAV in a Kaldi wav ark, or any audio kaldiio reads (flac, ``AUDIO``)."""
    ark, offset = spec.rsplit(":", 1)
    if offset.isdigit():
        # kaldiio's WAV reader ignores the format tag (µ-law and A-law come out as 8-bit PCM, float WAVs are
        # refused): a WAV entry, the kind Kaldi's wav arks hold, is cut out of the ark by its RIFF chunk size
        # (the only header field read here) and decoded by libsndfile like a file.
        with open(ark, "rb") as handle:
            handle.seek(int(offset))
            head = handle.read(8)
            if len(head) == 8 and head[:4] == b"RIFF":
                size = int.from_bytes(head[4:], "little")
                return _read_audio_bytes(head + handle.read(size), what)
    import kaldiio

    loaded = kaldiio.load_mat(spec)
    if not (isinstance(loaded, tuple) and len(loaded) == 2):
        raise AudioError(f"{what}: not audio (a matrix shaped {np.shape(loaded)}, not (rate, samples))")
    rate, samples = loaded
    samples = _as_2d(np.asarray(samples))
    if np.issubdtype(samples.dtype, np.floating):  # kaldiio reads flac and AUDIO entries as float64
        return Recording(float_to_int16(samples, what, int(rate)), int(rate))
    if samples.dtype != np.int16:
        raise AudioError(f"{what}: {samples.dtype} samples: expected 16-bit PCM or float audio")
    return Recording(samples, int(rate))


@dataclass(frozen=True)
class _Sph2pipeCall:
    path: str
    channel: int | None  # 0-based


def _parse_sph2pipe(command: str) -> _Sph2pipeCall | None:
    """Recognise ``[speechsent-]sph2pipe [-f wav] -p [-c N] FILE`` so that it can be decoded in-process.

    Anything else (time ranges, other output codings, extra pipe stages, shell syntax) returns None and the
    command is run as it is.
    """
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv or Path(argv[0]).name not in ("sph2pipe", "speechsent-sph2pipe"):
        return None
    channel: int | None = None
    path: str | None = None
    pcm = False
    args = iter(argv[1:])
    for arg in args:
        if arg == "-p":
            pcm = True
            continue
        if arg == "-f":
            if next(args, None) not in ("wav", "rif", "riff"):
                return None
        elif arg == "-c":
            value = next(args, None)
            if value not in ("1", "2"):
                return None
            channel = int(value) - 1
        elif arg.startswith("-") or path is not None:
            return None
        else:
            path = arg
    # Without -p sph2pipe keeps µ-law/A-law coding in the wav: leave that to sph2pipe and libsndfile.
    return _Sph2pipeCall(path, channel) if path is not None and pcm else None


def read_recording(entry: WavEntry) -> Recording:
    """Read one ``wav.scp`` entry (path, ``cmd |`` pipe or ``ark:offset``) as a :class:`Recording`."""
    what = f"wav.scp entry {entry.reco}"
    try:
        if entry.is_pipe:
            call = _parse_sph2pipe(entry.command)
            if call is not None:
                samples, rate = read_sphere(call.path, channel=call.channel)
                return Recording(samples, rate)
            proc = subprocess.run(
                ["bash", "-c", f"set -o pipefail; {entry.command}"], capture_output=True, check=False
            )
            if proc.returncode != 0:
                err = proc.stderr.decode(errors="replace").strip().splitlines()
                raise AudioError(
                    f"{what}: command failed with exit code {proc.returncode}: {entry.command}"
                    + (f": {err[-1]}" if err else "")
                )
            return _read_audio_bytes(proc.stdout, f"{what} (output of: {entry.command})")
        path = entry.path_or_command
        if not Path(path).exists() and ":" in path and Path(path.rsplit(":", 1)[0]).is_file():
            return _read_ark_audio(path, f"{what} ({path})")
        try:
            return read_audio_file(path)
        except AudioError as error:  # named by its path: name the entry too
            raise AudioError(f"{what}: {error}") from None
    except AudioError:
        raise
    except (OSError, ValueError) as error:
        raise AudioError(f"{what}: {error}") from None


# --------------------------------------------------------------------------------------------------------
# Utterances
# --------------------------------------------------------------------------------------------------------


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy's ``resample_poly``) along the first axis; float32 out."""
    samples = np.asarray(samples, dtype=np.float32)
    if rate == target_rate:
        return samples
    from scipy.signal import resample_poly

    g = math.gcd(rate, target_rate)
    return resample_poly(samples, target_rate // g, rate // g, axis=0).astype(np.float32)


def cut_segment(
    recording: Recording, segment: Segment | None, *, max_overshoot: float = MAX_OVERSHOOT
) -> np.ndarray:
    """Samples of ``segment`` (all of the recording when None), Kaldi extract-segments' arithmetic."""
    num = recording.samples.shape[0]
    if segment is None:
        return recording.samples
    start = int(segment.start * recording.rate)
    end = int(segment.end * recording.rate)
    if start >= num:
        raise AudioError(
            f"segment {segment.utt}: starts at {segment.start} s, after the end of recording {segment.reco} "
            f"({num / recording.rate:.3f} s)"
        )
    if end > num:
        if end >= num + int(max_overshoot * recording.rate):
            raise AudioError(
                f"segment {segment.utt}: ends at {segment.end} s, more than {max_overshoot} s after the end "
                f"of recording {segment.reco} ({num / recording.rate:.3f} s)"
            )
        end = num
    return recording.samples[start:end]


def to_mono(samples: np.ndarray, channel: int | None, what: str) -> np.ndarray:
    """Pick ``channel`` (0-based) of ``(T, C)`` samples; a 1-channel input needs none."""
    channels = samples.shape[1]
    if channel is None:
        if channels != 1:
            raise AudioError(
                f"{what}: the recording has {channels} channels; choose one (e.g. 'sph2pipe -c 1' in "
                "wav.scp, or channel=...)"
            )
        return samples[:, 0]
    if not 0 <= channel < channels:
        raise AudioError(f"{what}: channel {channel} out of range for {channels} channel(s)")
    return samples[:, channel]


def load_utterance(
    entry: WavEntry,
    segment: Segment | None = None,
    *,
    channel: int | None = None,
    target_rate: int | None = None,
) -> tuple[np.ndarray, int]:
    """One utterance as float32 samples in [-1, 1) and its rate.

    ``segment`` cuts it out of the recording of ``entry`` (None: the whole recording); ``channel`` picks a
    channel of a multi-channel recording; ``target_rate`` resamples.
    """
    recording = read_recording(entry)
    return _finish(recording, segment, channel, target_rate, segment.utt if segment else entry.reco)


def _finish(
    recording: Recording, segment: Segment | None, channel: int | None, target_rate: int | None, what: str
) -> tuple[np.ndarray, int]:
    mono = to_mono(cut_segment(recording, segment), channel, what)
    samples = mono.astype(np.float32) / 32768.0
    if target_rate is not None and target_rate != recording.rate:
        return resample(samples, recording.rate, target_rate), target_rate
    return samples, recording.rate


class UtteranceReader:
    """Utterances of a data dir by id, reading each recording once for all its segments.

    ``iter_utterances()`` walks the utterances grouped by recording (each recording decoded once);
    random access by ``reader[utt]`` keeps the ``cache_size`` most recently used recordings. A recording
    that cannot be read is cached as its error: each of its segments raises the same :class:`AudioError`
    without running its pipe or decoder again.
    """

    def __init__(
        self,
        data_dir: str | Path | DataDir,
        *,
        channel: int | None = None,
        target_rate: int | None = None,
        cache_size: int = 2,
    ):
        self.data = data_dir if isinstance(data_dir, DataDir) else DataDir(data_dir)
        wav_scp = self.data.wav_scp
        if wav_scp is None:
            raise AudioError(f"{self.data.path}: no wav.scp")
        self.wav_scp: dict[str, WavEntry] = wav_scp
        self.segments: dict[str, Segment] | None = self.data.segments
        self.channel = channel
        self.target_rate = target_rate
        self.cache_size = cache_size
        self._cache: collections.OrderedDict[str, Recording | AudioError] = collections.OrderedDict()

    def utt_ids(self) -> list[str]:
        return sorted(self.segments) if self.segments is not None else sorted(self.wav_scp)

    def _recording(self, reco: str) -> Recording:
        if reco in self._cache:
            self._cache.move_to_end(reco)
            cached = self._cache[reco]
        else:
            if reco not in self.wav_scp:
                raise AudioError(f"{self.data.path}: recording {reco} is not in wav.scp")
            try:
                cached = read_recording(self.wav_scp[reco])
            except AudioError as error:
                cached = error
            self._cache[reco] = cached
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        if isinstance(cached, AudioError):
            raise AudioError(str(cached))  # a new exception each time (no traceback piling up)
        return cached

    def __getitem__(self, utt: str) -> np.ndarray:
        return self.load(utt)[0]

    def load(self, utt: str) -> tuple[np.ndarray, int]:
        """``(samples, rate)`` of one utterance."""
        if self.segments is None:
            return _finish(self._recording(utt), None, self.channel, self.target_rate, utt)
        try:
            segment = self.segments[utt]
        except KeyError:
            raise AudioError(f"{self.data.path}: utterance {utt} is not in segments") from None
        return _finish(self._recording(segment.reco), segment, self.channel, self.target_rate, utt)

    def iter_utterances(self, utts: list[str] | None = None) -> Iterator[tuple[str, np.ndarray, int]]:
        """``(utt, samples, rate)`` for ``utts`` (default: all), grouped by recording, ids sorted within."""
        utts = self.utt_ids() if utts is None else utts
        if self.segments is None:
            order = sorted(utts)
        else:
            segments = self.segments

            def key(utt: str) -> tuple[str, float, str]:
                seg = segments.get(utt)
                return (seg.reco, seg.start, utt) if seg is not None else ("", 0.0, utt)

            order = sorted(utts, key=key)
        for utt in order:
            samples, rate = self.load(utt)
            yield utt, samples, rate
