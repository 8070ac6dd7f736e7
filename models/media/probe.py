"""Probing: container, duration, size and codecs of a trailer, refusing what we do not accept.

ffprobe is run directly: `ffmpeg.probe` has no subprocess timeout (its `timeout=` becomes
ffprobe's `-timeout`, a network-protocol option). Probing starts the file's deadline.
"""

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.media.errors import InvalidMediaError, MediaError, UnsupportedMediaError
from models.media.limits import DEFAULT_LIMITS, Deadline, MediaLimits, plausible_packets
from models.media.process import DEMUXERS, ffprobe_cmd, reason, run

VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp8", "vp9", "av1", "mpeg2video", "mjpeg", "prores"})
ACCEPTED = "MP4/MOV, MKV/WebM or AVI"
PROBE_OUTPUT_CAP = 1 << 20  # JSON of the format and its streams; a few KB for a trailer
# how much shorter than declared a stream's data may end before the file counts as truncated
TRUNCATION_SLACK_S, TRUNCATION_SLACK_SHARE = 0.5, 0.05
_NOT_WHITELISTED = re.compile(rb"\[([\w,]+) @ [^\]]*\] Format not on whitelist")


class Memo:
    """What is read from one probed file once for all its readers (the frame and the motion samplers of a
    request share its packet index and, when both are served, one decode); a second reader of a key waits
    for the first instead of re-reading, and gets the same refusal if the first was refused. Each key has
    its own lock, so computing one key may read another."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict = {}

    def get(self, key, compute):
        with self._lock:
            entry = self._entries.setdefault(key, _MemoEntry())
        with entry.lock:
            if not entry.done:
                try:
                    entry.value = compute()
                except MediaError as err:
                    entry.value = err
                entry.done = True
        if isinstance(entry.value, MediaError):
            raise entry.value
        return entry.value


@dataclass
class _MemoEntry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False
    value: object = None


@dataclass(frozen=True)
class MediaInfo:
    """What probing found. `limits` (those it was probed under) also govern decoding the file, and
    `deadline` (started by the probe) bounds all its decodes together."""

    format_name: str
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool
    audio_codec: str | None
    limits: MediaLimits = DEFAULT_LIMITS
    video_duration_s: float | None = None  # the streams' own declared durations, where the container has them
    audio_duration_s: float | None = None
    deadline: Deadline = field(default_factory=lambda: Deadline(DEFAULT_LIMITS.timeout_s), compare=False)
    memo: Memo = field(default_factory=Memo, compare=False, repr=False)


def probe(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> MediaInfo:
    """Container, duration, size and codecs of a trailer; refuses what we do not accept."""
    deadline = Deadline(limits.timeout_s)
    name, path = local_file(path)
    cmd = ffprobe_cmd(path, "-show_format", "-show_streams", "-of", "json")
    result = run(cmd, deadline, f"{name}: probing", PROBE_OUTPUT_CAP, limits.max_memory_mb)
    if result.returncode != 0:
        raise _probe_error(name, path, result.stderr)
    try:
        info = json.loads(result.stdout)
    except ValueError as err:
        raise InvalidMediaError(f"{name}: the file cannot be read (unparsable probe output)") from err
    return _media_info(name, info, limits, deadline)


def local_file(path: Path) -> tuple[str, Path]:
    """The file's name (for messages) and its absolute path; refuses anything but an existing regular file."""
    path = Path(path)
    name = path.name
    resolved = path.resolve()
    if not resolved.is_file():
        raise InvalidMediaError(f"{name}: no such file")
    if resolved.stat().st_size == 0:
        raise UnsupportedMediaError(f"{name}: the file is empty")
    return name, resolved


def demuxer(info: MediaInfo) -> str:
    """The one demuxer to force when decoding (probe reports e.g. 'mov,mp4,m4a,3gp,3g2,mj2')."""
    first = info.format_name.split(",")[0]
    if first not in DEMUXERS.split(","):
        raise UnsupportedMediaError(f"container {info.format_name!r} is not accepted; upload {ACCEPTED}")
    return first


def check_complete(name: str, stream: str, covered_s: float, declared_s: float | None) -> None:
    """Refuse a stream whose data ends well before its declared duration (a truncated file)."""
    if not declared_s:
        return
    if covered_s < declared_s - max(TRUNCATION_SLACK_S, TRUNCATION_SLACK_SHARE * declared_s):
        raise InvalidMediaError(f"{name}: {stream} data ends at {covered_s:.1f} s of {declared_s:.1f} s "
                                "(truncated file?)")


