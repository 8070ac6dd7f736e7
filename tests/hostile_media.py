"""Small, valid-looking MP4s that lie, made programmatically for the hardening tests.

- `many_samples_mp4`: a real one-second clip whose sample table is rewritten to list millions of
  one-byte samples. Chunks overlap (every chunk points at the same bytes), so the file stays
  about 10 KB while ffprobe prints a line per sample when asked for the packet index.
- `growing_frames_mp4`: the header (first SPS) says 64x48; the second half of the stream is 1920x1080.
- `cut_short_mp4`: index at the front (faststart), data cut short: it probes as 4 s long.
"""

import struct
from pathlib import Path

from media_fixtures import run_ffmpeg as ffmpeg

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _parse(buf: bytes) -> list:
    """MP4 boxes as [type, payload] pairs; container payloads are lists of boxes."""
    boxes, offset = [], 0
    while offset < len(buf):
        size, kind = struct.unpack(">I4s", buf[offset:offset + 8])
        payload = buf[offset + 8:offset + size]
        boxes.append([kind, _parse(payload) if kind in _CONTAINERS else payload])
        offset += size
    return boxes


def _build(boxes: list) -> bytes:
    out = b""
    for kind, payload in boxes:
        data = _build(payload) if isinstance(payload, list) else payload
        out += struct.pack(">I4s", 8 + len(data), kind) + data
    return out


def _child(boxes: list, kind: bytes) -> list:
    return next(box for box in boxes if box[0] == kind)


def _full_box(payload: bytes) -> bytes:
    return b"\0\0\0\0" + payload  # version 0, no flags


def many_samples_mp4(path: Path, samples: int = 2_000_000, seconds: int = 20, per_chunk: int = 1000) -> Path:
    """A ~10 KB MP4 whose only (video) track lists `samples` one-byte samples over `seconds`."""
    source = Path(path).with_suffix(".source.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "1", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(source))
    boxes = _parse(source.read_bytes())
    source.unlink()
    kinds = [kind for kind, _ in boxes]
    data_offset = sum(8 + len(payload) for _, payload in boxes[:kinds.index(b"mdat")]) + 8
    moov = _child(boxes, b"moov")[1]
    mvhd = _child(moov, b"mvhd")
    movie_timescale = struct.unpack(">I", mvhd[1][12:16])[0]
    movie_duration = struct.pack(">I", seconds * movie_timescale)
    mvhd[1] = mvhd[1][:16] + movie_duration + mvhd[1][20:]
    trak = _child(moov, b"trak")[1]
    trak[:] = [box for box in trak if box[0] != b"edts"]  # no edit list: the samples are the timeline
    tkhd = _child(trak, b"tkhd")
    tkhd[1] = tkhd[1][:20] + movie_duration + tkhd[1][24:]
    mdia = _child(trak, b"mdia")[1]
    mdhd = _child(mdia, b"mdhd")
    mdhd[1] = mdhd[1][:12] + struct.pack(">II", samples // seconds, samples) + mdhd[1][20:]
    stbl = _child(_child(mdia, b"minf")[1], b"stbl")[1]
    chunks = samples // per_chunk
    stbl[:] = [_child(stbl, b"stsd"),  # no stss: every sample is a keyframe
               [b"stts", _full_box(struct.pack(">III", 1, samples, 1))],
               [b"stsc", _full_box(struct.pack(">IIII", 1, 1, per_chunk, 1))],
               [b"stsz", _full_box(struct.pack(">II", 1, samples))],
               [b"stco", _full_box(struct.pack(">I", chunks) + struct.pack(">I", data_offset) * chunks)]]
    Path(path).write_bytes(_build(boxes))
    return Path(path)


def growing_frames_mp4(path: Path, big: str = "1920x1080") -> Path:
    """1 s at 64x48 then 1 s at `big`, in one H.264 stream (a new SPS mid-stream), 10 fps."""
    path = Path(path)
    parts = []
    for size in ("64x48", big):
        part = path.with_name(f"{path.stem}-{size}.h264")
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10", "-t", "1", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "5", "-f", "h264", str(part))
        parts.append(part)
    joined = path.with_suffix(".h264")
    joined.write_bytes(b"".join(part.read_bytes() for part in parts))
    ffmpeg("-r", "10", "-i", str(joined), "-c", "copy", str(path))
    for file in (*parts, joined):
        file.unlink()
    return path


def cut_short_mp4(path: Path, seconds: int = 4, keep: float = 0.3) -> Path:
    """A `seconds` long clip with sound, index at the front, of which only the first `keep` of the bytes remain."""
    path = Path(path)
    whole = path.with_suffix(".whole.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-f", "lavfi", "-i", "sine=frequency=440",
           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "10",
           "-c:a", "aac", "-movflags", "+faststart", str(whole))
    data = whole.read_bytes()
    whole.unlink()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
