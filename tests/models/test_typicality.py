"""Typicality (models/typicality.py) and what each encoder describes an input by; feature clipping (torch_fit)."""

import math

import numpy as np
import pytest
import torch

from models.metadata import MetadataEncoder
from models.poster import PosterEncoder
from models.text_linear import LinearTextEncoder
from models.torch_fit import Standardise
from models.typicality import FILE, Typicality, fit_typicality
from models.video import VideoEncoder


def _gaussian(n: int, seed: int, d: int = 20) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(99).normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mixing + 5.0


@pytest.fixture(scope="module")
def fitted() -> Typicality:
    return Typicality(components=8).fit(_gaussian(1000, 0), _gaussian(200, 1))


def test_about_one_in_a_hundred_in_distribution_inputs_is_flagged(fitted):
    fresh = [fitted.judge(x) for x in _gaussian(2000, 2)]
    share = np.mean([j.out_of_distribution for j in fresh])
    assert 0.002 <= share <= 0.03
    assert 40 <= np.median([j.percentile for j in fresh]) <= 60
    assert fitted.describe() == {"n_train": 1000, "n_held_out": 200, "n_calibration": 1200, "dimensions": 20,
                                 "components": 8}


def test_a_far_input_is_flagged_at_the_top_percentile_and_the_threshold_is_settable(fitted):
    far = _gaussian(1, 3)[0] + 8.0
    judgement = fitted.judge(far)
    assert judgement.out_of_distribution and judgement.percentile == 100.0 and judgement.threshold == 99.0
    typical = next(x for x in _gaussian(50, 4) if 40 < fitted.judge(x).percentile < 60)
    assert not fitted.judge(typical).out_of_distribution
    assert fitted.judge(typical, percentile=20.0).out_of_distribution  # a stricter threshold flags more


def test_a_direction_training_never_varied_in_is_caught_by_the_residual():
    X = np.random.default_rng(0).normal(size=(200, 10))
    X[:, 9] = X[:, 0]  # the 10th dimension only ever copies the first
    model = Typicality(components=9).fit(X[:150], X[150:])  # the 9 directions it varies in; the 10th is residual
    odd = X[0].copy()
    odd[9] = -odd[0] + 3.0
    assert model.judge(odd).out_of_distribution and not model.judge(X[1]).out_of_distribution


def test_a_nearly_constant_training_dimension_does_not_make_every_input_atypical():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 10))
    X[:, 3] = 1e-9 * rng.normal(size=200)  # a feature that barely varies in training (a dead CNN channel)
    model = Typicality(components=4).fit(X[:150], X[150:])
    new = rng.normal(size=(100, 10))
    new[:, 3] = 1e-3 * rng.normal(size=100)
    assert np.mean([model.judge(x).out_of_distribution for x in new]) < 0.1


def test_missing_dimensions_count_as_typical_and_the_deviating_one_is_named(fitted):
    x = np.full(20, np.nan)
    x[4] = fitted.mean_[4] + 40 * fitted.scale_[4]
    judgement = fitted.judge(x)
    assert judgement.out_of_distribution and judgement.dimension == 4 and judgement.value == x[4]
    assert not fitted.judge(np.where(np.arange(20) == 4, fitted.mean_, np.nan)).out_of_distribution


def test_saved_as_plain_arrays_and_loaded_to_the_same_judgements(fitted, tmp_path):
    fitted.save(tmp_path)
    with np.load(tmp_path / FILE, allow_pickle=False) as data:
        assert {"mean_", "components_", "precision_", "calibration_"} <= set(data.files)
    loaded = Typicality.load(tmp_path)
    for x in _gaussian(20, 5):
        assert loaded.judge(x) == fitted.judge(x)
    assert Typicality.load(tmp_path / "nothing-here") is None


