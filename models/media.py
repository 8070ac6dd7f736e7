"""The only decode path for trailers, shared by training and serving.

Uploads are untrusted, so every ffprobe/ffmpeg call runs in a subprocess with a timeout,
reads only a local file (`-protocol_whitelist file`) and only through the demuxers we
accept (`-format_whitelist`): an HLS playlist or a concat list renamed .mp4 cannot make
ffmpeg open other files or the network. Decoding forces the demuxer that probing found.

Frames: only keyframes are decoded when the trailer has enough of them (about a tenth of
the cost of a full decode); otherwise one pass samples frames with the `fps` filter.
ffmpeg-python builds the decode command lines; ffprobe is run directly because
ffmpeg-python's `probe` has no timeout.
"""

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi"
VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp8", "vp9", "av1", "mpeg2video", "mjpeg", "prores"})
_INPUT_GUARD = {"protocol_whitelist": "file", "format_whitelist": DEMUXERS}
_PTS = re.compile(r"pts_time:\s*([-0-9.e+]+)")


class MediaError(ValueError):
    """A media file cannot be used; the message says why (shown to users)."""


class UnsupportedMediaError(MediaError):
    """Not a video we accept: not media, an audio-only file, a disallowed container or codec (HTTP 415)."""


class InvalidMediaError(MediaError):
    """A corrupt or truncated file, or one beyond the limits, or a decode that timed out (HTTP 422)."""


@dataclass(frozen=True)
class MediaLimits:
    max_duration_s: float = 4 * 3600
    max_width: int = 7680
    max_height: int = 4320
    timeout_s: float = 120.0


@dataclass(frozen=True)
class MediaInfo:
    format_name: str
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool
    audio_codec: str | None


DEFAULT_LIMITS = MediaLimits()


