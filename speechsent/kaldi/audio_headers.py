"""Recording lengths from audio headers, for checking ``segments`` (stdlib at import; no process run).

``utils/validate_data_dir.sh`` and ``utils/fix_data_dir.sh`` run in a bare ``python3`` before any environment
exists, so this module imports nothing beyond the standard library until a header is actually read; reading
one needs numpy (the project's SPHERE header reader) or soundfile, and when neither is importable the caller
is told so (``None`` from :func:`header_reader`) and says which recordings went unchecked.

Which ``wav.scp`` entries have a header to read, without running anything:

* a plain file path (not a ``cmd |`` pipe, not an ``ark:offset`` / ``foo.ark:123`` entry, not ``-``);
* the input file of a ``sph2pipe`` / ``speechsent-sph2pipe`` pipe with only the options that keep every
  sample (``-f``, ``-p``, ``-u``, ``-a``, ``-c``): its length is the SPHERE header's ``sample_count``, the
  same file Kaldi's ``utils/data/get_utt2dur.sh`` reads the header of (it accepts only ``sph2pipe -f wav
  FILE |``). Any other pipe is never run here: pipes can be slow or have side effects.

A SPHERE file (magic ``NIST_1A``) is read with :func:`speechsent.audio.sphere.read_sphere_header` (shorten
files included, which libsndfile cannot read), falling back to soundfile; anything else with
``soundfile.info``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
from collections.abc import Callable

__all__ = ["AudioLength", "header_path", "header_reader"]

_ARK_OFFSET = re.compile(r":\d+(\[.*\])?$")
_SPH2PIPE = ("sph2pipe", "speechsent-sph2pipe")
#: sph2pipe options that keep every sample (the output has the header's sample_count per channel);
#: ``-t`` / ``-s`` (a time or sample range) change the length, ``-h`` writes only the header.
_SPH2PIPE_FLAGS = frozenset({"-p", "-u", "-a"})
_SPH2PIPE_VALUE_OPTS = frozenset({"-f", "-c"})


@dataclasses.dataclass(frozen=True)
class AudioLength:
    """A recording's length from its header: ``samples`` per channel at ``rate`` Hz, read from ``path``."""

    samples: int
    rate: int
    path: str

    @property
    def seconds(self) -> float:
        return self.samples / self.rate


def header_path(value: str) -> str | None:
    """The audio file whose header gives the length of the ``wav.scp`` entry ``value``, or ``None``."""
    value = value.strip(" \t")
    if not value or value == "-" or value.startswith("~"):
        return None
    if not value.endswith("|"):
        if _ARK_OFFSET.search(value) or value.startswith(("ark:", "scp:")):
            return None
        return value
    command = value[:-1]
    if any(c in command for c in "'\"\\$`"):
        try:
            tokens = shlex.split(command)  # quoting: as bash would split it
        except ValueError:
            return None
    else:
        tokens = command.split()  # the common case, 50x faster than shlex
    if not tokens or os.path.basename(tokens[0]) not in _SPH2PIPE:
        return None
    path = None
    i = 1
    while i < len(tokens):
        t = tokens[i]
        if t in _SPH2PIPE_FLAGS:
            i += 1
        elif t in _SPH2PIPE_VALUE_OPTS:
            i += 2
        elif t.startswith("-") or path is not None:
            return None  # a range option, an unknown option, or an output file (nothing on stdout)
        else:
            path = t
            i += 1
    return path


def header_reader() -> Callable[[str], AudioLength] | None:
    """A function reading a file's length from its header, or ``None`` when no reader is importable.

    The function raises ``OSError`` (no such file ...) or ``ValueError`` (not audio, a corrupt header) with a
    message that names the file.
    """
    try:
        from speechsent.audio.sphere import read_sphere_header
    except ImportError:  # no numpy: a bare python3 before set-up
        read_sphere_header = None  # type: ignore[assignment]
    try:
        import soundfile
    except (ImportError, OSError):  # no soundfile, or no libsndfile
        soundfile = None  # type: ignore[assignment]
    if read_sphere_header is None and soundfile is None:
        return None

    def read(path: str) -> AudioLength:
        with open(path, "rb") as f:
            magic = f.read(8)
        sphere_error: Exception | None = None
        if magic.startswith(b"NIST_1A") and read_sphere_header is not None:
            try:
                h = read_sphere_header(path)
                return AudioLength(int(h.sample_count), int(h.sample_rate), path)
            except (OSError, ValueError) as e:
                sphere_error = e  # libsndfile may still read it
        if soundfile is None:
            raise ValueError(
                f"{path}: {sphere_error or 'not a SPHERE file, and soundfile is not importable'}"
            )
        try:
            info = soundfile.info(path)
        except (RuntimeError, ValueError, TypeError) as e:  # soundfile.LibsndfileError is a RuntimeError
            raise ValueError(f"{path}: {sphere_error or e}") from None
        if info.samplerate <= 0:
            raise ValueError(f"{path}: sampling rate {info.samplerate}")
        return AudioLength(int(info.frames), int(info.samplerate), path)

    return read
