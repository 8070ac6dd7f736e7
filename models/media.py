"""The only decode path for trailers, shared by training and serving.

Uploads are untrusted. Every ffprobe/ffmpeg call runs as a subprocess (never a shell) with a
timeout, reads only a local file given by absolute path (`-protocol_whitelist file`) and only
through the demuxers we accept (`-format_whitelist`), so an HLS playlist, a concat list or an
image renamed .mp4 is refused before ffmpeg opens anything else. Decoding forces the demuxer
that probing found. Error messages name the file, never the path on this machine.

Frames (`sample_frames`): the targets are the centres of n equal segments of the trailer.
1. The video packets' index (ffprobe, no decoding) gives the keyframe times. With at least n
   keyframes, the nearest distinct keyframe to each target is decoded alone: each is one input
   of an ffmpeg process, opened with a fast seek straight to it, and a concat filter joins the
   single frames (two processes share the n inputs). This decodes n frames instead of every
   keyframe of the trailer (a 2 min 720p trailer has 50 to 150), about 5x less work.
2. With fewer keyframes than n (a long GOP): one full decode whose `select` filter keeps, for
   each target time, the first frame at or after it (what an accurate seek would return,
   without n processes). The `fps` filter is not used: it rounds its start time to its own
   frame grid, so it cannot hit segment centres.
ffmpeg-python builds the decode command lines. ffprobe is run directly: `ffmpeg.probe` has no
subprocess timeout (its `timeout=` becomes ffprobe's `-timeout`, a network-protocol option).
"""

import json
import math
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi"
VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp8", "vp9", "av1", "mpeg2video", "mjpeg", "prores"})
THREADS = 2
SEEK_PROCESSES = 2  # processes sharing the seeks to keyframes, each with single-threaded decoders
MAX_SEEKS_PER_PROCESS = 8  # each seek holds its own decoder (about 10 MB at 720p)
SEEK_MARGIN_S = 1e-4  # ffprobe prints times rounded to 1 us: seek just past the keyframe, never before
_ACCEPTED = "MP4/MOV, MKV/WebM or AVI"
_INPUT_GUARD = {"protocol_whitelist": "file", "format_whitelist": DEMUXERS}
_NOT_WHITELISTED = re.compile(rb"\[([\w,]+) @ [^\]]*\] Format not on whitelist")
_LOG_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\] ")


class MediaError(ValueError):
    """A media file cannot be used; str(error) says why and is shown to users."""


class UnsupportedMediaError(MediaError):
    """Not a video we accept: not media, an audio-only file, a disallowed container or codec (HTTP 415)."""


class InvalidMediaError(MediaError):
    """A corrupt or truncated file, one beyond the limits, or a decode that timed out (HTTP 422)."""


@dataclass(frozen=True)
class MediaLimits:
    max_duration_s: float = 4 * 3600
    max_width: int = 7680
    max_height: int = 4320
    timeout_s: float = 120.0  # per ffprobe/ffmpeg subprocess


DEFAULT_LIMITS = MediaLimits()


@dataclass(frozen=True)
class MediaInfo:
    """What probing found; `limits` (those it was probed under) also govern decoding the file."""

    format_name: str
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool
    audio_codec: str | None
    limits: MediaLimits = DEFAULT_LIMITS


