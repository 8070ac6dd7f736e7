"""Runs of consecutive frames for motion: grey, low resolution, at `n_windows` points of the trailer.

Window k starts so that it is centred on the centre of the k-th of n equal segments of the trailer and
lasts `window_frames` frames (at most one segment); its start then moves to the nearest keyframe within
half a segment (`at_keyframes`), sparing the frames an accurate seek decodes only to drop. Each window
is one input of an ffmpeg process (one process for up to MAX_SEEKS_PER_PROCESS windows, one after
another: a second process side by side costs more to start than these few frames take to decode),
opened with an accurate seek to its start and decoded without the loop filter, trimmed to
`window_frames` frames and padded by repeating its last frame where the stream ends early, so every
window has exactly that many frames and the output splits without markers.
The same guards as the sampled frames: `-max_pixels`, the whitelists, the memory limit and the file's
deadline (models.media.process.run), and the packet index refuses a truncated file first.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

from models.media.errors import InvalidMediaError
from models.media.frames import MAX_SEEKS_PER_PROCESS, SEEK_MARGIN_S, frame_bytes, packet_index, raw_frames
from models.media.limits import Deadline, MediaLimits
from models.media.probe import MediaInfo, check_complete, demuxer, local_file
from models.media.process import INPUT_GUARD, ffmpeg_cmd, reason, run

MAX_ASPECT = 2.0  # a taller (portrait) video is squashed to at most twice as high as wide


@dataclass(frozen=True)
class FrameRuns:
    """Consecutive grey frames at a few points of a trailer."""

    frames: np.ndarray  # (n_windows, window_frames, height, width) uint8
    starts_s: np.ndarray  # (n_windows,) seconds from the start where each window begins
    fps: float  # frames per second within a window (the video's rate)


def sample_frame_runs(path: Path, info: MediaInfo, n_windows: int, window_frames: int, width: int,
                      limits: MediaLimits | None = None) -> FrameRuns:
    """`n_windows` runs of `window_frames` consecutive grey frames `width` pixels wide (height keeps the aspect)."""
    limits = limits or info.limits
    deadline = info.deadline.capped(limits.timeout_s)
    if n_windows < 1 or window_frames < 2 or width < 16:
        raise ValueError(f"need n_windows >= 1, window_frames >= 2, width >= 16; got {n_windows}, "
                         f"{window_frames}, {width}")
    name, path = local_file(path)
    index = packet_index(path, name, info, limits, deadline)
    check_complete(name, "video", index.covered_s, info.video_duration_s)
    size = (width, _height(info, width))
    frames_per_window = min(window_frames, max(2, int(info.fps * info.duration_s / n_windows)))
    span_s = frames_per_window / info.fps
    centres = (np.arange(n_windows) + 0.5) * info.duration_s / n_windows
    starts = np.clip(centres - span_s / 2, 0.0, max(0.0, info.duration_s - span_s))
    starts = at_keyframes(starts, index.keyframes - index.first_s, reach_s=info.duration_s / n_windows / 2,
                          last_s=info.duration_s - span_s)
    chunks = np.array_split(np.arange(n_windows), math.ceil(n_windows / MAX_SEEKS_PER_PROCESS))
    runs = np.concatenate([_decode_runs(path, name, info, starts[chunk], frames_per_window, size, limits, deadline)
                           for chunk in chunks])
    return FrameRuns(runs, starts, float(info.fps))


def at_keyframes(starts: np.ndarray, keyframes: np.ndarray, reach_s: float, last_s: float) -> np.ndarray:
    """Each start moved just past its nearest keyframe when that is within `reach_s` (and not after `last_s`),
    unless an earlier window took that keyframe. A run that starts at a keyframe decodes its own frames only;
    one that starts between keyframes first decodes, and drops, every frame since the keyframe before it."""
    moved, taken = starts.copy(), set()
    usable = keyframes[keyframes <= last_s]
    for i, start in enumerate(starts):
        if len(usable) == 0:
            break
        nearest = float(usable[np.abs(usable - start).argmin()])
        if abs(nearest - start) <= reach_s and nearest not in taken:
            moved[i] = nearest + SEEK_MARGIN_S
            taken.add(nearest)
    return moved


def _decode_runs(path: Path, name: str, info: MediaInfo, starts: np.ndarray, frames: int, size: tuple[int, int],
                 limits: MediaLimits, deadline: Deadline) -> np.ndarray:
    cmd = _runs_cmd(path, info, starts, frames, size, limits)
    result = run(cmd, deadline, f"{name}: decoding frames for motion", len(starts) * frames * frame_bytes(size, 1),
                 limits.max_memory_mb)
    grey = raw_frames(result, name, size, limits, channels=1)
    if len(grey) != len(starts) * frames:
        raise InvalidMediaError(f"{name}: only {len(grey)} of {len(starts) * frames} frames for motion could be "
                                f"decoded{reason(result.stderr, path, name)}")
    return grey[..., 0].reshape(len(starts), frames, size[1], size[0])


def _height(info: MediaInfo, width: int) -> int:
    aspect = min(MAX_ASPECT, info.height / max(1, info.width))
    return max(16, round(width * aspect / 2) * 2)


def _runs_cmd(path: Path, info: MediaInfo, starts: np.ndarray, frames: int, size: tuple[int, int],
              limits: MediaLimits) -> list[str]:
    runs = []
    for start in starts:
        source = ffmpeg.input(f"file:{path}", f=demuxer(info), ss=f"{start:.6f}", threads=1,
                              nofind_stream_info=None, skip_loop_filter="all",
                              max_pixels=limits.max_pixels, **INPUT_GUARD)["V:0"]
        runs.append(source.trim(end_frame=frames).filter("tpad", stop=frames, stop_mode="clone")
                    .trim(end_frame=frames).setpts("PTS-STARTPTS")
                    .filter("scale", size[0], size[1]).filter("setsar", 1))
    out = ffmpeg.concat(*runs, v=1, a=0).output("pipe:1", format="rawvideo", pix_fmt="gray",
                                                fps_mode="passthrough")
    return ffmpeg_cmd(out, threads=1)

