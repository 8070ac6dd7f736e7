"""Frames spread over a trailer: the targets are the centres of n equal segments of it.

1. The video packets' index (ffprobe, no decoding) gives the keyframe times and where the video
   data really ends (a truncated file is refused). The index is read only up to what a plausible
   video of this duration has (for containers that do not declare their frame count at probing).
2. With at least n keyframes, the nearest distinct keyframe to each target is decoded alone: each
   is one input of an ffmpeg process, opened with a fast seek straight to it, and a concat filter
   joins the single frames (two processes share the n inputs). This decodes n frames instead of
   every keyframe of the trailer (a 2 min 720p trailer has 50 to 150), about 5x less work.
3. With fewer keyframes than n (a long GOP): one full decode whose `select` filter keeps, for each
   target time, the first frame at or after it (what an accurate seek would return, without n
   processes). The `fps` filter is not used: it rounds its start time to its own frame grid, so it
   cannot hit segment centres.
Every decoder gets `-max_pixels`: the header's frame size is checked at probing, and this holds the
frames actually decoded to the same limit.
Another reader of the same trailer may ride in the last seek process (`Passenger`: the motion sampler's
runs), with an output of its own: starting ffmpeg costs about 50 ms of CPU, as much as decoding 20 frames.
"""

import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np

from models.media.errors import InvalidMediaError
from models.media.limits import Deadline, MediaLimits, plausible_packets
from models.media.probe import MediaInfo, check_complete, demuxer, finite_float, local_file
from models.media.process import INPUT_GUARD, Output, SidePipe, ffmpeg_cmd, ffprobe_cmd, reason, run

SEEK_PROCESSES = 2  # processes sharing the seeks to keyframes, each with single-threaded decoders
MAX_SEEKS_PER_PROCESS = 8  # each seek holds its own decoder (about 10 MB at 720p)
# a passenger rides only while each process's decoders stay within this many source pixels in all (with two
# malloc arenas, 11 inputs of a 1080p trailer take 600 MB of address space, of a 2160p one 900 MB)
MAX_SEEK_PIXELS_PER_PROCESS = 12 * 1920 * 1080
SEEK_MARGIN_S = 1e-4  # ffprobe prints times rounded to 1 us: seek just past the keyframe, never before
INDEX_LINE_BYTES = 40  # "14399.983333,0.016667,K__" and a newline, with room to spare
_OVER_PIXEL_LIMIT = re.compile(rb"Picture size (\d+)x(\d+) exceeds specified max pixel count")


@dataclass(frozen=True)
class PacketIndex:
    keyframes: np.ndarray  # sorted distinct times of the keyframes
    covered_s: float  # from the first packet to the end of the last one
    first_s: float = 0.0  # time of the first packet (the video's start)


@dataclass(frozen=True)
class FramesWanted:
    """What a frame reader asks of a trailer (models.decode shares one decode with the motion reader's)."""

    n_frames: int
    size: tuple[int, int]


@dataclass(frozen=True)
class Passenger:
    """Another reader's ffmpeg output, decoded in the frame sampler's last seek process: `output(url)` is its
    ffmpeg-python output node writing to `url`, `max_bytes` the most it may write, `inputs` how many
    inputs it opens (each holds a decoder, so the sampler takes it only where memory allows)."""

    output: Callable[[str], Any]
    max_bytes: int
    inputs: int


@dataclass(frozen=True)
class SampledFrames:
    """Frames spread over a trailer, with when each is shown."""

    frames: np.ndarray  # (n, height, width, 3) uint8 RGB, squashed to the requested size
    times_s: np.ndarray  # (n,) seconds from the video's start; in the one-pass fallback, each frame's
    # target time (the frame is the first shown at or after it, so within one frame interval)
    source_size: tuple[int, int]  # the trailer's own (width, height)


def sample_frames(path: Path, info: MediaInfo, n_frames: int, size: tuple[int, int],
                  limits: MediaLimits | None = None) -> np.ndarray:
    """(n_frames, height, width, 3) uint8 RGB frames spread over the trailer, squashed to size=(w, h).

    `limits` default to those the file was probed under; the file's deadline holds either way."""
    return sample_timed_frames(path, info, n_frames, size, limits).frames


def sample_timed_frames(path: Path, info: MediaInfo, n_frames: int, size: tuple[int, int],
                        limits: MediaLimits | None = None) -> SampledFrames:
    """`sample_frames`, with each frame's time."""
    return sample_frames_with(path, info, n_frames, size, None, limits)[0]


