"""The 3D-CNN video encoder (models.video3d): it learns what only moves between frames, on tiny clips made
here; its predictions repeat, survive save and load, and its real decode is the motion reader's."""

import json

import numpy as np
import pytest
import torch
from media_fixtures import make_video
from sklearn.metrics import average_precision_score

from models import video3d
from models.bundle import Bundle
from models.decode import Decode
from models.genres import MOVIESCOPE
from models.media.motion import FrameRuns
from models.motion import MotionEncoder
from models.video import VideoEncoder
from models.video3d import PixelStandardise, Video3DEncoder

RUNS = {"n_windows": 3, "window_frames": 8, "width": 32}
TINY = {**RUNS, "clip_size": 16, "channels": (4, 8, 16), "hidden": 16, "dropout": 0.0, "lr": 1e-2,
        "epochs": 20, "batch_size": 16}
SIZE = (32, 24)  # a 4:3 run, squashed to clip_size squares
MOVING, BRIGHTENING = MOVIESCOPE.index("Action"), MOVIESCOPE.index("Drama")


def synthetic_runs(moving: bool, brightening: bool, rng: np.random.Generator) -> FrameRuns:
    """Grey runs of a blocky texture that slides sideways (moving) or stands still, lit evenly or getting
    brighter over each run (brightening): the run's average frame says nothing of either."""
    frames = RUNS["window_frames"]
    runs = []
    for _ in range(RUNS["n_windows"]):
        texture = np.kron(rng.uniform(0, 1, (SIZE[1] // 4, 3 * SIZE[0] // 4)), np.ones((4, 4)))  # 3 runs wide
        step = int(rng.choice([-3, 3])) if moving else 0
        start = SIZE[0] + int(rng.integers(-4, 5))
        light = np.linspace(0.4, 1.0, frames) if brightening else np.full(frames, 0.7)
        run = [texture[:, start + step * t: start + step * t + SIZE[0]] * light[t] for t in range(frames)]
        runs.append(np.stack(run) * 200 + rng.normal(0, 8, (frames, SIZE[1], SIZE[0])))
    starts = np.arange(RUNS["n_windows"], dtype=np.float64)
    return FrameRuns(np.clip(runs, 0, 255).astype(np.uint8), starts, fps=8.0)


@pytest.fixture(scope="module")
def data():
    """(features, labels) of 64 movies: 40 to train on, 8 to validate, the last 16 to test."""
    rng = np.random.default_rng(0)
    y = np.zeros((64, len(MOVIESCOPE)), dtype=np.float32)
    y[:, MOVING], y[:, BRIGHTENING] = rng.random(64) < 0.5, rng.random(64) < 0.5
    encoder = Video3DEncoder(**TINY)
    X = [encoder.embed(synthetic_runs(bool(row[MOVING]), bool(row[BRIGHTENING]), rng)) for row in y]
    return X, y


@pytest.fixture(scope="module")
def fitted(data) -> Video3DEncoder:
    X, y = data
    return Video3DEncoder(**TINY).fit_features(X[:40], y[:40], X[40:48], y[40:48])


def test_clips_are_compact_uint8_squares_padded_to_full_length(data):
    X, _ = data
    assert X[0].shape == (3, 8, 16, 16) and X[0].dtype == np.uint8
    short = FrameRuns(np.full((3, 5, 24, 32), 7, dtype=np.uint8), np.zeros(3), fps=8.0)  # a trailer too short
    clips = Video3DEncoder(**TINY).embed(short)
    assert clips.shape == (3, 8, 16, 16) and np.all(clips == 7)


def test_it_learns_what_only_moves_between_frames_above_the_prior(fitted, data):
    X, y = data
    proba = fitted.predict_features(X[48:])
    assert proba.shape == (16, len(MOVIESCOPE)) and proba.dtype == np.float32
    assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
    for genre in (MOVING, BRIGHTENING):
        prior = y[48:, genre].mean()
        assert average_precision_score(y[48:, genre], proba[:, genre]) > max(0.85, (1 + prior) / 2)


def test_save_load_gives_identical_predictions(fitted, data, tmp_path):
    X, _ = data
    fitted.save(tmp_path / "video3d")
    again = Video3DEncoder.load(tmp_path / "video3d")
    assert again.get_params() == fitted.get_params() and again.feature_key() == fitted.feature_key()
    assert np.array_equal(again.predict_features(X), fitted.predict_features(X))


def test_a_fit_repeats_with_its_seed_and_not_with_another(data):
    X, y = data
    def fit(seed: int) -> np.ndarray:
        encoder = Video3DEncoder(**{**TINY, "epochs": 3, "seed": seed}).fit_features(X[:24], y[:24])
        return encoder.predict_features(X[48:])

    first, second, other = fit(0), fit(0), fit(1)
    assert np.array_equal(first, second) and not np.array_equal(first, other)


def test_a_row_does_not_depend_on_its_batch(fitted, data):
    X, _ = data
    assert np.allclose(fitted.predict_features(X[50:51])[0], fitted.predict_features(X)[50], atol=1e-5)


def test_pixels_are_standardised_by_one_mean_and_spread():
    x = torch.randint(0, 256, (5, 3, 4, 6, 6), dtype=torch.uint8)
    norm = PixelStandardise().fit(x)
    flat = x.double().flatten()
    assert norm.mean.item() == pytest.approx(flat.mean().item())
    assert norm.std.item() == pytest.approx(flat.std().item())
    assert torch.allclose(norm(x), (x.float() - flat.mean().float()) / flat.std().float(), atol=1e-5)


def test_the_feature_key_follows_the_clips_and_not_the_network():
    key = Video3DEncoder(**TINY).feature_key()
    assert Video3DEncoder(**{**TINY, "channels": (8, 8), "epochs": 1}).feature_key() == key
    assert Video3DEncoder(**{**TINY, "clip_size": 24}).feature_key() != key
    assert Video3DEncoder(**TINY).feature_identity()["features_version"] == video3d.FEATURES_VERSION


def test_typicality_tells_a_moving_clip_from_a_still_one(data):
    X, y = data
    encoder = Video3DEncoder(**TINY)
    vectors = np.stack([encoder.typicality_vector(x) for x in X])
    assert vectors.shape == (64, 12) and np.isfinite(vectors).all()
    change = vectors[:, 4]  # the clips' mean frame-to-frame change
    assert change[y[:, MOVING] == 1].min() > change[y[:, MOVING] == 0].max()


# ---- a real decode ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trailer(tmp_path_factory) -> Bundle:
    root = tmp_path_factory.mktemp("video3d")
    return Bundle(id="t", trailer=make_video(root / "t.mp4", duration=4, size=(64, 48), audio=False, rate=8))


def test_a_real_trailer_decodes_once_with_the_motion_and_frame_readers(trailer):
    encoder, motion = Video3DEncoder(**TINY), MotionEncoder(**RUNS)
    decode = Decode()
    for reader in (VideoEncoder(frame_size=32, n_frames=4), motion, encoder):
        reader.announce_reads(trailer, decode)
    runs = encoder.load_input(trailer, decode)
    assert runs is motion.load_input(trailer, decode)  # one shared decode
    apart = encoder.load_input(trailer)
    assert np.array_equal(runs.frames, apart.frames) and runs.frames.shape[:2] == (3, 8)
    clips = encoder.embed(runs)
    assert clips.shape == (3, 8, 16, 16) and clips.dtype == np.uint8 and clips.std() > 0


def test_explanation_leaves_each_clip_out(fitted, trailer):
    runs = fitted.load_input(trailer)
    out = fitted.explain(runs, ["Action", "Drama"])
    json.dumps(out)
    assert out["times_s"] == pytest.approx(runs.starts_s.tolist(), abs=1e-3) and out["heatmaps"] == []
    assert out["window_s"] == pytest.approx(1.0)
    features = fitted.embed(runs)
    full = _logits(fitted, features)
    for genre in ("Action", "Drama"):
        j = MOVIESCOPE.index(genre)
        without = [_logits(fitted, np.delete(features, i, axis=0))[j] for i in range(len(features))]
        assert out["importance"][genre] == pytest.approx(full[j] - np.array(without), abs=1e-4)


def _logits(encoder: Video3DEncoder, features: np.ndarray) -> np.ndarray:
    proba = encoder.predict_features([features])[0].astype(np.float64)
    return np.log(proba / (1 - proba))
