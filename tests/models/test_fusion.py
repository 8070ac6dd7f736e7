import itertools

import numpy as np
import pytest

from models.fusion import LearnedFusion, MeanFusion, tune_thresholds
from models.genres import MOVIESCOPE

MODS = ["video", "audio", "poster", "text", "metadata"]


def make_scores(n=300, seed=0, strengths=(0.05, 0.1, 0.15, 0.35, 0.2)):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, len(MOVIESCOPE))) < 0.25).astype(float)
    noise = rng.random((n, len(MODS), len(MOVIESCOPE)))
    s = np.array(strengths)[None, :, None]
    return y, np.clip(s * y[:, None, :] + (1 - s) * noise, 0, 1)


@pytest.fixture(scope="module")
def learned():
    y, scores = make_scores()
    return LearnedFusion(MODS, fallback=np.full(len(MOVIESCOPE), 0.25)).fit(scores, y)


@pytest.mark.parametrize("present", [c for r in range(len(MODS) + 1) for c in itertools.combinations(range(len(MODS)), r)])
def test_every_subset_of_modalities(learned, present):
    _, scores = make_scores(n=8, seed=1)
    absent = [m for m in range(len(MODS)) if m not in present]
    scores[:, absent] = np.nan
    for fusion in (MeanFusion(MODS, fallback=np.full(len(MOVIESCOPE), 0.25)), learned):
        fused = fusion.predict(scores)
        assert fused.shape == (8, len(MOVIESCOPE)) and np.isfinite(fused).all()
        assert ((fused >= 0) & (fused <= 1)).all()
        if not present:
            assert np.allclose(fused, 0.25)


def test_mean_fusion_renormalises_over_present():
    scores = np.full((1, 3, len(MOVIESCOPE)), np.nan)
    scores[0, 0] = 0.2
    scores[0, 2] = 0.6
    assert np.allclose(MeanFusion(["a", "b", "c"]).predict(scores), 0.4)


def test_single_present_modality_keeps_its_ranking(learned):
    _, scores = make_scores(n=50, seed=2)
    only_text = np.full_like(scores, np.nan)
    only_text[:, 3] = scores[:, 3]
    fused = learned.predict(only_text)
    for g in range(len(MOVIESCOPE)):  # the learned calibration is monotonic per genre
        order = np.argsort(scores[:, 3, g])
        assert (np.diff(fused[order, g]) >= -1e-6).all()


def test_learned_weights_favour_the_informative_modality_and_beat_mean(learned):
    from training.metrics import evaluate_scores
    contributions = learned.contributions()
    assert max(contributions, key=contributions.get) == "text"
    assert sum(contributions.values()) == pytest.approx(1.0)
    assert (learned.weights_ >= 0).all() and np.allclose(learned.weights_.sum(axis=0), 1.0)
    y, scores = make_scores(seed=3)
    mean_map = evaluate_scores(y, MeanFusion(MODS).predict(scores), MOVIESCOPE)["map"]
    assert evaluate_scores(y, learned.predict(scores), MOVIESCOPE)["map"] > mean_map


def test_round_trip(learned):
    _, scores = make_scores(n=20, seed=4)
    scores[::3, 1] = np.nan
    again = LearnedFusion.from_dict(learned.to_dict())
    assert np.array_equal(again.predict(scores), learned.predict(scores))


def test_tune_thresholds_maximise_f1():
    y = np.zeros((10, len(MOVIESCOPE)))
    y[:4, 0] = 1
    scores = np.tile(np.linspace(1, 0, 10)[:, None], (1, len(MOVIESCOPE)))
    t = tune_thresholds(scores, y)
    assert ((scores[:, 0] >= t[0]) == (y[:, 0] == 1)).all()
    assert t[1] == 0.5  # no positive: keep the default


def test_tune_thresholds_pick_the_first_best_f1_as_sklearn_scores_it():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    for trial in range(50):
        n, k = int(rng.integers(2, 50)), int(rng.integers(1, 5))
        scores = rng.random((n, k)).astype(np.float32)
        scores = np.round(scores, 1) if trial % 2 else scores  # ties
        y = (rng.random((n, k)) < 0.3).astype(float)
        for g, t in enumerate(tune_thresholds(scores, y)):
            if not y[:, g].any():
                continue
            values = np.unique(scores[:, g])
            candidates = np.concatenate([(values[:-1] + values[1:]) / 2, values[:1]])
            f1 = [f1_score(y[:, g] > 0.5, scores[:, g] >= c, zero_division=0) for c in candidates]
            assert t == candidates[int(np.argmax(f1))]


def test_rejects_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        MeanFusion(MODS).predict(np.zeros((2, 3, len(MOVIESCOPE))))
