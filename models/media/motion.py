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
`sample_frames_and_runs` reads both a trailer's sampled frames and its runs, the runs riding in the frame
sampler's last process (models.media.frames.Passenger) where they fit: the same inputs and filters, so the
same frames as read apart, for one ffmpeg start fewer.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

from models.media.errors import InvalidMediaError
from models.media.frames import (
    MAX_SEEKS_PER_PROCESS,
    SEEK_MARGIN_S,
    Passenger,
    SampledFrames,
    frame_bytes,
    packet_index,
    raw_frames,
    sample_frames_with,
)
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


@dataclass(frozen=True)
class RunsWanted:
    """What a motion reader asks of a trailer (models.decode shares one decode with the frame reader's)."""

    n_windows: int
    window_frames: int
    width: int


@dataclass(frozen=True)
class _Plan:
    path: Path  # the local file's absolute path
    name: str  # the file's name, for messages
    starts: np.ndarray  # seconds from the start
    frames: int  # per window
    size: tuple[int, int]
    fps: float


def sample_frame_runs(path: Path, info: MediaInfo, n_windows: int, window_frames: int, width: int,
                      limits: MediaLimits | None = None) -> FrameRuns:
    """`n_windows` runs of `window_frames` consecutive grey frames `width` pixels wide (height keeps the aspect)."""
    limits = limits or info.limits
    deadline = info.deadline.capped(limits.timeout_s)
    plan = _plan(path, info, RunsWanted(n_windows, window_frames, width), limits, deadline)
    return _decode_apart(plan, info, limits, deadline)


def sample_frames_and_runs(path: Path, info: MediaInfo, n_frames: int, size: tuple[int, int], runs: RunsWanted,
                           limits: MediaLimits | None = None) -> tuple[SampledFrames, FrameRuns]:
    """models.media.frames.sample_timed_frames and `sample_frame_runs` of one trailer, the runs decoded in the
    frame sampler's last process where they fit (else, or if that decode came short, on their own)."""
    limits = limits or info.limits
    deadline = info.deadline.capped(limits.timeout_s)
    plan = _plan(path, info, runs, limits, deadline)
    rider = None
    if len(plan.starts) <= MAX_SEEKS_PER_PROCESS:
        rider = Passenger(lambda url: _runs_output(plan, info, plan.starts, limits, url), _runs_bytes(plan, plan.starts),
                          len(plan.starts))
    frames, carried = sample_frames_with(path, info, n_frames, size, rider, limits)
    decoded = _runs_or_none(plan, carried.side if carried else b"")
    return frames, decoded if decoded is not None else _decode_apart(plan, info, limits, deadline)


def _plan(path: Path, info: MediaInfo, wanted: RunsWanted, limits: MediaLimits, deadline: Deadline) -> _Plan:
    if wanted.n_windows < 1 or wanted.window_frames < 2 or wanted.width < 16:
        raise ValueError(f"need n_windows >= 1, window_frames >= 2, width >= 16; got {wanted.n_windows}, "
                         f"{wanted.window_frames}, {wanted.width}")
    name, path = local_file(path)
    index = packet_index(path, name, info, limits, deadline)
    check_complete(name, "video", index.covered_s, info.video_duration_s)
    n_windows = wanted.n_windows
    frames_per_window = min(wanted.window_frames, max(2, int(info.fps * info.duration_s / n_windows)))
    span_s = frames_per_window / info.fps
    centres = (np.arange(n_windows) + 0.5) * info.duration_s / n_windows
    starts = np.clip(centres - span_s / 2, 0.0, max(0.0, info.duration_s - span_s))
    starts = at_keyframes(starts, index.keyframes - index.first_s, reach_s=info.duration_s / n_windows / 2,
                          last_s=info.duration_s - span_s)
    return _Plan(path, name, starts, frames_per_window, (wanted.width, _height(info, wanted.width)), float(info.fps))


def _decode_apart(plan: _Plan, info: MediaInfo, limits: MediaLimits, deadline: Deadline) -> FrameRuns:
    """The runs in processes of their own, up to MAX_SEEKS_PER_PROCESS each."""
    chunks = np.array_split(np.arange(len(plan.starts)), math.ceil(len(plan.starts) / MAX_SEEKS_PER_PROCESS))
    runs = np.concatenate([_decode_runs(plan, info, plan.starts[chunk], limits, deadline) for chunk in chunks])
    return FrameRuns(runs, plan.starts, plan.fps)


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


def _decode_runs(plan: _Plan, info: MediaInfo, starts: np.ndarray, limits: MediaLimits,
                 deadline: Deadline) -> np.ndarray:
    cmd = ffmpeg_cmd(_runs_output(plan, info, starts, limits, "pipe:1"), threads=1)
    result = run(cmd, deadline, f"{plan.name}: decoding frames for motion", _runs_bytes(plan, starts),
                 limits.max_memory_mb)
    grey = raw_frames(result, plan.name, plan.size, limits, channels=1)[..., 0]
    if len(grey) != len(starts) * plan.frames:
        raise InvalidMediaError(f"{plan.name}: only {len(grey)} of {len(starts) * plan.frames} frames for motion "
                                f"could be decoded{reason(result.stderr, plan.path, plan.name)}")
    return grey.reshape(len(starts), plan.frames, plan.size[1], plan.size[0])


def _runs_or_none(plan: _Plan, data: bytes) -> FrameRuns | None:
    """The runs a shared process wrote, or None unless every frame of every run is there."""
    if len(data) != _runs_bytes(plan, plan.starts):
        return None
    grey = np.frombuffer(data, dtype=np.uint8).reshape(len(plan.starts), plan.frames, plan.size[1], plan.size[0])
    return FrameRuns(grey, plan.starts, plan.fps)


def _runs_bytes(plan: _Plan, starts: np.ndarray) -> int:
    return len(starts) * plan.frames * frame_bytes(plan.size, 1)


def _height(info: MediaInfo, width: int) -> int:
    aspect = min(MAX_ASPECT, info.height / max(1, info.width))
    return max(16, round(width * aspect / 2) * 2)


def _runs_output(plan: _Plan, info: MediaInfo, starts: np.ndarray, limits: MediaLimits, url: str):
    """The ffmpeg-python output writing the runs that start at `starts`, one after another, to `url`."""
    runs, frames, size = [], plan.frames, plan.size
    for start in starts:
        source = ffmpeg.input(f"file:{plan.path}", f=demuxer(info), ss=f"{start:.6f}", threads=1,
                              nofind_stream_info=None, skip_loop_filter="all",
                              max_pixels=limits.max_pixels, **INPUT_GUARD)["V:0"]
        runs.append(source.trim(end_frame=frames).filter("tpad", stop=frames, stop_mode="clone")
                    .trim(end_frame=frames).setpts("PTS-STARTPTS")
                    .filter("scale", size[0], size[1]).filter("setsar", 1))
    return ffmpeg.concat(*runs, v=1, a=0).output(url, format="rawvideo", pix_fmt="gray", fps_mode="passthrough")

