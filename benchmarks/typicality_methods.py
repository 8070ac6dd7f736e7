"""Which typicality separates in-distribution inputs from real ones best, at what cost (benchmarks/typicality.py).

Every method scores the same vectors (`Encoder.typicality_vector` of the cached features) and is calibrated the
same way as the service's: its 99th percentile over the validation inputs and the training inputs scored by a
fit without them (5-fold). Measured: AUROC between those held-out in-distribution scores and the real inputs',
the share of real inputs flagged, the share of the test split flagged, the cost per input and the size stored.
"""

import time

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from models.typicality import Typicality


class Diagonal:
    """Independent dimensions: the mean squared standardised deviation."""

    def fit(self, X):
        self.scaler = StandardScaler().fit(X)
        return self

    def score(self, X):
        return (self.scaler.transform(X) ** 2).mean(axis=1)

    def size(self):
        return 2 * len(self.scaler.mean_)


class FullLedoitWolf:
    """One Ledoit-Wolf covariance over every standardised dimension (d x d precision)."""

    def fit(self, X):
        self.scaler = StandardScaler().fit(X)
        self.model = LedoitWolf().fit(self.scaler.transform(X))
        return self

    def score(self, X):
        return self.model.mahalanobis(self.scaler.transform(X))

    def size(self):
        return self.model.precision_.size + 3 * len(self.scaler.mean_)


class Neighbours:
    """Mean distance to the 5 nearest training inputs (standardised); stores the training vectors."""

    def fit(self, X):
        self.scaler = StandardScaler().fit(X)
        self.model = NearestNeighbors(n_neighbors=min(5, len(X))).fit(self.scaler.transform(X))
        return self

    def score(self, X):
        return self.model.kneighbors(self.scaler.transform(X))[0].mean(axis=1)

    def size(self):
        return self.model.n_samples_fit_ * self.model.n_features_in_


class Probabilistic:
    """The service's Typicality (probabilistic PCA with a Ledoit-Wolf subspace), with these settings."""

    def __init__(self, components=32, scale_floor=0.3):
        self.components, self.scale_floor = components, scale_floor

    def fit(self, X):
        self.model = Typicality(self.components, self.scale_floor)
        self.model._fit_gaussian(np.asarray(X, dtype=np.float64))
        return self

    def score(self, X):
        return self.model.score(X)

    def size(self):
        m = self.model
        return m.components_.size + m.precision_.size + 2 * len(m.mean_)


METHODS = {
    "diagonal Gaussian": Diagonal,
    "Ledoit-Wolf, all dimensions": FullLedoitWolf,
    "5 nearest neighbours": Neighbours,
    "probabilistic PCA, 32 components, no scale floor": lambda: Probabilistic(32, 0.0),
    "probabilistic PCA, 16 components (floor 0.3)": lambda: Probabilistic(16, 0.3),
    "probabilistic PCA, 32 components (floor 0.3; the service's)": lambda: Probabilistic(32, 0.3),
}


def compare(vectors: dict[str, np.ndarray], percentile: float = 99.0) -> dict[str, dict]:
    """`vectors`: "train", "val", "test" and "real" arrays of one modality. Per method, its measures."""
    results = {}
    for name, make in METHODS.items():
        results[name] = measure(make, vectors, percentile)
    return results


def measure(make, vectors: dict[str, np.ndarray], percentile: float) -> dict:
    train = vectors["train"]
    model = make().fit(train)
    held = np.concatenate([model.score(vectors["val"]), _cross_fitted(make, train)])
    threshold = np.quantile(held, percentile / 100)
    val_only = np.quantile(model.score(vectors["val"]), percentile / 100)
    start = time.perf_counter()
    for vector in vectors["real"]:
        model.score(vector[None])
    per_input_ms = (time.perf_counter() - start) * 1000 / len(vectors["real"])
    real, test = model.score(vectors["real"]), model.score(vectors["test"])
    truth = np.r_[np.zeros(len(held)), np.ones(len(real))]
    return {"auroc": float(roc_auc_score(truth, np.r_[held, real])), "real_flagged": float(np.mean(real > threshold)),
            "test_flagged": float(np.mean(test > threshold)), "test_flagged_val_only": float(np.mean(test > val_only)),
            "ms_per_input": per_input_ms, "stored_numbers": int(model.size())}


def _cross_fitted(make, X: np.ndarray, folds: int = 5) -> np.ndarray:
    scores = np.zeros(len(X))
    for fit_on, held in KFold(folds, shuffle=True, random_state=0).split(X):
        scores[held] = make().fit(X[fit_on]).score(X[held])
    return scores
