"""Metadata: XGBoost over numeric and categorical catalogue fields, one binary model per genre.

Numbers go in as they are (counts and money as log1p), missing values stay NaN and XGBoost
routes them natively. Categorical fields are one-hot over a vocabulary learned on the
training set (values seen at least `min_category_count` times; others share "other").
Models are saved in XGBoost's own JSON format; a genre with no positive example in
training gets no model and scores 0.
"""

from pathlib import Path

import numpy as np
import xgboost as xgb

from models.base import Encoder, atomic_path
from models.bundle import Bundle
from models.genres import GENRES, N_GENRES

NUMERIC = ("year", "runtime_min", "imdb_score", "facenumber_in_poster")
LOG_SCALE = ("budget_usd", "gross_usd", "num_voted_users", "num_critic_for_reviews", "num_user_for_reviews",
             "movie_facebook_likes", "director_facebook_likes", "actor_1_facebook_likes",
             "actor_2_facebook_likes", "actor_3_facebook_likes")
CATEGORICAL = ("content_rating", "language", "country")


class MetadataEncoder(Encoder):
    modality = "metadata"
    cache_features = False

    def __init__(self, n_estimators: int = 200, max_depth: int = 3, learning_rate: float = 0.05,
                 subsample: float = 0.8, min_category_count: int = 3, early_stopping_rounds: int = 30,
                 seed: int = 0):
        self._store(n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate,
                    subsample=subsample, min_category_count=min_category_count,
                    early_stopping_rounds=early_stopping_rounds, seed=seed)

    def has_input(self, bundle: Bundle) -> bool:
        return bundle.metadata is not None

    def load_input(self, bundle: Bundle, media_info=None) -> dict:
        return bundle.metadata.model_dump()

    def embed(self, fields: dict) -> dict:
        return fields

    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "MetadataEncoder":
        self.categories_ = self._vocabulary(X)
        A = self._matrix(X)
        A_val = self._matrix(X_val) if X_val else None
        self.models_: dict[str, xgb.XGBClassifier] = {}
        for j, genre in enumerate(GENRES):
            if not Y[:, j].any() or Y[:, j].all():
                continue
            self.models_[genre] = self._fit_one(A, Y[:, j], A_val, None if Y_val is None else Y_val[:, j])
        return self

    def _fit_one(self, A, y, A_val, y_val) -> xgb.XGBClassifier:
        use_val = A_val is not None and y_val is not None and 0 < y_val.sum() < len(y_val)
        model = xgb.XGBClassifier(
            n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
            subsample=self.subsample, tree_method="hist", n_jobs=2, random_state=self.seed,
            early_stopping_rounds=self.early_stopping_rounds if use_val else None, eval_metric="logloss",
        )
        model.fit(A, y, eval_set=[(A_val, y_val)] if use_val else None, verbose=False)
        return model

    def predict_features(self, X) -> np.ndarray:
        A = self._matrix(X)
        out = np.zeros((len(X), N_GENRES), dtype=np.float32)
        for j, genre in enumerate(GENRES):
            if genre in self.models_:
                out[:, j] = self.models_[genre].predict_proba(A)[:, 1]
        return out

    def _vocabulary(self, X) -> dict[str, list[str]]:
        vocab = {}
        for field in CATEGORICAL:
            values, counts = np.unique([x[field] for x in X if x[field]], return_counts=True)
            vocab[field] = sorted(str(v) for v, c in zip(values, counts, strict=True) if c >= self.min_category_count)
        return vocab

    def _matrix(self, X) -> np.ndarray:
        rows = []
        for x in X:
            numbers = [np.nan if x[f] is None else float(x[f]) for f in NUMERIC]
            numbers += [np.nan if x[f] is None else float(np.log1p(x[f])) for f in LOG_SCALE]
            for field, values in self.categories_.items():
                one_hot = [float(x[field] == v) for v in values] + [float(bool(x[field]) and x[field] not in values)]
                numbers += one_hot if x[field] else [np.nan] * len(one_hot)
            rows.append(numbers)
        return np.array(rows, dtype=np.float32)

    def extra_state(self) -> dict:
        return {"categories": self.categories_, "genres_with_model": list(self.models_)}

    def load_state(self, state: dict) -> None:
        self.categories_ = state["categories"]
        self.models_ = {g: xgb.XGBClassifier() for g in state["genres_with_model"]}

    def save_weights(self, directory: Path) -> None:
        for genre, model in self.models_.items():
            with atomic_path(directory / _file(genre)) as tmp:
                model.save_model(str(tmp.with_suffix(".json")))
                tmp.with_suffix(".json").replace(tmp)

    def load_weights(self, directory: Path) -> None:
        for genre, model in self.models_.items():
            model.load_model(str(directory / _file(genre)))


def _file(genre: str) -> str:
    return f"xgb-{genre.lower()}.json"
