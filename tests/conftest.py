"""Shared fixtures: tiny real media, a tiny synthetic dataset, and artifacts trained on it."""

import json
import logging
import os
from pathlib import Path

import pytest
import torch
from media_fixtures import make_audio, make_video

torch.set_num_threads(2)
# The tiny models are trained on 16 synthetic movies, and the fixtures' media (a test pattern, a plain red poster)
# are unlike them: flagged out of distribution. The tests of everything but that fuse every part, as
# MOVIESCOPE_OOD_POLICY=keep does (servers and the CLI inherit it); tests/service/test_trust.py sets the default.
os.environ.setdefault("MOVIESCOPE_OOD_POLICY", "keep")
logging.getLogger("models.backbones").setLevel(logging.ERROR)

TINY_MODELS = {
    "video": {"params": {"frame_size": 32, "n_frames": 4, "epochs": 5}},
    "video_tempconv": {"params": {"frame_size": 32, "n_frames": 4, "epochs": 5}},
    "video_lstm": {"params": {"frame_size": 32, "n_frames": 4, "epochs": 5}},
    "video_bilstm": {"params": {"frame_size": 32, "n_frames": 4, "epochs": 5}},
    "audio": {"params": {"n_mels": 16, "clip_seconds": 1.0, "n_clips": 2, "epochs": 2}},
    "poster": {"params": {"image_size": 32, "epochs": 5}},
    "text": {"params": {"calibration_folds": 2}},
    "text_fasttext": {"params": {"epoch": 5, "dim": 10, "bucket": 10000}},
    "text_minilm": {"params": {}},
    "text_conv1d": {"params": {"epochs": 5}},
    "metadata": {"params": {"n_estimators": 10}},
    "metadata_rf": {"params": {"n_trees": 10}},
    "motion": None,  # served and explained in tests/service/test_motion_served.py, on a model of its own
}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    """Good and bad media files, made once per session."""
    root = tmp_path_factory.mktemp("media")
    make_video(root / "good.mp4", duration=2, gop=5)
    make_video(root / "silent.mp4", duration=2, gop=5, audio=False)
    make_video(root / "good.mkv", duration=2, gop=5, codec="libvpx-vp9")
    make_audio(root / "audio.m4a", duration=2)
    data = (root / "good.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (root / "empty.mp4").write_bytes(b"")
    (root / "text.mp4").write_text("just some text, not a video\n")
    (root / "playlist.mp4").write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nfile://{root / 'good.mp4'}\n#EXT-X-ENDLIST\n")
    (root / "concat.mp4").write_text(f"ffconcat version 1.0\nfile '{root / 'good.mp4'}'\n")
    from PIL import Image

    Image.new("RGB", (40, 60), (200, 30, 30)).save(root / "poster.jpg")
    Image.new("RGB", (40, 60), (30, 30, 200)).save(root / "poster.png")
    Image.new("RGB", (40, 60)).save(root / "poster.gif")
    return root


@pytest.fixture(scope="session")
def hostile_media(tmp_path_factory) -> dict[str, Path]:
    """MP4s that lie about themselves (see tests/hostile_media.py), made once per session."""
    import hostile_media as make

    root = tmp_path_factory.mktemp("hostile")
    return {"many_samples": make.many_samples_mp4(root / "many_samples.mp4"),
            "growing_frames": make.growing_frames_mp4(root / "growing_frames.mp4"),
            "cut_short": make.cut_short_mp4(root / "cut_short.mp4")}


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    from training.synth import synthesize

    root = tmp_path_factory.mktemp("tiny-data")
    synthesize(root, n=24, seed=0, duration=3.0, size=(96, 64), progress=False)
    return root


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.json"
    path.write_text(json.dumps({"models": TINY_MODELS, "min_genre_positives": 0}))  # keep all 13 genres
    return path


@pytest.fixture(scope="session")
def tiny_artifacts(tiny_dataset, tiny_config, tmp_path_factory) -> Path:
    from training.config import load_config
    from training.train import train

    out = tmp_path_factory.mktemp("tiny-run") / "artifacts"
    train(tiny_dataset, out, load_config(tiny_config), "cpu", out.parent / "cache")
    return out


@pytest.fixture(scope="session")
def ray_session():
    """One real local Ray instance for the session (Ray has no local mode: about 2-7 s and 0.8 GB)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()
