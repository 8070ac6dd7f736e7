"""Typicality: how much an input is like the inputs a model was trained on, and whether it lies outside them.

Each encoder describes one input by a vector (`Encoder.typicality_vector`: a trailer's frame features
averaged over its frames with their spread, a poster's CNN features, a soundtrack's loudness per mel band,
the share of a plot's words the model knows, a film's catalogue numbers, ...). `Typicality` models the
training inputs' vectors as one Gaussian, fitted with scikit-learn:

- each dimension centred and scaled by its training spread, the scale floored at SCALE_FLOOR x the median
  one (a feature that is nearly constant in training would otherwise put every new input infinitely far);
- the first `components` principal directions (PCA) with a Ledoit-Wolf shrunk covariance, the rest as
  isotropic noise of the variance PCA leaves out (probabilistic PCA), which is what a 2,622-d trailer
  description needs with 210 training trailers.

An input's score is its squared Mahalanobis distance under that Gaussian; a missing dimension (NaN: a
catalogue field not given) counts as typical. Scores are calibrated on held-out in-distribution inputs:
the validation inputs, and each training input scored by a Gaussian fitted without it (FOLDS-fold
cross-fitting; 30 validation trailers alone cannot place a 99th percentile). An input's percentile is the
share of those scores below its own; it is out of distribution when its score is above their
`percentile` quantile, so that about 1 in 100 in-distribution inputs is flagged at the default 99.
benchmarks/typicality.py measured this against a diagonal Gaussian, a full Ledoit-Wolf one and
nearest-neighbour distances (see BENCHMARKS.md). Stored as plain arrays in an .npz (no pickle).
"""

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA
from sklearn.model_selection import KFold

from models.files import atomic_path

FILE = "typicality.npz"
FORMAT = 1
COMPONENTS = 32
SCALE_FLOOR = 0.3
FOLDS = 5
MIN_TRAINING_INPUTS = 10  # fewer say too little about a modality's inputs: no typicality then
DEFAULT_PERCENTILE = 99.0
METHOD = ("Each input is described by a vector (per modality, below). Its squared Mahalanobis distance from the "
          "training inputs' vectors (a Gaussian: the first principal components with a Ledoit-Wolf shrunk covariance, "
          "the rest as isotropic noise) is ranked among held-out in-distribution inputs: the validation inputs, and "
          "each training input scored by a Gaussian fitted without it.")
_ARRAYS = ("mean_", "scale_", "components_", "precision_", "low_", "high_", "calibration_")


@dataclass(frozen=True)
class Judgement:
    """One input's typicality: its score, the share of held-out in-distribution inputs that score lower (in %),
    the percentile beyond which an input is out of distribution, and the verdict. `dimension` is the index of the
    vector's dimension that deviates most from training (None when none is given), `value` that entry."""

    score: float
    percentile: float
    threshold: float
    out_of_distribution: bool
    dimension: int | None = None
    value: float | None = None

    def as_dict(self) -> dict:
        return {"score": self.score, "percentile": self.percentile, "threshold_percentile": self.threshold,
                "out_of_distribution": self.out_of_distribution}


