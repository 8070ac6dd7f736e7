"""The motion stream served: a small model of frames and motion answers /v1/predict and /v1/explain on the
real clips (tests/real_media.py) with finite motion scores and a motion time line the page can draw."""

import json
import math
import shutil

import pytest
from real_media import CLIPS, clip_path

from training.config import load_config
from training.train import train

pytestmark = pytest.mark.slow
MOTION = {"n_windows": 3, "window_frames": 4, "width": 32, "epochs": 3, "hidden": (16, 8), "conv_channels": 8}
MODELS = {"video": {"params": {"frame_size": 32, "n_frames": 4, "epochs": 5}},
          "motion": {"params": MOTION}, "metadata": {"params": {"n_estimators": 10}},
          **{name: None for name in ("video_tempconv", "video_lstm", "video_bilstm", "audio", "poster", "text",
                                     "text_fasttext", "text_minilm", "text_title", "text_conv1d", "metadata_rf")}}


@pytest.fixture(scope="module")
def motion_server(tiny_dataset, tiny_artifacts, tmp_path_factory, start_module_server):
    root = tmp_path_factory.mktemp("motion")
    shutil.copytree(tiny_artifacts.parent / "cache", root / "cache")  # the video features: decoded once
    config = root / "config.json"
    config.write_text(json.dumps({"models": MODELS, "min_genre_positives": 0}))
    train(tiny_dataset, root / "artifacts", load_config(config), "cpu", root / "cache")
    return start_module_server(root / "artifacts").wait_ready()


@pytest.mark.parametrize("name", list(CLIPS))
def test_real_clips_are_scored_and_explained_by_their_motion(motion_server, name):
    r = motion_server.predict(clip_path(CLIPS[name]), route="/v1/explain")
    assert r.status_code == 200, f"{name}: {r.status_code} {r.text}"
    body = r.json()
    assert body["used_modalities"] == ["video", "motion"]
    assert all(math.isfinite(score) and 0 <= score <= 1 for score in body["modalities"]["motion"].values())
    explanation = body["explanation"]
    motion = explanation["motion"]
    assert len(motion["times_s"]) == MOTION["n_windows"] and motion["window_s"] > 0
    assert motion["times_s"] == sorted(motion["times_s"]) and motion["times_s"][-1] < CLIPS[name].duration_s
    for genre in explanation["genres"]:
        assert len(motion["importance"][genre]) == MOTION["n_windows"]
        assert explanation["fusion"][genre]["shares"]["motion"] >= 0
    for values in motion["measures"].values():
        assert len(values) == MOTION["n_windows"] and all(math.isfinite(v) and v >= 0 for v in values)