def _probe_error(name: str, path: Path, stderr: bytes) -> MediaError:
    detected = _NOT_WHITELISTED.search(stderr)
    if detected:
        kind = detected.group(1).decode().removesuffix("_pipe")
        return UnsupportedMediaError(f"{name}: {kind!r} files are not accepted; upload {ACCEPTED}")
    why = reason(stderr, path, name)
    container = _container_signature(path)
    if container:
        return InvalidMediaError(f"{name}: corrupt or truncated {container} file{why}")
    return UnsupportedMediaError(f"{name}: not a video in {ACCEPTED} format{why}")


def _container_signature(path: Path) -> str | None:
    """The container a file's first bytes announce, to tell a damaged video from something else."""
    with path.open("rb") as file:
        head = file.read(12)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return "MP4/MOV"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "MKV/WebM"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI"
    return None


def _media_info(name: str, info: dict, limits: MediaLimits, deadline: Deadline) -> MediaInfo:
    streams = info.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not s.get("disposition", {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = info.get("format", {})
    if video is None:
        kind = "an audio-only file" if audio else "a file without a video stream"
        raise UnsupportedMediaError(f"{name}: {kind}; a trailer needs a video stream")
    codec = video.get("codec_name") or "unknown"
    if codec not in VIDEO_CODECS:
        raise UnsupportedMediaError(f"{name}: video codec {codec!r} is not accepted "
                                    f"(accepted: {', '.join(sorted(VIDEO_CODECS))})")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    duration = _positive_float(fmt.get("duration")) or _positive_float(video.get("duration"))
    _check_limits(name, width, height, duration, limits)
    declared_frames = _positive_float(video.get("nb_frames"))  # MP4's sample count; "N/A" elsewhere
    if declared_frames > plausible_packets(duration):
        raise InvalidMediaError(f"{name}: the header lists {declared_frames:.0f} video frames in {duration:.1f} s; "
                                "refusing an implausible file")
    return MediaInfo(
        format_name=fmt.get("format_name", ""), duration_s=duration, width=width, height=height,
        fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")), video_codec=codec,
        has_audio=audio is not None, audio_codec=(audio.get("codec_name") or "unknown") if audio else None,
        limits=limits, video_duration_s=_stream_duration(video),
        audio_duration_s=_stream_duration(audio) if audio else None, deadline=deadline,
    )


def _check_limits(name: str, width: int, height: int, duration: float, limits: MediaLimits) -> None:
    if width <= 0 or height <= 0:
        raise InvalidMediaError(f"{name}: the video has no usable frame size (corrupt or truncated?)")
    if width > limits.max_width or height > limits.max_height:
        raise InvalidMediaError(f"{name}: resolution {width}x{height} exceeds the limit "
                                f"{limits.max_width}x{limits.max_height}")
    if duration <= 0:
        raise InvalidMediaError(f"{name}: the video has no known duration (corrupt or truncated?)")
    if duration > limits.max_duration_s:
        raise InvalidMediaError(f"{name}: duration {duration:.1f} s exceeds the limit "
                                f"{limits.max_duration_s:g} s")


def _stream_duration(stream: dict) -> float | None:
    """A stream's own duration: its `duration` (MP4, AVI), or its DURATION tag (MKV: where the stream
    ends, "HH:MM:SS.nnn") less its start time."""
    seconds = _positive_float(stream.get("duration"))
    if seconds:
        return seconds
    parts = (stream.get("tags") or {}).get("DURATION", "").split(":")
    if len(parts) != 3:
        return None
    end = _positive_float(parts[0]) * 3600 + _positive_float(parts[1]) * 60 + _positive_float(parts[2])
    seconds = end - (finite_float(stream.get("start_time")) or 0.0)
    return seconds if seconds > 0 else None


def finite_float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _positive_float(value) -> float:
    number = finite_float(value)
    return number if number is not None and number > 0 else 0.0


def _rate(text: str | None) -> float:
    num, _, den = (text or "").partition("/")
    denominator = _positive_float(den or "1")
    return _positive_float(num) / denominator if denominator else 0.0
