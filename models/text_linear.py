"""Plot text: a calibrated linear model over word n-gram presence (NB-weighted logistic regression).

Wang & Manning's NBSVM (2012), one model per genre: binary n-gram features are scaled by
their naive-Bayes log-count ratio for the genre, a strongly regularised logistic regression
is fit on the scaled features, and Platt scaling on out-of-fold scores calibrates it. It is
the strong small-data baseline for text classification: with a few hundred plots it learns
the words that mark a genre where fastText's averaged embeddings stay near the prior.

With a validation set, `fit` tries each n-gram range in `ngram_candidates` and keeps the one
with the best validation mAP. Everything learned is plain arrays (the vocabulary in
JSON, the weights in an .npz): nothing is pickled.
"""

import json
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from models.base import Encoder, check_proba
from models.files import atomic_path
from models.text import PlotWords, normalise_text
from models.text_explain import TOP_TOKENS, ranked

WEIGHTS, VOCABULARY = "weights.npz", "vocabulary.json"
TOKEN_PATTERN = r"(?u)\b\w+\b"  # every word, one-letter ones too
MIN_SLOPE = 1e-3  # the calibration never reverses or flattens the learned order


class LinearTextEncoder(PlotWords, Encoder):
    def __init__(self, ngram_candidates: tuple = ((1, 1), (1, 2)), min_df: int = 1, alpha: float = 1.0,
                 C: float = 0.05, calibration_folds: int = 5, with_title: bool = False, seed: int = 0):
        self._store(ngram_candidates=[list(r) for r in ngram_candidates], min_df=min_df, alpha=alpha, C=C,
                    calibration_folds=calibration_folds, with_title=with_title, seed=seed)

    # ---- learned side
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "LinearTextEncoder":
        Y = np.asarray(Y)
        use_val = X_val is not None and Y_val is not None and len(X_val) > 0 and np.asarray(Y_val).any()
        best = None
        for ngram_range in self.ngram_candidates if use_val else self.ngram_candidates[:1]:
            vectorizer, weights, bias = self._fit_weights(X, Y, tuple(ngram_range))
            # the ranking within each genre does not depend on the calibration: choose before calibrating
            score = macro_ap(Y_val, vectorizer.transform(list(X_val)) @ weights + bias) if use_val else 0.0
            if best is None or score > best[0]:  # ties keep the simpler range
                best = (score, vectorizer, weights, bias)
        _, self.vectorizer_, self.weights_, self.bias_ = best
        A = self.vectorizer_.transform(list(X)).tocsr()
        self.platt_ = np.array([self._calibrate(A, Y[:, j]) for j in range(Y.shape[1])])
        return self

    def _fit_weights(self, X: list[str], Y: np.ndarray, ngram_range: tuple[int, int]):
        vectorizer = CountVectorizer(binary=True, ngram_range=ngram_range, min_df=self.min_df,
                                     token_pattern=TOKEN_PATTERN, dtype=np.float64)
        A = vectorizer.fit_transform(X).tocsr()
        weights, bias = np.zeros((A.shape[1], Y.shape[1])), np.zeros(Y.shape[1])
        for j in range(Y.shape[1]):
            if 0 < Y[:, j].sum() < len(Y):
                weights[:, j], bias[j] = self._fit_genre(A, Y[:, j])
        return vectorizer, weights, bias

    def _fit_genre(self, A: sparse.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, float]:
        """NB log-count ratios times the logistic regression's coefficients: one weight per n-gram."""
        p = self.alpha + np.asarray(A[y == 1].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(A[y == 0].sum(axis=0)).ravel()
        ratio = np.log(p / p.sum()) - np.log(q / q.sum())
        model = LogisticRegression(C=self.C, max_iter=2000).fit(A.multiply(ratio).tocsr(), y)
        return ratio * model.coef_[0], float(model.intercept_[0])

    def _calibrate(self, A: sparse.csr_matrix, y: np.ndarray) -> tuple[float, float]:
        """Platt scaling (slope, intercept) fit on out-of-fold decision values; each fold refits ratios and weights.

        A genre constant in training gets slope 0 and its training share's log-odds.
        """
        if not 0 < y.sum() < len(y):
            return 0.0, _logit(np.clip(y.mean(), 1e-3, 1 - 1e-3))
        folds = min(self.calibration_folds, int(y.sum()), int(len(y) - y.sum()))
        if folds < 2:
            return 1.0, 0.0
        decision = np.zeros(len(y))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
        for train, held in splitter.split(np.zeros(len(y)), y):
            weights, bias = self._fit_genre(A[train], y[train])
            decision[held] = A[held] @ weights + bias
        platt = LogisticRegression(C=1e4, max_iter=1000).fit(decision[:, None], y)
        slope = float(platt.coef_[0, 0])
        if slope < MIN_SLOPE:  # held-out scores rank no better than chance: near the base rate, order kept
            return MIN_SLOPE, _logit(np.clip(y.mean(), 1e-3, 1 - 1e-3)) - MIN_SLOPE * float(decision.mean())
        return slope, float(platt.intercept_[0])

    def decision(self, X: list[str]) -> np.ndarray:
        """(n, n_genres) calibrated logits (the log-odds of each genre)."""
        A = self.vectorizer_.transform(list(X))
        raw = A @ self.weights_ + self.bias_
        return raw * self.platt_[:, 0] + self.platt_[:, 1]

    def predict_features(self, X) -> np.ndarray:
        if not len(X):
            return np.zeros((0, len(self.genres_)), dtype=np.float32)
        return check_proba(1.0 / (1.0 + np.exp(-self.decision(X))))

    def explain(self, plot: str, genres: list[str], top: int = TOP_TOKENS) -> dict[str, list[dict]]:
        """Exact: each n-gram of the plot adds slope x weight to the genre's calibrated log-odds (the
        intercepts make up the rest), so these weights and the bias sum to the text model's logit."""
        present = self.vectorizer_.transform([normalise_text(plot)]).indices
        terms = self.vectorizer_.get_feature_names_out()[present]
        explained = {}
        for genre in genres:
            j = self.genres_.index(genre)
            explained[genre] = ranked(terms, self.platt_[j, 0] * self.weights_[present, j], top)
        return explained

    def known_words(self) -> frozenset[str]:
        return frozenset(term for term in self.vectorizer_.vocabulary_ if " " not in term)

    def vocabulary_owner(self) -> object:
        return self.vectorizer_

    # ---- persistence
    def extra_state(self) -> dict:
        return {"ngram_range": list(self.vectorizer_.ngram_range)}

    def load_state(self, state: dict) -> None:
        self._ngram_range = tuple(state["ngram_range"])

    def save_weights(self, directory: Path) -> None:
        terms = sorted(self.vectorizer_.vocabulary_, key=self.vectorizer_.vocabulary_.get)
        with atomic_path(Path(directory) / VOCABULARY) as tmp:
            tmp.write_text(json.dumps(terms))
        with atomic_path(Path(directory) / WEIGHTS) as tmp, tmp.open("wb") as f:
            np.savez(f, weights=self.weights_, bias=self.bias_, platt=self.platt_)

    def load_weights(self, directory: Path) -> None:
        terms = json.loads((Path(directory) / VOCABULARY).read_text())
        self.vectorizer_ = CountVectorizer(binary=True, ngram_range=self._ngram_range, token_pattern=TOKEN_PATTERN,
                                           vocabulary=terms, dtype=np.float64)
        with np.load(Path(directory) / WEIGHTS, allow_pickle=False) as data:
            self.weights_, self.bias_, self.platt_ = data["weights"], data["bias"], data["platt"]


def macro_ap(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Mean AP over the genres with a positive (the selection metric: per-genre ranking only)."""
    y_true = np.asarray(y_true)
    keep = y_true.sum(axis=0) > 0
    return float(average_precision_score(y_true[:, keep], scores[:, keep], average="macro"))


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))
