"""Motion features: runs of grey frames decoded under the media limits, optical flow, camera motion, shot pace."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
import real_media

from models.media import InvalidMediaError, MediaLimits, probe
from models.media.frames import SEEK_MARGIN_S
from models.media.motion import at_keyframes, sample_frame_runs
from models.motion_features import MOTION_COLUMNS, motion_features

SIZE = (160, 120)
FPS = 24
COLUMN = {name: k for k, name in enumerate(MOTION_COLUMNS)}


def _scene(seed: int) -> np.ndarray:
    """A textured grey picture twice the clip's size (room to move a window over it)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (SIZE[1] // 8, SIZE[0] // 8), dtype=np.uint8)
    return np.kron(coarse, np.ones((16, 16), dtype=np.uint8))


def _write_clip(path: Path, frames) -> Path:
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray",
           "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(FPS), "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast",
           "-crf", "12", "-g", str(FPS), "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, input=b"".join(np.ascontiguousarray(f).tobytes() for f in frames), check=True, timeout=60)
    return path


def _features(path: Path) -> np.ndarray:
    return motion_features(sample_frame_runs(path, probe(path), n_windows=4, window_frames=12, width=160))


def _camera(offsets, scenes=None, frames_per_scene=None):
    """Frames of a window moved over a scene by `offsets` (x, y) pixels; a new scene every `frames_per_scene`."""
    for t, (dx, dy) in enumerate(offsets):
        scene = (scenes or [_scene(0)])[t // frames_per_scene if frames_per_scene else 0]
        x, y = 40 + round(dx), 30 + round(dy)
        yield scene[y:y + SIZE[1], x:x + SIZE[0]]


def test_a_still_picture_has_no_motion(tmp_path):
    features = _features(_write_clip(tmp_path / "still.mp4", _camera([(0, 0)] * FPS * 3)))
    assert np.isfinite(features).all()
    assert features[:, COLUMN["flow_speed"]].max() < 1e-3
    assert features[:, COLUMN["cuts_per_s"]].max() == 0


def test_a_pan_is_camera_motion_in_frame_widths_per_second(tmp_path):
    offsets = [((t * 2) % 40, 0) for t in range(FPS * 3)]  # 2 px a frame to the right, restarting every 20 frames
    features = _features(_write_clip(tmp_path / "pan.mp4", _camera(offsets)))
    window_speed = np.median(features[:, COLUMN["pan_x"]])
    # the picture moves left by 2 px a frame: 2 * 24 / 160 = 0.3 frame widths per second
    assert window_speed == pytest.approx(0.3, rel=0.2)
    assert np.median(features[:, COLUMN["pan_y"]]) < 0.05


def test_shake_is_told_from_a_steady_pan(tmp_path):
    rng = np.random.default_rng(1)
    jitter = [tuple(rng.integers(-3, 4, 2)) for _ in range(FPS * 3)]
    steady = [((t * 2) % 40, 0) for t in range(FPS * 3)]
    shaken = _features(_write_clip(tmp_path / "shake.mp4", _camera(jitter)))
    panned = _features(_write_clip(tmp_path / "pan.mp4", _camera(steady)))
    assert np.median(shaken[:, COLUMN["shake"]]) > 3 * np.median(panned[:, COLUMN["shake"]])


def test_cuts_are_counted(tmp_path):
    scenes = [_scene(seed) for seed in range(12)]
    held = _features(_write_clip(tmp_path / "held.mp4", _camera([(0, 0)] * FPS * 3)))
    cut = _features(_write_clip(tmp_path / "cut.mp4", _camera([(0, 0)] * FPS * 3, scenes, frames_per_scene=6)))
    assert held[:, COLUMN["cuts_per_s"]].sum() == 0
    assert cut[:, COLUMN["cuts_per_s"]].mean() == pytest.approx(FPS / 6, rel=0.35)


@pytest.mark.parametrize("clip", [*real_media.CLIPS.values(), real_media.DAMAGED], ids=lambda c: c.file)
def test_real_clips_give_finite_motion_features(clip):
    path = real_media.clip_path(clip)
    runs = sample_frame_runs(path, probe(path), n_windows=8, window_frames=16, width=160)
    assert runs.frames.shape[:2] == (8, 16) and runs.frames.shape[3] == 160
    features = motion_features(runs)
    assert features.shape == (8, len(MOTION_COLUMNS)) and np.isfinite(features).all()


def test_the_decode_keeps_the_pixel_limit_and_the_deadline(tmp_path):
    path = _write_clip(tmp_path / "still.mp4", _camera([(0, 0)] * FPS))
    with pytest.raises(InvalidMediaError, match="over the limit"):
        sample_frame_runs(path, probe(path), 2, 4, 160, limits=MediaLimits(max_width=64, max_height=64))
    with pytest.raises(InvalidMediaError, match="timed out"):
        sample_frame_runs(path, probe(path), 2, 4, 160, limits=MediaLimits(timeout_s=1e-6))


def test_runs_start_at_distinct_keyframes_within_reach():
    keyframes = np.array([0.0, 2.0, 4.0, 10.0])
    moved = at_keyframes(np.array([1.8, 2.3, 7.0, 9.5]), keyframes, reach_s=1.0, last_s=9.0)
    # 1.8 -> 2.0; 2.3 would take 2.0 again and stays; 7.0 has no keyframe within 1 s; 10.0 is past last_s
    assert moved == pytest.approx([2.0 + SEEK_MARGIN_S, 2.3, 7.0, 9.5])