class Typicality:
    def __init__(self, components: int = COMPONENTS, scale_floor: float = SCALE_FLOOR, folds: int = FOLDS,
                 seed: int = 0):
        self.components, self.scale_floor, self.folds, self.seed = components, scale_floor, folds, seed

    # ---- fitting
    def fit(self, vectors, held_out=None) -> Self:
        """Fit on the training inputs' vectors; calibrate on `held_out` ones (validation) and cross-fitted scores."""
        X = _matrix(vectors)
        if len(X) < 2:
            raise ValueError(f"typicality needs at least 2 training inputs, got {len(X)}")
        self._fit_gaussian(X)
        held = self.score(held_out) if held_out is not None and len(held_out) else np.zeros(0)
        self.calibration_ = np.sort(np.concatenate([held, self._cross_fitted(X)]))
        self.n_train_, self.n_held_out_ = len(X), len(held)
        return self

    def _fit_gaussian(self, X: np.ndarray) -> None:
        with warnings.catch_warnings():  # all-NaN columns (a field no training row has) are handled below
            warnings.simplefilter("ignore", RuntimeWarning)
            self.mean_ = np.nan_to_num(np.nanmean(X, axis=0))
            spread = np.nan_to_num(np.nanstd(X, axis=0))
            self.low_, self.high_ = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        floor = self.scale_floor * float(np.median(spread))
        self.scale_ = np.maximum(spread, floor) if floor > 0 else np.where(spread > 0, spread, 1.0)
        Z = self._standardised(X)
        k = min(self.components, X.shape[1], max(1, (len(X) - 1) // 2))
        self.components_ = PCA(k, random_state=self.seed).fit(Z).components_
        projected = Z @ self.components_.T
        self.precision_ = LedoitWolf(assume_centered=True).fit(projected).precision_
        left = X.shape[1] - k
        residual = Z - projected @ self.components_
        # the per-dimension variance PCA leaves out; nothing is left out when k covers every dimension
        self.noise_ = float(max((residual ** 2).sum() / (len(X) * left), 1e-6)) if left > 0 else 0.0

    def _cross_fitted(self, X: np.ndarray) -> np.ndarray:
        """Each training input's score under a Gaussian fitted on the other folds."""
        folds = min(self.folds, len(X))
        if folds < 2 or len(X) < 4:
            return np.zeros(0)
        scores = np.zeros(len(X))
        for fit_on, held in KFold(folds, shuffle=True, random_state=self.seed).split(X):
            part = Typicality(self.components, self.scale_floor, self.folds, self.seed)
            part._fit_gaussian(X[fit_on])
            scores[held] = part.score(X[held])
        return scores

    # ---- scoring
    def score(self, vectors) -> np.ndarray:
        """(n,) squared Mahalanobis distances from the training inputs (larger: less typical)."""
        Z = self._standardised(_matrix(vectors))
        projected = Z @ self.components_.T
        inside = np.einsum("ij,jk,ik->i", projected, self.precision_, projected)
        if not self.noise_:
            return inside
        return inside + ((Z - projected @ self.components_) ** 2).sum(axis=1) / self.noise_

    def judge(self, vector, percentile: float = DEFAULT_PERCENTILE) -> Judgement:
        """One input's Judgement at the given threshold percentile (0-100)."""
        x = _matrix([vector])
        score = float(self.score(x)[0])
        below = np.searchsorted(self.calibration_, score, side="left")
        share = 100.0 * below / len(self.calibration_)
        outside = score > float(np.quantile(self.calibration_, percentile / 100.0))
        deviation = np.abs(self._standardised(x)[0])
        given = ~np.isnan(x[0])
        dimension = int(np.argmax(np.where(given, deviation, -1.0))) if given.any() else None
        value = None if dimension is None else float(x[0, dimension])
        return Judgement(score, round(share, 2), percentile, bool(outside), dimension, value)

    def _standardised(self, X: np.ndarray) -> np.ndarray:
        if X.shape[1] != len(self.mean_):
            raise ValueError(f"typicality vectors of {X.shape[1]} numbers, expected {len(self.mean_)}")
        return np.nan_to_num((X - self.mean_) / self.scale_, nan=0.0, posinf=1e12, neginf=-1e12)

    # ---- facts and persistence
    def describe(self) -> dict:
        return {"n_train": self.n_train_, "n_held_out": self.n_held_out_, "n_calibration": len(self.calibration_),
                "dimensions": len(self.mean_), "components": len(self.components_)}

    def save(self, directory: Path) -> None:
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        facts = np.array([FORMAT, self.noise_, self.n_train_, self.n_held_out_, self.components, self.scale_floor,
                          self.folds, self.seed], dtype=np.float64)
        with atomic_path(Path(directory) / FILE) as tmp, tmp.open("wb") as f:
            np.savez(f, facts=facts, **arrays)

    @classmethod
    def load(cls, directory: Path) -> "Typicality | None":
        """The saved typicality, or None for a model saved without one (trained before typicality existed)."""
        path = Path(directory) / FILE
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            facts = data["facts"]
            if int(facts[0]) != FORMAT:
                raise ValueError(f"{path}: typicality format {int(facts[0])}, this code reads {FORMAT}")
            typicality = cls(int(facts[4]), float(facts[5]), int(facts[6]), int(facts[7]))
            for name in _ARRAYS:
                setattr(typicality, name, data[name])
        typicality.noise_, typicality.n_train_, typicality.n_held_out_ = float(facts[1]), int(facts[2]), int(facts[3])
        return typicality


def fit_typicality(encoder, X_train: list, X_val: list | None, seed: int = 0) -> Typicality | None:
    """The typicality of a fitted encoder's inputs (None when it has no typicality vector, or too few inputs)."""
    train = [v for v in encoder.training_typicality_vectors(X_train) if v is not None]
    if len(train) < MIN_TRAINING_INPUTS:
        return None
    held = [v for v in (encoder.typicality_vector(x) for x in X_val or []) if v is not None]
    return Typicality(seed=seed).fit(train, held or None)


def _matrix(vectors) -> np.ndarray:
    X = np.asarray(vectors, dtype=np.float64)
    return X[None] if X.ndim == 1 else X
