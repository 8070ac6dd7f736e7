import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from models.genres import MOVIESCOPE
from training.metrics import evaluate_scores, positive_share, prior_scores


def random_case(seed, n=40):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, len(MOVIESCOPE))) < 0.3).astype(int)
    y[np.arange(n), rng.integers(0, len(MOVIESCOPE), n)] = 1  # every movie and (almost surely) genre labelled
    y[0, :] = 1
    return y, rng.random((n, len(MOVIESCOPE)))


@pytest.mark.parametrize("seed", range(5))
def test_matches_sklearn_on_random_inputs(seed):
    y, s = random_case(seed)
    m = evaluate_scores(y, s, MOVIESCOPE)
    assert m["map"] == pytest.approx(average_precision_score(y, s, average="macro"), abs=1e-12)
    assert m["micro_ap"] == pytest.approx(average_precision_score(y, s, average="micro"), abs=1e-12)
    assert m["samples_ap"] == pytest.approx(average_precision_score(y, s, average="samples"), abs=1e-12)
    per = average_precision_score(y, s, average=None)
    assert [m["per_genre_ap"][g] for g in MOVIESCOPE] == pytest.approx(list(per), abs=1e-12)


def test_genre_without_positives_is_undefined_and_left_out_of_map():
    y, s = random_case(0)
    y[:, 2] = 0
    m = evaluate_scores(y, s, MOVIESCOPE)
    assert m["per_genre_ap"][MOVIESCOPE[2]] is None
    kept = [i for i in range(len(MOVIESCOPE)) if i != 2]
    assert m["map"] == pytest.approx(average_precision_score(y[:, kept], s[:, kept], average="macro"))


def test_movie_without_genres_is_left_out_of_sap():
    y, s = random_case(1)
    y[3, :] = 0
    m = evaluate_scores(y, s, MOVIESCOPE)
    rows = [i for i in range(len(y)) if i != 3]
    assert m["samples_ap"] == pytest.approx(average_precision_score(y[rows], s[rows], average="samples"))


def test_perfect_ties_and_f1():
    y, _ = random_case(2)
    perfect = evaluate_scores(y, y.astype(float), MOVIESCOPE, y_pred=y)
    assert perfect["map"] == perfect["micro_ap"] == perfect["samples_ap"] == 1.0
    assert perfect["micro_f1"] == perfect["macro_f1"] == 1.0
    constant = evaluate_scores(y, np.full(y.shape, 0.5), MOVIESCOPE)
    assert constant["per_genre_ap"]["Action"] == pytest.approx(y[:, 0].mean())


def test_prior_row_equals_positive_rate():
    y, _ = random_case(3)
    share = positive_share(y, MOVIESCOPE)
    m = evaluate_scores(y, prior_scores(share, len(y)), MOVIESCOPE)
    for g, rate in share.items():
        assert m["per_genre_ap"][g] == pytest.approx(rate)


def test_rejects_bad_shapes_and_nan():
    y, s = random_case(4)
    with pytest.raises(ValueError, match="shape|expected"):
        evaluate_scores(y[:, :5], s[:, :5], MOVIESCOPE)
    s[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        evaluate_scores(y, s, MOVIESCOPE)
