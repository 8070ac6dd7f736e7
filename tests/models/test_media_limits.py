"""models.media against files that lie: bounded index reads, children and output, one deadline per file,
the pixel limit on decoded frames, and data that ends before the declared duration."""

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from media_fixtures import run_ffmpeg

from models.media import InvalidMediaError, MediaLimits, extract_audio, frames, probe, sample_frames
from models.media.limits import Deadline
from models.media.process import STDERR_KEEP, SidePipe, run

SIZE = (32, 24)


def test_a_header_listing_millions_of_samples_is_refused_at_probing(hostile_media):
    path = hostile_media["many_samples"]  # ~10 KB; its sample table lists 2,000,000 packets over 20 s
    assert path.stat().st_size < 100_000
    start = time.monotonic()
    with pytest.raises(InvalidMediaError, match=r"lists 2000000 video frames in 20\.0 s"):
        probe(path)
    assert time.monotonic() - start < 30  # before: about 100 s of index reading and decoding


def test_the_packet_index_is_read_only_as_far_as_a_plausible_video_goes(tmp_path, monkeypatch):
    """Containers that declare no frame count at probing (MKV) are bounded while their index is read."""
    path = tmp_path / "clip.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=32x24:rate=50", "-t", "12", "-c:v", "libx264",
               "-pix_fmt", "yuv420p", str(path))  # 600 packets, about 13 KB of index
    info = dataclasses.replace(probe(path), duration_s=0.1)  # as if it claimed 0.1 s: 200 packets at most
    outputs = []

    def recording_run(*args, **kwargs):
        outputs.append(real_run(*args, **kwargs))
        return outputs[-1]

    real_run = frames.run
    monkeypatch.setattr(frames, "run", recording_run)
    with pytest.raises(InvalidMediaError, match=r"more than 200 video packets in 0\.1 s"):
        sample_frames(path, info, 4, SIZE)
    assert outputs[0].overflowed and len(outputs[0].stdout) == 200 * frames.INDEX_LINE_BYTES  # then killed


def test_children_run_under_an_address_space_limit():
    output = run(["sh", "-c", "ulimit -v"], Deadline(10), "ulimit", max_stdout=100, memory_mb=700)
    assert output.stdout.decode().strip() == str(700 * 1024)  # KiB


def test_captured_output_is_bounded():
    noisy = "head -c 5000000 /dev/zero >&2; head -c 5000000 /dev/zero"
    output = run(["sh", "-c", noisy], Deadline(20), "noise", max_stdout=1000, memory_mb=700)
    assert len(output.stderr) == STDERR_KEEP and len(output.stdout) == 1000 and output.overflowed


def test_children_keep_to_two_malloc_arenas():
    # glibc reserves 64 MB of address space per thread's arena: ffmpeg's per-input threads used half the limit
    output = run(["sh", "-c", "echo $MALLOC_ARENA_MAX"], Deadline(10), "env", max_stdout=100, memory_mb=700)
    assert output.stdout.decode().strip() == "2"


def test_a_side_pipe_is_read_up_to_its_cap_and_closed():
    with SidePipe(cap=1000) as side:
        fd = side.write_fd
        output = run(["sh", "-c", f"echo main; head -c 5000000 /dev/zero > /dev/fd/{fd}"], Deadline(20), "side",
                     max_stdout=100, memory_mb=700, side=side)
        read_fd = side.read_fd
    assert output.stdout == b"main\n" and len(output.side) == 1000 and output.overflowed
    with pytest.raises(OSError):
        os.fstat(read_fd)  # both ends closed: nothing leaks per request


def test_a_child_past_the_deadline_is_stopped():
    start = time.monotonic()
    with pytest.raises(InvalidMediaError, match="sleeping timed out"):
        run(["sleep", "30"], Deadline(0.5), "sleeping", max_stdout=10, memory_mb=700)
    assert time.monotonic() - start < 5


def test_probe_and_decodes_share_one_deadline(tmp_path):
    """The limit holds for the file, not for each of its subprocesses."""
    path = tmp_path / "clip.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-f", "lavfi", "-i", "sine",
               "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    info = probe(path, MediaLimits(timeout_s=1.5))
    time.sleep(1.6)  # each decode alone would take well under 1.5 s
    with pytest.raises(InvalidMediaError, match="timed out"):
        sample_frames(path, info, 2, SIZE)
    with pytest.raises(InvalidMediaError, match="timed out"):
        extract_audio(path, info, 8000)


def test_the_pixel_limit_applies_to_decoded_frames(hostile_media):
    path = hostile_media["growing_frames"]
    limits = MediaLimits(max_width=640, max_height=480)
    info = probe(path, limits)
    assert (info.width, info.height) == (64, 48)  # what the header says
    with pytest.raises(InvalidMediaError, match="1920x1080") as caught:
        sample_frames(path, info, 4, SIZE)
    assert "640x480" in str(caught.value)
    assert sample_frames(path, probe(path), 4, SIZE).shape == (4, SIZE[1], SIZE[0], 3)  # within the defaults


def test_data_that_ends_early_is_refused(hostile_media):
    path = hostile_media["cut_short"]
    info = probe(path)  # the index at the front still says 4 s
    assert info.duration_s == pytest.approx(4, abs=0.1) and info.has_audio
    with pytest.raises(InvalidMediaError, match=r"video data ends at 1\.\d s of 4\.0 s"):
        sample_frames(path, info, 8, SIZE)
    with pytest.raises(InvalidMediaError, match=r"audio data ends at 1\.\d s of 4\.0 s"):
        extract_audio(path, info, 8000)


def test_a_soundtrack_shorter_than_the_video_is_not_truncation(tmp_path):
    path = tmp_path / "short_sound.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=4", "-f", "lavfi",
               "-i", "sine=duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    info = probe(path)
    assert len(extract_audio(path, info, 8000)) == pytest.approx(2 * 8000, rel=0.05)
    assert sample_frames(path, info, 4, SIZE).shape[0] == 4


BLAS_WHILE_SPAWNING = """
import threading, numpy as np
from models.media.limits import Deadline
from models.media.process import run
stop = threading.Event()
def blas():
    a = np.random.rand(400, 400)
    while not stop.is_set():
        a @ a
worker = threading.Thread(target=blas)
worker.start()
for _ in range(40):
    run(["true"], Deadline(10), "true", max_stdout=10, memory_mb=700)
stop.set()
worker.join()  # exiting while a thread is inside a BLAS call can hang in OpenBLAS's own shutdown
"""


def test_spawning_while_another_thread_is_in_blas_does_not_deadlock():
    # a fork() (as preexec_fn forces) runs OpenBLAS's at-fork handler, which waits forever for a BLAS
    # call running in another thread: training decodes the next trailer while it computes mel spectra
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", BLAS_WHILE_SPAWNING], cwd=root, timeout=60, capture_output=True,
                          check=False)
    assert done.returncode == 0, done.stderr.decode()[-500:]
