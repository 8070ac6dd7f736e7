"""Tiny media files for tests, made with ffmpeg's lavfi sources (no fixtures, plain functions): the one
place tests run ffmpeg to make media.

Import it from any test or conftest as `media_fixtures` (pytest puts tests/, the folder of the top
conftest.py, on sys.path).
"""

import subprocess
from pathlib import Path

from PIL import Image

# Audio codec that each container takes by default.
_AUDIO_CODECS = {"mp4": "aac", "mov": "aac", "matroska": "aac", "webm": "libopus", "avi": "libmp3lame"}
_CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm",
               ".avi": "avi"}
_PIX_FMTS = {"libx264": "yuv420p", "libx265": "yuv420p", "mjpeg": "yuvj420p", "mpeg4": "yuv420p",
             "libvpx": "yuv420p", "libvpx-vp9": "yuv420p", "mpeg2video": "yuv420p"}


def run_ffmpeg(*args: str, timeout: float = 120) -> None:
    """Run ffmpeg quietly, overwriting outputs; raises CalledProcessError with its stderr on failure."""
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, timeout=timeout, capture_output=True)


def make_video(path: Path, duration: float = 3, size: tuple[int, int] = (96, 64), audio: bool = True,
               gop: int | None = None, codec: str = "libx264", container: str | None = None,
               rate: int = 10, frequency: float = 440, sample_rate: int = 22050,
               audio_codec: str | None = None) -> Path:
    """A `testsrc2` video (moving pattern, so frames at different times differ) with a sine soundtrack.

    gop: keyframe interval in frames (None: the encoder's default, one keyframe for a short clip).
    container: ffmpeg muxer name ("mp4", "matroska", "webm", "avi", ...); None: from the suffix.
    """
    path = Path(path)
    container = container or _CONTAINERS.get(path.suffix.lower(), "mp4")
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size[0]}x{size[1]}:rate={rate}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate={sample_rate}"]
    args += ["-t", str(duration), "-c:v", codec, "-threads", "1"]
    if codec in _PIX_FMTS:
        args += ["-pix_fmt", _PIX_FMTS[codec]]
    if codec == "libx264":
        args += ["-preset", "ultrafast"]
    if codec in ("libvpx", "libvpx-vp9"):
        args += ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
    if gop is not None:
        args += ["-g", str(gop)] + (["-keyint_min", str(gop)] if codec == "libx264" else [])
    if audio:
        args += ["-c:a", audio_codec or _AUDIO_CODECS.get(container, "aac")]
    run_ffmpeg(*args, "-f", container, str(path))
    return path


def make_audio(path: Path, duration: float = 2, frequency: float = 300, sample_rate: int = 22050,
               codec: str = "aac", container: str | None = None) -> Path:
    """An audio-only file (e.g. an .m4a with codec "aac", or an .mp3 with codec "libmp3lame")."""
    path = Path(path)
    fmt = ["-f", container] if container else []
    run_ffmpeg("-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate={sample_rate}",
               "-t", str(duration), "-c:a", codec, *fmt, str(path))
    return path


def make_image(path: Path, size: tuple[int, int] = (40, 60), fmt: str | None = None, mode: str = "RGB",
               color=(200, 30, 30)) -> Path:
    """A plain image saved by Pillow (format from the suffix unless `fmt`)."""
    image = Image.new("RGB", size, color)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path, format=fmt)
    return Path(path)


def write_hls_playlist(path: Path, segment: Path) -> Path:
    """An HLS playlist (a text file) pointing at a local media file, e.g. saved as playlist.mp4."""
    Path(path).write_text("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
                          f"#EXTINF:3.0,\n{Path(segment).resolve()}\n#EXT-X-ENDLIST\n")
    return Path(path)


def write_ffconcat(path: Path, *files: Path) -> Path:
    """An ffconcat list naming local files, e.g. saved as concat.mp4."""
    lines = ["ffconcat version 1.0"] + [f"file '{Path(f).resolve()}'" for f in files]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def truncate_copy(source: Path, path: Path, fraction: float = 0.5) -> Path:
    """The first `fraction` of the bytes of `source`, written to `path`."""
    data = Path(source).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * fraction)])
    return Path(path)
