"""The soundtrack as mono float PCM: the first audio stream, resampled by ffmpeg."""

from pathlib import Path

import ffmpeg
import numpy as np

from models.media.errors import InvalidMediaError
from models.media.limits import MediaLimits
from models.media.probe import MediaInfo, check_complete, demuxer, local_file
from models.media.process import INPUT_GUARD, ffmpeg_cmd, reason, run

SLACK_S = 1.0  # output accepted past the expected length (resampler and codec padding)
SAMPLE_BYTES = 4  # f32le


def extract_audio(path: Path, info: MediaInfo, sample_rate: int, max_seconds: float | None = None,
                  limits: MediaLimits | None = None) -> np.ndarray | None:
    """Mono float32 PCM in [-1, 1] at `sample_rate` (first audio stream); None when the file has no audio.

    `limits` default to those the file was probed under; the file's deadline holds either way.
    A soundtrack whose data ends well before its declared duration is refused (a truncated file)."""
    limits = limits or info.limits
    deadline = info.deadline.capped(limits.timeout_s)
    if not info.has_audio:
        return None
    name, path = local_file(path)
    output = {"map": "0:a:0", "vn": None, "sn": None, "dn": None, "acodec": "pcm_f32le", "format": "f32le",
              "ac": 1, "ar": int(sample_rate)}
    if max_seconds is not None:
        output["t"] = f"{max_seconds:.6f}"
    stream = ffmpeg.input(f"file:{path}", f=demuxer(info), **INPUT_GUARD).output("pipe:1", **output)
    wanted = info.audio_duration_s or info.duration_s
    if max_seconds is not None:
        wanted = min(wanted, max_seconds)
    max_bytes = int((wanted + SLACK_S) * sample_rate) * SAMPLE_BYTES
    result = run(ffmpeg_cmd(stream), deadline, f"{name}: decoding the audio", max_bytes, limits.max_memory_mb)
    if result.returncode != 0 and not result.overflowed:
        raise InvalidMediaError(f"{name}: the audio track cannot be decoded{reason(result.stderr, path, name)}")
    pcm = np.frombuffer(result.stdout[: len(result.stdout) // SAMPLE_BYTES * SAMPLE_BYTES], dtype="<f4")
    if info.audio_duration_s:  # only a duration the stream itself declares says where its data should end
        check_complete(name, "audio", len(pcm) / sample_rate, wanted)
    return np.clip(pcm, -1.0, 1.0).astype(np.float32, copy=False)  # clip makes a writable copy
