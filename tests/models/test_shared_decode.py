"""One decode for the frame and the motion readers of a trailer: the same frames as read apart, one ffmpeg
process fewer, and each read apart when nobody announced the other or the frames are too large to share."""

import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from real_media import CLIPS, DAMAGED, clip_path

from models.decode import Decode
from models.media import frames, motion
from models.media.frames import FramesWanted, sample_timed_frames
from models.media.motion import RunsWanted, sample_frame_runs, sample_frames_and_runs

FRAMES, RUNS = FramesWanted(8, (64, 64)), RunsWanted(3, 6, 64)


@pytest.fixture(scope="module")
def trailer(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("shared") / "trailer.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=24:duration=12", "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "24", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """The ffmpeg processes started (each one's first output), in order."""
    started = []
    for module in (frames, motion):
        real = module.run

        def counted(cmd, *args, _real=real, **kwargs):
            if cmd[0] == "ffmpeg":
                started.append(cmd[-1])
            return _real(cmd, *args, **kwargs)

        monkeypatch.setattr(module, "run", counted)
    return started


def _apart(path: Path, n_frames: int = FRAMES.n_frames):
    info = Decode().probe(path)
    return (sample_timed_frames(path, info, n_frames, FRAMES.size),
            sample_frame_runs(path, info, RUNS.n_windows, RUNS.window_frames, RUNS.width))


def _same(a, b) -> None:
    (frames_a, runs_a), (frames_b, runs_b) = a, b
    assert np.array_equal(frames_a.frames, frames_b.frames) and np.array_equal(frames_a.times_s, frames_b.times_s)
    assert np.array_equal(runs_a.frames, runs_b.frames) and np.array_equal(runs_a.starts_s, runs_b.starts_s)


@pytest.mark.parametrize("n_frames", [8, 4, 2])  # the passenger opens 3 inputs: more, as many, fewer frames
def test_a_shared_decode_gives_the_frames_read_apart_in_one_process_fewer(trailer, decodes, n_frames):
    apart = _apart(trailer, n_frames)
    processes_apart = len(decodes)
    decodes.clear()
    shared = sample_frames_and_runs(trailer, Decode().probe(trailer), n_frames, FRAMES.size, RUNS)
    _same(apart, shared)
    assert (processes_apart, len(decodes)) == (3, 2)


def test_announced_readers_share_one_decode_whichever_asks_first(trailer, decodes):
    apart = _apart(trailer)
    decodes.clear()
    decode = Decode()
    decode.expect(trailer, FRAMES)
    decode.expect(trailer, RUNS)
    got = {}
    readers = [threading.Thread(target=lambda: got.update(frames=decode.frames(trailer, FRAMES))),
               threading.Thread(target=lambda: got.update(runs=decode.frame_runs(trailer, RUNS)))]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    _same(apart, (got["frames"], got["runs"]))
    assert len(decodes) == 2


def test_unannounced_reads_decode_apart(trailer, decodes):
    decode = Decode()
    decode.expect(trailer, FRAMES)  # the motion reader did not announce itself
    decode.frames(trailer, FRAMES)
    decode.frame_runs(trailer, RUNS)
    assert len(decodes) == 3


def test_frames_too_large_to_share_a_process_are_read_apart(trailer, decodes, monkeypatch):
    apart = _apart(trailer)
    decodes.clear()
    monkeypatch.setattr(frames, "MAX_SEEK_PIXELS_PER_PROCESS", 320 * 240 * 5)  # fewer than a shared process opens
    _same(apart, sample_frames_and_runs(trailer, Decode().probe(trailer), FRAMES.n_frames, FRAMES.size, RUNS))
    assert len(decodes) == 3


@pytest.mark.parametrize("clip", [*CLIPS.values(), DAMAGED], ids=[*CLIPS, "damaged"])
def test_real_clips_give_the_same_frames_shared_or_apart(clip):
    # these short clips have few keyframes: most take the frames' one-pass fallback (the runs then decode
    # apart); bikes has the 4 keyframes for the runs to ride
    path, n_frames = clip_path(clip), 4
    info = Decode().probe(path)
    apart = (sample_timed_frames(path, info, n_frames, (160, 160)), sample_frame_runs(path, info, 3, 12, 160))
    _same(apart, sample_frames_and_runs(path, Decode().probe(path), n_frames, (160, 160), RunsWanted(3, 12, 160)))
