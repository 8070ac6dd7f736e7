"""Per-genre AP, mAP, uAP (micro) and sAP (samples), as in the paper's Table 3.

All numbers are scikit-learn's `average_precision_score`. One rule on top of it:
a genre with no positive movie in the evaluated set has no defined AP. It is
reported as None and left out of mAP (scikit-learn would count it as 0 and pull
mAP down for a reason unrelated to the model). Likewise a movie with no genre
is left out of sAP. uAP pools every (movie, genre) pair and needs no such rule.
Columns are in the order of the model's label set (models.genres.GenreSet).
"""

import numpy as np
from sklearn.metrics import average_precision_score, f1_score

from models.genres import GenreSet


def evaluate_scores(y_true: np.ndarray, y_score: np.ndarray, genres: GenreSet,
                    y_pred: np.ndarray | None = None) -> dict:
    """Metrics of one score matrix against (n, len(genres)) multi-hot labels. Fractions in [0, 1]."""
    y_true, y_score = _check(y_true, y_score, len(genres))
    has_pos = y_true.sum(axis=0) > 0
    per_genre = {g: None for g in genres}
    if has_pos.any():
        aps = average_precision_score(y_true[:, has_pos], y_score[:, has_pos], average=None)
        for g, ap in zip(np.array(genres.names)[has_pos], np.atleast_1d(aps), strict=True):
            per_genre[str(g)] = float(ap)
    defined = [ap for ap in per_genre.values() if ap is not None]
    labelled = y_true.sum(axis=1) > 0
    result = {
        "per_genre_ap": per_genre,
        "map": float(np.mean(defined)) if defined else None,
        "micro_ap": float(average_precision_score(y_true, y_score, average="micro")) if y_true.any() else None,
        "samples_ap": _samples_ap(y_true[labelled], y_score[labelled]),
    }
    if y_pred is not None:
        result["micro_f1"] = float(f1_score(y_true, y_pred, average="micro", zero_division=0))
        result["macro_f1"] = float(f1_score(y_true[:, has_pos], y_pred[:, has_pos], average="macro", zero_division=0))
    return result


def mean_ap(y_true: np.ndarray, y_score: np.ndarray) -> float | None:
    """mAP alone: the mean AP over the genres (columns) with a positive; None when none has one."""
    y_true, y_score = _check(y_true, y_score, np.shape(y_true)[-1])
    has_pos = y_true.sum(axis=0) > 0
    if not has_pos.any():
        return None
    return float(np.mean(np.atleast_1d(average_precision_score(y_true[:, has_pos], y_score[:, has_pos], average=None))))


def positive_share(y_true: np.ndarray, genres: GenreSet) -> dict[str, float]:
    """Fraction of movies carrying each genre (the paper's '% of training samples' row, as a fraction)."""
    share = np.asarray(y_true, dtype=float).mean(axis=0) if len(y_true) else np.zeros(len(genres))
    return {g: float(s) for g, s in zip(genres, share, strict=True)}


def prior_scores(train_share: dict[str, float], n: int) -> np.ndarray:
    """The constant predictor: every movie scores each genre by its training share (in the dict's order)."""
    return np.tile(np.array(list(train_share.values())), (n, 1))


def _samples_ap(y_true: np.ndarray, y_score: np.ndarray) -> float | None:
    if len(y_true) == 0:
        return None
    return float(average_precision_score(y_true, y_score, average="samples"))


def _check(y_true: np.ndarray, y_score: np.ndarray, n_genres: int) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.ndim != 2 or y_true.shape[1] != n_genres:
        raise ValueError(f"expected two (n, {n_genres}) arrays, got {y_true.shape} and {y_score.shape}")
    if not np.isfinite(y_score).all():
        raise ValueError("scores contain NaN or infinity")
    return (y_true > 0.5).astype(int), y_score
