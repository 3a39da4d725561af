"""Audio of Kaldi data dirs: recordings from ``wav.scp``, utterances from ``segments``.

``wav.scp`` entries are read the way Kaldi reads them:

- a file path: NIST SPHERE (any coding :mod:`speechsent.audio.sphere` reads, shorten included) or anything
  libsndfile reads (wav, flac, ...), sniffed from the file's first bytes, not its name;
- a ``cmd |`` pipe: the command runs under bash and its stdout is read as audio (wav, flac, SPHERE).
  ``sph2pipe`` / ``speechsent-sph2pipe`` pipes, the usual form in Switchboard and Fisher data dirs, are
  decoded in-process instead (same samples, no process per recording: this matters for 2,000 h of Fisher);
- ``ark:offset`` entries (``foo.ark:1234``) through kaldiio.

Segments are cut as Kaldi's ``extract-segments`` cuts them: sample indices ``int(t * rate)``, an end past
the recording by less than ``max_overshoot`` (0.5 s) truncated, more than that an error; a multi-channel
recording needs an explicit channel.
"""

from __future__ import annotations

import collections
import io
import math
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speechsent.audio.sphere import read_sphere
from speechsent.data.kaldi_dir import DataDir, Segment, WavEntry

MAX_OVERSHOOT = 0.5  # seconds, Kaldi extract-segments' default
SPHERE_MAGIC = b"NIST_1A"  # first bytes of every SPHERE header


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
        samples, rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise AudioError(f"{what}: not readable audio ({len(data)} bytes): {error}") from None
    return Recording(samples, int(rate))


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
            import kaldiio

            rate, samples = kaldiio.load_mat(path)
            return Recording(_as_2d(np.asarray(samples)).astype(np.int16), int(rate))
        return read_audio_file(path)
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
    random access by ``reader[utt]`` keeps the ``cache_size`` most recently used recordings.
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
        self._cache: collections.OrderedDict[str, Recording] = collections.OrderedDict()

    def utt_ids(self) -> list[str]:
        return sorted(self.segments) if self.segments is not None else sorted(self.wav_scp)

    def _recording(self, reco: str) -> Recording:
        if reco in self._cache:
            self._cache.move_to_end(reco)
            return self._cache[reco]
        if reco not in self.wav_scp:
            raise AudioError(f"{self.data.path}: recording {reco} is not in wav.scp")
        recording = read_recording(self.wav_scp[reco])
        self._cache[reco] = recording
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return recording

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