def test_each_media_encoder_describes_an_input_by_a_fixed_vector():
    frames = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float16)
    vector = VideoEncoder().typicality_vector(frames)
    assert vector.shape == (12,) and np.allclose(vector[:6], frames.astype(np.float32).mean(axis=0))
    assert PosterEncoder().typicality_vector(frames[0]).shape == (6,)
    assert fit_typicality(VideoEncoder(), [frames] * 3, None) is None  # too few training inputs to say anything


def test_the_word_models_count_known_words_leaving_each_training_text_out():
    texts = ["the heist crew plans a vault job", "the crew cracks the vault", "a vault a heist", "zebra"]
    encoder = LinearTextEncoder(ngram_candidates=((1, 1),), calibration_folds=2).set_genres(["Heist", "Other"])
    encoder.fit_features(texts, np.array([[1, 0], [1, 0], [0, 1], [0, 1]]))
    known_share = [v[0] for v in encoder.training_typicality_vectors(texts)]
    assert known_share[3] == 0.0 and known_share[2] == 1.0  # "zebra" is in the vocabulary only thanks to itself
    assert encoder.typicality_vector("zebra")[0] == 1.0
    assert encoder.typicality_vector("an unknown sentence entirely")[0] == 0.0


def test_metadata_far_outside_the_training_range_is_flagged_naming_the_field():
    rng = np.random.default_rng(0)
    rows = [{"year": int(y), "runtime_min": float(r), "content_rating": "R"}
            for y, r in zip(rng.integers(1990, 2017, 80), rng.normal(110, 15, 80), strict=True)]
    encoder = MetadataEncoder(n_estimators=5).fit_features(rows[:60], rng.integers(0, 2, (60, 13)))
    encoder.typicality_ = fit_typicality(encoder, rows[:60], rows[60:])
    judge = lambda fields: encoder.judge(fields, 99.0)
    assert not judge(rows[70]).out_of_distribution
    for field, value in (("runtime_min", 900), ("year", 1870)):
        judgement = judge({**rows[70], field: value})
        reason = encoder.typicality_reason(judgement)
        assert judgement.out_of_distribution and f"{field} = {value}" in reason and "far outside" in reason
    assert judge({"content_rating": "PG"}) is None  # no number to judge: unknown, not typical


def test_clipping_keeps_a_far_input_from_saturating_and_old_heads_load_unclipped():
    torch.manual_seed(0)
    X = [np.random.default_rng(i).normal(size=16).astype(np.float32) for i in range(60)]
    Y = np.random.default_rng(0).integers(0, 2, (60, 13))
    encoder = PosterEncoder(epochs=30, hidden=32).fit_features(X, Y)
    far = [x * 1e4 for x in X[:5]]
    clipped, inside = encoder.predict_features(far), encoder.predict_features(X)
    assert ((clipped > 0) & (clipped < 1)).all()
    state = {k: v for k, v in encoder.head_.state_dict().items() if k not in ("norm.low", "norm.high")}
    encoder.head_.load_state_dict(state)  # a head.pt saved before the bounds existed
    assert torch.isinf(encoder.head_.norm.high).all()
    unclipped = encoder.predict_features(far)
    assert ((unclipped == 0) | (unclipped == 1)).any()  # what the bounds prevent
    assert np.array_equal(encoder.predict_features(X), inside)  # the training inputs are never clipped


def test_standardise_without_bounds_is_exactly_the_old_scaling():
    norm = Standardise(3)
    norm.load_state_dict({"mean": torch.tensor([1.0, 2.0, 3.0]), "std": torch.tensor([2.0, 2.0, 2.0])})
    x = torch.tensor([[1e6, -1e6, 3.0]])
    assert torch.equal(norm(x), (x - norm.mean) / norm.std)
    fitted = Standardise(3).fit(torch.tensor([[0.0, 0.0, 0.0], [2.0, 4.0, 6.0]]))
    half = math.sqrt(0.5)  # the training rows standardise to -half and +half: bounds at 3 half, their width beyond
    assert torch.allclose(fitted(x), torch.tensor([[3 * half, -3 * half, 0.0]]))