def probe(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> MediaInfo:
    """Container, duration, size and codecs of a trailer; refuses what we do not accept."""
    name, path = _local_file(path)
    cmd = ["ffprobe", "-hide_banner", "-loglevel", "error", "-threads", str(THREADS),
           "-protocol_whitelist", "file", "-format_whitelist", DEMUXERS,
           "-show_format", "-show_streams", "-of", "json", f"file:{path}"]
    result = _run(cmd, limits, f"{name}: probing")
    if result.returncode != 0:
        raise _probe_error(name, path, result.stderr)
    try:
        info = json.loads(result.stdout)
    except ValueError as err:
        raise InvalidMediaError(f"{name}: the file cannot be read (unparsable probe output)") from err
    return _media_info(name, info, limits)


def sample_frames(path: Path, info: MediaInfo, n_frames: int, size: tuple[int, int],
                  limits: MediaLimits | None = None) -> np.ndarray:
    """(n_frames, height, width, 3) uint8 RGB frames spread over the trailer, squashed to size=(w, h).

    `limits` default to those the file was probed under."""
    limits = limits or info.limits
    if n_frames < 1 or size[0] < 1 or size[1] < 1:
        raise ValueError(f"need n_frames >= 1 and a positive size, got {n_frames} and {size}")
    name, path = _local_file(path)
    targets = (np.arange(n_frames) + 0.5) * info.duration_s / n_frames
    keyframes = _keyframe_times(path, name, info, limits)
    if len(keyframes) >= n_frames:
        chosen = keyframes[_nearest_distinct(keyframes, targets)]
        frames = _decode_at_times(path, name, info, chosen, size, limits)
        if len(frames) == n_frames:
            return frames
    frames = _decode_at_targets(path, name, info, n_frames, size, limits)
    # a short or truncated video stream yields fewer frames: repeat the last one (always a writable copy)
    return np.concatenate([frames, np.repeat(frames[-1:], n_frames - len(frames), axis=0)])


def extract_audio(path: Path, info: MediaInfo, sample_rate: int, max_seconds: float | None = None,
                  limits: MediaLimits | None = None) -> np.ndarray | None:
    """Mono float32 PCM in [-1, 1] at `sample_rate` (first audio stream); None when the file has no audio.

    `limits` default to those the file was probed under."""
    limits = limits or info.limits
    if not info.has_audio:
        return None
    name, path = _local_file(path)
    output = {"map": "0:a:0", "vn": None, "sn": None, "dn": None, "acodec": "pcm_f32le", "format": "f32le",
              "ac": 1, "ar": int(sample_rate)}
    if max_seconds is not None:
        output["t"] = f"{max_seconds:.6f}"
    stream = ffmpeg.input(f"file:{path}", f=_demuxer(info), **_INPUT_GUARD).output("pipe:1", **output)
    result = _run(_ffmpeg_cmd(stream), limits, f"{name}: decoding the audio")
    if result.returncode != 0:
        reason = _reason(result.stderr, path, name)
        raise InvalidMediaError(f"{name}: the audio track cannot be decoded{reason}")
    pcm = np.frombuffer(result.stdout[: len(result.stdout) // 4 * 4], dtype="<f4")
    return np.clip(pcm, -1.0, 1.0).astype(np.float32, copy=False)  # clip makes a writable copy


def _probe_error(name: str, path: Path, stderr: bytes) -> MediaError:
    detected = _NOT_WHITELISTED.search(stderr)
    if detected:
        kind = detected.group(1).decode().removesuffix("_pipe")
        return UnsupportedMediaError(f"{name}: {kind!r} files are not accepted; upload {_ACCEPTED}")
    reason = _reason(stderr, path, name)
    container = _container_signature(path)
    if container:
        return InvalidMediaError(f"{name}: corrupt or truncated {container} file{reason}")
    return UnsupportedMediaError(f"{name}: not a video in {_ACCEPTED} format{reason}")


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


def _media_info(name: str, info: dict, limits: MediaLimits) -> MediaInfo:
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
    return MediaInfo(
        format_name=fmt.get("format_name", ""), duration_s=duration, width=width, height=height,
        fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")), video_codec=codec,
        has_audio=audio is not None, audio_codec=(audio.get("codec_name") or "unknown") if audio else None,
        limits=limits,
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


def _keyframe_times(path: Path, name: str, info: MediaInfo, limits: MediaLimits) -> np.ndarray:
    """Sorted distinct times of the video stream's keyframes, read from its packets (no decoding)."""
    cmd = ["ffprobe", "-hide_banner", "-loglevel", "error", "-threads", str(THREADS),
           "-protocol_whitelist", "file", "-format_whitelist", DEMUXERS, "-f", _demuxer(info),
           "-select_streams", "V:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", f"file:{path}"]
    result = _run(cmd, limits, f"{name}: reading the keyframe index")
    times = []
    for line in result.stdout.decode(errors="replace").splitlines():
        pts, _, flags = line.partition(",")
        if "K" in flags and "D" not in flags:  # D: before the edit list's start, never shown
            times.append(_finite_float(pts))
    return np.unique([t for t in times if t is not None])


def _decode_at_times(path: Path, name: str, info: MediaInfo, times: np.ndarray, size: tuple[int, int],
                         limits: MediaLimits) -> np.ndarray:
    """The frames shown at `times` (packet times), fast when they are keyframes: each decodes alone.

    May return fewer frames than times when a seek fails."""
    per_process = min(MAX_SEEKS_PER_PROCESS, math.ceil(len(times) / SEEK_PROCESSES))
    chunks = [times[i:i + per_process] for i in range(0, len(times), per_process)]
    commands = [_seek_frames_cmd(path, info, chunk, size) for chunk in chunks]
    with ThreadPoolExecutor(SEEK_PROCESSES) as pool:
        results = list(pool.map(lambda cmd: _run(cmd, limits, f"{name}: decoding keyframes"), commands))
    return np.concatenate([_frames(result, size) for result in results])


def _seek_frames_cmd(path: Path, info: MediaInfo, times: np.ndarray, size: tuple[int, int]) -> list[str]:
    """One input per time, each a fast seek keeping the first frame at or after it, joined by concat."""
    singles = []
    for time_s in times:
        # seek_timestamp: -ss is the packet time itself, not an offset from the file's start time;
        # the stream info is known from probing, so each input skips decoding frames to find it
        source = ffmpeg.input(f"file:{path}", f=_demuxer(info), ss=f"{time_s + SEEK_MARGIN_S:.6f}", seek_timestamp=1,
                              noaccurate_seek=None, nofind_stream_info=None, threads=1, **_INPUT_GUARD)["V:0"]
        # a seek lands on the last keyframe at or before the time: drop the frames shown before the time
        # (also an open GOP's leading frames, which are decoded from missing references)
        singles.append(source.filter("select", "gte(t,-0.001)").trim(end_frame=1).setpts("PTS-STARTPTS")
                       .filter("scale", size[0], size[1]).filter("setsar", 1))
    out = ffmpeg.concat(*singles, v=1, a=0).output("pipe:1", format="rawvideo", pix_fmt="rgb24",
                                                   fps_mode="passthrough")
    return _ffmpeg_cmd(out, threads=1)


def _decode_at_targets(path: Path, name: str, info: MediaInfo, n_frames: int, size: tuple[int, int],
                       limits: MediaLimits) -> np.ndarray:
    """One full decode keeping the first frame at or after each target time (up to n_frames frames)."""
    per_second = n_frames / info.duration_s
    # target k is at (k + 0.5) / per_second: keep a frame where round(t * per_second) steps up
    crossed = f"gt(floor(t*{per_second:.9g}+0.5),if(isnan(prev_t),0,floor(prev_t*{per_second:.9g}+0.5)))"
    stream = _video_input(path, info).filter("select", crossed).filter("scale", size[0], size[1])
    result = _run(_raw_frames_cmd(stream, n_frames), limits, f"{name}: decoding the video")
    frames = _frames(result, size)
    if len(frames) == 0:
        reason = _reason(result.stderr, path, name)
        raise InvalidMediaError(f"{name}: no video frame could be decoded{reason}")
    return frames


def _nearest_distinct(times: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each target time, the index of the nearest frame not already taken (in time order)."""
    chosen: list[int] = []
    for target in targets:
        order = np.argsort(np.abs(times - target), kind="stable")
        chosen.append(next((int(i) for i in order if int(i) not in chosen), int(order[0])))
    return np.sort(np.array(chosen))


def _video_input(path: Path, info: MediaInfo, **input_options):
    """The first video stream that is not cover art, read through the guarded, forced demuxer."""
    return ffmpeg.input(f"file:{path}", f=_demuxer(info), **input_options, **_INPUT_GUARD)["V:0"]


def _raw_frames_cmd(stream, max_frames: int) -> list[str]:
    out = stream.output("pipe:1", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough",
                        **{"frames:v": max_frames})
    return _ffmpeg_cmd(out)


def _frames(result: subprocess.CompletedProcess, size: tuple[int, int]) -> np.ndarray:
    """The whole frames ffmpeg wrote (a failing decode may still have produced some)."""
    frame_bytes = size[0] * size[1] * 3
    usable = len(result.stdout) // frame_bytes
    data = np.frombuffer(result.stdout[: usable * frame_bytes], dtype=np.uint8)
    return data.reshape(usable, size[1], size[0], 3)


def _ffmpeg_cmd(stream, threads: int = THREADS) -> list[str]:
    args = stream.compile(cmd="ffmpeg")
    return [args[0], "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-threads", str(threads), "-filter_complex_threads", str(threads), *args[1:]]


def _run(cmd: list[str], limits: MediaLimits, what: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=limits.timeout_s, check=False)
    except subprocess.TimeoutExpired as err:  # subprocess.run has killed the child
        raise InvalidMediaError(f"{what} timed out after {limits.timeout_s:g} s") from err


def _local_file(path: Path) -> tuple[str, Path]:
    """The file's name (for messages) and its absolute path; refuses anything but an existing regular file."""
    path = Path(path)
    name = path.name
    resolved = path.resolve()
    if not resolved.is_file():
        raise InvalidMediaError(f"{name}: no such file")
    if resolved.stat().st_size == 0:
        raise UnsupportedMediaError(f"{name}: the file is empty")
    return name, resolved


def _demuxer(info: MediaInfo) -> str:
    """The one demuxer to force when decoding (probe reports e.g. 'mov,mp4,m4a,3gp,3g2,mj2')."""
    first = info.format_name.split(",")[0]
    if first not in DEMUXERS.split(","):
        raise UnsupportedMediaError(f"container {info.format_name!r} is not accepted; upload {_ACCEPTED}")
    return first


def _finite_float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _positive_float(value) -> float:
    number = _finite_float(value)
    return number if number is not None and number > 0 else 0.0


def _rate(text: str | None) -> float:
    num, _, den = (text or "").partition("/")
    denominator = _positive_float(den or "1")
    return _positive_float(num) / denominator if denominator else 0.0


def _reason(stderr: bytes, path: Path, name: str) -> str:
    """ffmpeg's first error line (usually the cause), with this machine's path replaced by the file name."""
    lines = [_LOG_PREFIX.sub("", line).strip() for line in stderr.decode(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    first = lines[0].replace(f"file:{path}", name).replace(str(path), name)
    return f" ({first[:200]})"