def probe(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> MediaInfo:
    path = _local_file(path)
    cmd = ["ffprobe", "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", DEMUXERS,
           "-show_format", "-show_streams", "-of", "json", f"file:{path}"]
    result = _run(cmd, limits, f"probing {path.name}")
    if result.returncode != 0:
        raise UnsupportedMediaError(f"{path.name}: not a video in an accepted container (MP4, MOV, MKV, WebM, AVI)"
                                    f"{_reason(result.stderr)}")
    info = json.loads(result.stdout or b"{}")
    return _media_info(path.name, info, limits)


def sample_frames(path: Path, info: MediaInfo, n_frames: int, size: tuple[int, int],
                  limits: MediaLimits = DEFAULT_LIMITS) -> np.ndarray:
    """(n_frames, height, width, 3) uint8 RGB frames spread over the trailer, squashed to `size`."""
    path = _local_file(path)
    frames, times = _decode_keyframes(path, info, size, limits)
    if len(frames) >= n_frames:
        targets = (np.arange(n_frames) + 0.5) * info.duration_s / n_frames
        return frames[_nearest_distinct(times, targets)]
    return _pad(_decode_fps(path, info, n_frames, size, limits), n_frames)


def extract_audio(path: Path, info: MediaInfo, sample_rate: int, max_seconds: float | None = None,
                  limits: MediaLimits = DEFAULT_LIMITS) -> np.ndarray | None:
    """Mono float32 PCM in [-1, 1] at `sample_rate`; None when the file has no audio stream."""
    if not info.has_audio:
        return None
    path = _local_file(path)
    output = {"format": "f32le", "acodec": "pcm_f32le", "ac": 1, "ar": sample_rate, "map": "0:a:0"}
    if max_seconds:
        output["t"] = max_seconds
    stream = ffmpeg.input(f"file:{path}", f=_demuxer(info), **_INPUT_GUARD).output("pipe:", vn=None, **output)
    result = _run(_ffmpeg_cmd(stream), limits, f"decoding the audio of {path.name}")
    if result.returncode != 0:
        raise InvalidMediaError(f"{path.name}: the audio track cannot be decoded{_reason(result.stderr)}")
    return np.frombuffer(result.stdout, dtype="<f4").copy()


def _media_info(name: str, info: dict, limits: MediaLimits) -> MediaInfo:
    streams = info.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not s.get("disposition", {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = info.get("format", {})
    if video is None:
        kind = "an audio-only file" if audio else "not a video"
        raise UnsupportedMediaError(f"{name}: {kind}; a trailer needs a video stream")
    codec = video.get("codec_name", "unknown")
    if codec not in VIDEO_CODECS:
        raise UnsupportedMediaError(f"{name}: video codec {codec!r} is not accepted "
                                    f"(accepted: {', '.join(sorted(VIDEO_CODECS))})")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    duration = _duration(video, fmt)
    _check_limits(name, width, height, duration, limits)
    return MediaInfo(
        format_name=fmt.get("format_name", ""), duration_s=duration, width=width, height=height,
        fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
        video_codec=codec, has_audio=audio is not None, audio_codec=audio.get("codec_name") if audio else None,
    )


def _check_limits(name: str, width: int, height: int, duration: float, limits: MediaLimits) -> None:
    if width <= 0 or height <= 0:
        raise InvalidMediaError(f"{name}: the video has no usable frame size (truncated or corrupt?)")
    if width > limits.max_width or height > limits.max_height:
        raise InvalidMediaError(f"{name}: resolution {width}x{height} exceeds the limit "
                                f"{limits.max_width}x{limits.max_height}")
    if not duration > 0:
        raise InvalidMediaError(f"{name}: the video has no duration (truncated or corrupt?)")
    if duration > limits.max_duration_s:
        raise InvalidMediaError(f"{name}: duration {duration:.0f} s exceeds the limit {limits.max_duration_s:.0f} s")


def _decode_keyframes(path: Path, info: MediaInfo, size: tuple[int, int], limits: MediaLimits):
    stream = (
        ffmpeg.input(f"file:{path}", f=_demuxer(info), skip_frame="nokey", **_INPUT_GUARD)
        .video.filter("showinfo").filter("scale", size[0], size[1])
        .output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough")
    )
    result = _run(_ffmpeg_cmd(stream, loglevel="info"), limits, f"decoding {path.name}")
    frames = _frames(result, path, size)
    times = np.array([float(t) for t in _PTS.findall(result.stderr.decode(errors="replace"))])
    if len(times) != len(frames):  # cannot pair frames with times: use the robust path instead
        return frames[:0], times[:0]
    return frames, times


def _decode_fps(path: Path, info: MediaInfo, n_frames: int, size: tuple[int, int], limits: MediaLimits):
    stream = (
        ffmpeg.input(f"file:{path}", f=_demuxer(info), **_INPUT_GUARD)
        .video.filter("fps", fps=f"{n_frames}/{info.duration_s:.6f}").filter("scale", size[0], size[1])
        .output("pipe:", format="rawvideo", pix_fmt="rgb24", frames=n_frames)
    )
    return _frames(_run(_ffmpeg_cmd(stream), limits, f"decoding {path.name}"), path, size)


def _frames(result: subprocess.CompletedProcess, path: Path, size: tuple[int, int]) -> np.ndarray:
    frame_bytes = size[0] * size[1] * 3
    usable = len(result.stdout) // frame_bytes
    if result.returncode != 0 and usable == 0:
        raise InvalidMediaError(f"{path.name}: the video cannot be decoded{_reason(result.stderr)}")
    data = np.frombuffer(result.stdout[: usable * frame_bytes], dtype=np.uint8)
    return data.reshape(usable, size[1], size[0], 3)


def _nearest_distinct(times: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each target time, the nearest unused frame (frames stay in time order)."""
    chosen, used = [], set()
    for target in targets:
        order = np.argsort(np.abs(times - target), kind="stable")
        pick = next((int(i) for i in order if int(i) not in used), int(order[0]))
        used.add(pick)
        chosen.append(pick)
    return np.sort(np.array(chosen))


def _pad(frames: np.ndarray, n_frames: int) -> np.ndarray:
    if len(frames) == 0:
        raise InvalidMediaError("the video yielded no frame (truncated or corrupt?)")
    if len(frames) < n_frames:
        frames = np.concatenate([frames, np.repeat(frames[-1:], n_frames - len(frames), axis=0)])
    return frames[:n_frames]


def _ffmpeg_cmd(stream, loglevel: str = "error") -> list[str]:
    args = stream.compile(cmd="ffmpeg")
    return [args[0], "-nostdin", "-hide_banner", "-loglevel", loglevel, "-threads", "2", *args[1:]]


def _run(cmd: list[str], limits: MediaLimits, what: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=limits.timeout_s, check=False)
    except subprocess.TimeoutExpired as err:
        raise InvalidMediaError(f"{what} timed out after {limits.timeout_s:g} s") from err


def _local_file(path: Path) -> Path:
    path = Path(path).resolve()
    if not path.is_file():
        raise InvalidMediaError(f"{path.name}: file not found")
    if path.stat().st_size == 0:
        raise UnsupportedMediaError(f"{path.name}: the file is empty")
    return path


def _demuxer(info: MediaInfo) -> str:
    """The single demuxer to force when decoding (probe reports e.g. 'mov,mp4,m4a,3gp,3g2,mj2')."""
    first = info.format_name.split(",")[0]
    return first if first in DEMUXERS.split(",") else "mov"


def _duration(video: dict, fmt: dict) -> float:
    for value in (fmt.get("duration"), video.get("duration")):
        try:
            if value is not None and float(value) > 0:
                return float(value)
        except ValueError:
            continue
    return 0.0


def _rate(text: str | None) -> float:
    try:
        num, den = (float(v) for v in (text or "0/1").split("/"))
        return num / den if den else 0.0
    except ValueError:
        return 0.0


def _reason(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").strip().splitlines() if line.strip()]
    return f" ({lines[-1].strip()[:200]})" if lines else ""
