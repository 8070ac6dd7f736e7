"""One contract, every encoder class (timm-style): each is checked the same way on a tiny dataset."""

import json

import numpy as np
import pytest

from models.bundle import Bundle
from models.encoders import ENCODER_CLASSES
from models.genres import N_GENRES
from training.dataset import labels, load_dataset
from training.synth import synthesize

TINY = {
    "video": {"frame_size": 32, "n_frames": 4, "epochs": 3},
    "audio": {"n_mels": 16, "clip_seconds": 1.0, "n_clips": 2, "epochs": 2},
    "poster": {"image_size": 32, "epochs": 3},
    "text": {"epoch": 5, "dim": 10},
    "text_linear": {"calibration_folds": 2},
    "text_minilm": {},
    "metadata": {"n_estimators": 10},
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    synthesize(root, n=10, seed=3, duration=2.0, size=(64, 48), progress=False)
    movies = load_dataset(root).movies
    return [m.bundle for m in movies], labels(movies)


@pytest.fixture(scope="module", params=sorted(ENCODER_CLASSES))
def fitted(request, tiny):
    bundles, y = tiny
    encoder_class = ENCODER_CLASSES[request.param]
    encoder = encoder_class(**TINY[request.param])
    present = [i for i, b in enumerate(bundles) if encoder.has_input(b)]
    train = [bundles[i] for i in present]
    assert encoder.fit(train, y[present]) is encoder
    return encoder, train


def test_predict_proba_shape_range_and_order(fitted):
    encoder, bundles = fitted
    proba = encoder.predict_proba(bundles)
    assert proba.shape == (len(bundles), N_GENRES) and proba.dtype == np.float32
    assert ((proba >= 0) & (proba <= 1)).all()
    single = encoder.predict_proba(bundles[:1])  # a row does not depend on its batch
    assert np.allclose(single[0], proba[0], atol=1e-5)


def test_save_load_gives_identical_probabilities(fitted, tmp_path):
    encoder, bundles = fitted
    encoder.save(tmp_path / encoder.modality)
    again = type(encoder).load(tmp_path / encoder.modality)
    assert again.get_params() == encoder.get_params()
    assert again.feature_key() == encoder.feature_key()
    assert np.array_equal(again.predict_proba(bundles), encoder.predict_proba(bundles))


def test_has_input_is_false_without_the_modality(fitted):
    encoder, _ = fitted
    assert not encoder.has_input(Bundle(id="empty"))


def test_explain_answers_for_the_asked_genres_in_json(fitted):
    encoder, bundles = fitted
    raw = next(r for r in (encoder.load_input(b) for b in bundles) if r is not None)
    out = encoder.explain(raw, ["Drama", "Action"])
    text = json.dumps(out, allow_nan=False)
    by_genre = out.get("importance", out) if encoder.modality != "poster" else {h["genre"]: h for h in out["heatmaps"]}
    assert list(by_genre) == ["Drama", "Action"], text[:300]