def sample_frames_with(path: Path, info: MediaInfo, n_frames: int, size: tuple[int, int],
                       passenger: Passenger | None, limits: MediaLimits | None = None
                       ) -> tuple[SampledFrames, Output | None]:
    """`sample_timed_frames`, and the output of the process `passenger` rode in (its `side`); None when it
    could not ride (the one-pass fallback, or too many decoders for one process at this frame size)."""
    limits = limits or info.limits
    deadline = info.deadline.capped(limits.timeout_s)
    if n_frames < 1 or size[0] < 1 or size[1] < 1:
        raise ValueError(f"need n_frames >= 1 and a positive size, got {n_frames} and {size}")
    name, path = local_file(path)
    index = packet_index(path, name, info, limits, deadline)
    check_complete(name, "video", index.covered_s, info.video_duration_s)
    targets = (np.arange(n_frames) + 0.5) * info.duration_s / n_frames
    source = (info.width, info.height)
    carried = None
    if len(index.keyframes) >= n_frames:
        chosen = index.keyframes[_nearest_distinct(index.keyframes, targets)]
        frames, carried = _decode_at_times(path, name, info, chosen, size, limits, deadline, passenger)
        if len(frames) == n_frames:
            return SampledFrames(frames, chosen - index.first_s, source), carried
    frames = _decode_at_targets(path, name, info, n_frames, size, limits, deadline)
    # a video stream shorter than n frames yields fewer: repeat the last one (always a writable copy)
    times = np.concatenate([targets[:len(frames)], np.repeat(targets[len(frames) - 1], n_frames - len(frames))])
    return SampledFrames(np.concatenate([frames, np.repeat(frames[-1:], n_frames - len(frames), axis=0)]),
                         times, source), carried


def packet_index(path: Path, name: str, info: MediaInfo, limits: MediaLimits, deadline: Deadline) -> PacketIndex:
    """The video stream's keyframe times and how far its packets reach, read from its index (no decoding),
    once per probe and limits."""
    return info.memo.get(("packet_index", path, limits), lambda: _read_packet_index(path, name, info, limits, deadline))


def _read_packet_index(path: Path, name: str, info: MediaInfo, limits: MediaLimits,
                       deadline: Deadline) -> PacketIndex:
    max_packets = plausible_packets(info.duration_s)
    cmd = ffprobe_cmd(path, "-f", demuxer(info), "-select_streams", "V:0",
                      "-show_entries", "packet=pts_time,duration_time,flags", "-of", "csv=p=0")
    result = run(cmd, deadline, f"{name}: reading the keyframe index", max_packets * INDEX_LINE_BYTES,
                 limits.max_memory_mb)
    lines = result.stdout.decode(errors="replace").splitlines()
    if result.overflowed or len(lines) > max_packets:
        raise InvalidMediaError(f"{name}: the index lists more than {max_packets} video packets in "
                                f"{info.duration_s:.1f} s; refusing an implausible file")
    keyframes, starts, ends = [], [], []
    for line in lines:
        pts, duration, flags = (line.split(",") + ["", ""])[:3]
        start = finite_float(pts)
        if start is None:
            continue
        starts.append(start)
        ends.append(start + (finite_float(duration) or 0.0))
        if "K" in flags and "D" not in flags:  # D: before the edit list's start, never shown
            keyframes.append(start)
    covered = max(ends) - min(starts) if starts else 0.0
    return PacketIndex(np.unique(keyframes), covered, min(starts) if starts else 0.0)


def _decode_at_times(path: Path, name: str, info: MediaInfo, times: np.ndarray, size: tuple[int, int],
                     limits: MediaLimits, deadline: Deadline,
                     passenger: Passenger | None = None) -> tuple[np.ndarray, Output | None]:
    """The frames shown at `times` (packet times), fast when they are keyframes: each decodes alone; and
    the output of the process `passenger` rode in (None if it did not).

    May return fewer frames than times when a seek fails."""
    chunks = _chunks(times, passenger)
    inputs = [len(chunk) for chunk in chunks[:-1]] + [len(chunks[-1]) + (passenger.inputs if passenger else 0)]
    if passenger and max(inputs) * info.width * info.height > MAX_SEEK_PIXELS_PER_PROCESS:
        passenger, chunks = None, _chunks(times, None)
    riders = [None] * (len(chunks) - 1) + [passenger]

    def decode(chunk: np.ndarray, rider: Passenger | None) -> tuple[np.ndarray, Output | None]:
        frames = _seek_frames_output(path, info, chunk, size, limits)
        what, cap = f"{name}: decoding keyframes", len(chunk) * frame_bytes(size)
        if rider is None:
            return raw_frames(run(ffmpeg_cmd(frames, threads=1), deadline, what, cap, limits.max_memory_mb),
                              name, size, limits), None
        with SidePipe(rider.max_bytes) as side:
            cmd = ffmpeg_cmd(ffmpeg.merge_outputs(frames, rider.output(side.url)), threads=1)
            result = run(cmd, deadline, what, cap, limits.max_memory_mb, side)
        return raw_frames(result, name, size, limits), result

    with ThreadPoolExecutor(SEEK_PROCESSES) as pool:
        decoded = list(pool.map(decode, chunks, riders))
    return np.concatenate([frames for frames, _ in decoded]), decoded[-1][1]


