"""One contract, every model spec of the default config (timm-style): each is checked the same way on a
tiny dataset, so the per-encoder test files test only what is particular to their encoder. Each runs
twice: with the 13 Moviescope genres, and with a label set of a catalogue's own (other names, other
order, fewer genres)."""

import json

import numpy as np
import pytest

from models.base import CONFIG_FILE
from models.bundle import Bundle
from models.encoders import ENCODER_CLASSES
from models.genres import MOVIESCOPE, GenreSet
from training.config import every_model_at_cpu_size
from training.dataset import labels, load_dataset
from training.synth import synthesize

SPECS = every_model_at_cpu_size()
VIDEO = {"frame_size": 32, "n_frames": 4, "epochs": 3, "hidden": (16, 8)}
TINY = {  # model name -> parameters over its spec's, to keep each fit to a second or two
    "video": VIDEO,
    "video_tempconv": {**VIDEO, "conv_channels": 8},
    "video_lstm": {**VIDEO, "lstm_hidden": 8},
    "video_bilstm": {**VIDEO, "lstm_hidden": 8},
    "video3d": {"n_windows": 3, "window_frames": 4, "width": 32, "clip_size": 16, "channels": (4, 8), "hidden": 8,
                "epochs": 3},
    "motion": {"n_windows": 3, "window_frames": 4, "width": 32, "epochs": 3, "hidden": (16, 8), "conv_channels": 8},
    "audio": {"n_mels": 16, "clip_seconds": 1.0, "n_clips": 2, "epochs": 2},
    "poster": {"image_size": 32, "epochs": 3},
    "text": {"calibration_folds": 2},
    "text_title": {},
    "text_fasttext": {"epoch": 5, "dim": 10},
    "text_fasttext_glove": {"epoch": 5},
    "text_minilm": {},
    **{name: {"epochs": 3} for name in ("text_conv1d", "text_lstm", "text_bilstm")},
    "metadata": {"n_estimators": 10},
    "metadata_rf": {"n_trees": 10},
}


# a catalogue's own label set: each of its genres is one or more Moviescope genres
OWN = {"Western": ("Action", "Crime"), "Drama": ("Drama",), "Chiller": ("Horror", "Thriller", "Mystery"),
       "Comedy": ("Comedy", "Family", "Animation"), "Action": ("Sci-Fi", "Fantasy", "Action")}
LABEL_SETS = {"moviescope": MOVIESCOPE, "own": GenreSet(tuple(OWN))}


def own_labels(y: np.ndarray) -> np.ndarray:
    columns = [y[:, [MOVIESCOPE.index(g) for g in parts]].max(axis=1) for parts in OWN.values()]
    return np.stack(columns, axis=1)


def build(name: str):
    spec = SPECS[name]
    return ENCODER_CLASSES[spec.encoder](**{**spec.params, **TINY[name]})


def test_every_model_spec_and_every_encoder_class_is_covered():
    assert set(TINY) == set(SPECS)
    assert {spec.encoder for spec in SPECS.values()} == set(ENCODER_CLASSES)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    synthesize(root, n=10, seed=3, duration=2.0, size=(64, 48), progress=False)
    movies = load_dataset(root).movies
    return [m.bundle for m in movies], labels(movies, MOVIESCOPE)


@pytest.fixture(scope="module")
def feature_sets() -> dict:
    """feature key -> features of the tiny movies: models with the same key (the video ones) share them."""
    return {}


@pytest.fixture(scope="module", params=[(name, labels) for labels in LABEL_SETS for name in sorted(SPECS)],
                ids=lambda p: f"{p[0]}-{p[1]}")
def fitted(request, tiny, feature_sets):
    """(encoder fitted on the movies that have its modality, those movies, their features, their labels)."""
    bundles, y = tiny
    name, label_set = request.param
    y = own_labels(y) if label_set == "own" else y
    encoder = build(name).set_genres(LABEL_SETS[label_set])
    present = [i for i, b in enumerate(bundles) if encoder.has_input(b)]
    key = encoder.feature_key()
    if key not in feature_sets:
        feature_sets[key] = [encoder.features(bundles[i]) for i in present]
    X, Y = feature_sets[key], y[present]
    assert encoder.fit_features(X, Y) is encoder
    return encoder, [bundles[i] for i in present], X, Y


def test_predict_proba_shape_range_and_order(fitted):
    encoder, bundles, X, _ = fitted
    proba = encoder.predict_proba(bundles[:3])  # from the bundles: decode, embed, predict
    assert proba.shape == (3, len(encoder.genres_)) and proba.dtype == np.float32
    assert ((proba >= 0) & (proba <= 1)).all()
    every = encoder.predict_features(X)
    assert np.allclose(proba, every[:3], atol=1e-5)
    assert np.allclose(encoder.predict_features(X[1:2])[0], every[1], atol=1e-5)  # a row does not depend on its batch
    assert encoder.predict_proba([]).shape == (0, len(encoder.genres_))


@pytest.mark.parametrize("name", sorted({spec.encoder: name for name, spec in SPECS.items()}.values()))
def test_fit_from_bundles_returns_self(name, tiny):
    """Encoder.fit (features, then fit_features) once per class: models of one class share it."""
    bundles, y = tiny
    encoder = build(name)
    present = [i for i, b in enumerate(bundles) if encoder.has_input(b)]
    assert encoder.fit([bundles[i] for i in present], y[present]) is encoder


def test_save_load_gives_identical_probabilities(fitted, tmp_path):
    encoder, _, X, _ = fitted
    encoder.save(tmp_path / "model")
    again = type(encoder).load(tmp_path / "model")
    assert again.get_params() == encoder.get_params() and again.genres_ == encoder.genres_
    assert again.feature_key() == encoder.feature_key()
    assert np.array_equal(again.predict_features(X), encoder.predict_features(X))
    assert not list((tmp_path / "model").glob(".*"))  # no temporary files left behind


def test_a_changed_feature_key_is_refused(fitted, tmp_path):
    encoder, *_ = fitted
    encoder.save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / CONFIG_FILE).read_text())
    (tmp_path / "model" / CONFIG_FILE).write_text(json.dumps({**config, "feature_key": "0" * 16}))
    with pytest.raises(ValueError, match="feature extractor differs"):
        type(encoder).load(tmp_path / "model")


def test_parameters_round_trip(fitted):
    encoder, *_ = fitted
    params = encoder.get_params()
    assert json.loads(json.dumps(params)) == params  # what config.json stores
    again = type(encoder)(**params)
    assert again.get_params() == params and again.feature_key() == encoder.feature_key()


def test_has_input_is_false_without_the_modality(fitted):
    encoder, *_ = fitted
    assert not encoder.has_input(Bundle(id="empty"))


def test_explain_answers_for_the_asked_genres_in_json(fitted):
    encoder, bundles, *_ = fitted
    raw = next(r for r in (encoder.load_input(b) for b in bundles) if r is not None)
    out = encoder.explain(raw, ["Drama", "Action"])
    text = json.dumps(out, allow_nan=False)
    by_genre = out.get("importance", out) if encoder.modality != "poster" else {h["genre"]: h for h in out["heatmaps"]}
    assert list(by_genre) == ["Drama", "Action"], text[:300]