def _chunks(times: np.ndarray, passenger: Passenger | None) -> list[np.ndarray]:
    """The times each seek process decodes; with a passenger, two processes open as many inputs each."""
    if passenger and SEEK_PROCESSES == 2 and passenger.inputs < len(times) <= 2 * MAX_SEEKS_PER_PROCESS:
        first = min(len(times) - 1, math.ceil((len(times) + passenger.inputs) / 2))  # the passenger's has one
        return [times[:first], times[first:]]
    per_process = min(MAX_SEEKS_PER_PROCESS, math.ceil(len(times) / SEEK_PROCESSES))
    return [times[i:i + per_process] for i in range(0, len(times), per_process)]


def _seek_frames_output(path: Path, info: MediaInfo, times: np.ndarray, size: tuple[int, int],
                        limits: MediaLimits):
    """One input per time, each a fast seek keeping the first frame at or after it, joined by concat."""
    singles = []
    for time_s in times:
        # seek_timestamp: -ss is the packet time itself, not an offset from the file's start time;
        # the stream info is known from probing, so each input skips decoding frames to find it
        source = ffmpeg.input(f"file:{path}", f=demuxer(info), ss=f"{time_s + SEEK_MARGIN_S:.6f}", seek_timestamp=1,
                              noaccurate_seek=None, nofind_stream_info=None, threads=1,
                              max_pixels=limits.max_pixels, **INPUT_GUARD)["V:0"]
        # a seek lands on the last keyframe at or before the time: drop the frames shown before the time
        # (also an open GOP's leading frames, which are decoded from missing references)
        singles.append(source.filter("select", "gte(t,-0.001)").trim(end_frame=1).setpts("PTS-STARTPTS")
                       .filter("scale", size[0], size[1]).filter("setsar", 1))
    return ffmpeg.concat(*singles, v=1, a=0).output("pipe:1", format="rawvideo", pix_fmt="rgb24",
                                                    fps_mode="passthrough")


def _decode_at_targets(path: Path, name: str, info: MediaInfo, n_frames: int, size: tuple[int, int],
                       limits: MediaLimits, deadline: Deadline) -> np.ndarray:
    """One full decode keeping the first frame at or after each target time (up to n_frames frames)."""
    per_second = n_frames / info.duration_s
    # target k is at (k + 0.5) / per_second: keep a frame where round(t * per_second) steps up
    crossed = f"gt(floor(t*{per_second:.9g}+0.5),if(isnan(prev_t),0,floor(prev_t*{per_second:.9g}+0.5)))"
    source = ffmpeg.input(f"file:{path}", f=demuxer(info), max_pixels=limits.max_pixels, **INPUT_GUARD)["V:0"]
    stream = source.filter("select", crossed).filter("scale", size[0], size[1])
    out = stream.output("pipe:1", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough",
                        **{"frames:v": n_frames})
    result = run(ffmpeg_cmd(out), deadline, f"{name}: decoding the video", n_frames * frame_bytes(size),
                 limits.max_memory_mb)
    frames = raw_frames(result, name, size, limits)
    if len(frames) == 0:
        raise InvalidMediaError(f"{name}: no video frame could be decoded{reason(result.stderr, path, name)}")
    return frames


def _nearest_distinct(times: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each target time, the index of the nearest frame not already taken (in time order)."""
    chosen: list[int] = []
    for target in targets:
        order = np.argsort(np.abs(times - target), kind="stable")
        chosen.append(next((int(i) for i in order if int(i) not in chosen), int(order[0])))
    return np.sort(np.array(chosen))


def frame_bytes(size: tuple[int, int], channels: int = 3) -> int:
    return size[0] * size[1] * channels


def raw_frames(result: Output, name: str, size: tuple[int, int], limits: MediaLimits, channels: int = 3) -> np.ndarray:
    """The whole frames ffmpeg wrote (a failing decode may still have produced some), (n, h, w, channels);
    refuses a stream whose decoder met frames over the pixel limit."""
    too_large = _OVER_PIXEL_LIMIT.search(result.stderr)
    if too_large:
        width, height = (int(v) for v in too_large.groups())
        raise InvalidMediaError(f"{name}: the video has {width}x{height} frames, over the limit of "
                                f"{limits.max_width}x{limits.max_height} ({limits.max_pixels} pixels)")
    each = frame_bytes(size, channels)
    usable = len(result.stdout) // each
    data = np.frombuffer(result.stdout[: usable * each], dtype=np.uint8)
    return data.reshape(usable, size[1], size[0], channels)
