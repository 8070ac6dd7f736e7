"""Metadata: XGBoost over numeric and categorical catalogue fields, one binary model per genre (as the paper).

Numbers go in as they are (counts and money as log1p); missing ones stay NaN and XGBoost
routes them natively. Each categorical field is one-hot over a vocabulary learned on the
training set (its `max_categories` most frequent values seen at least `min_category_count`
times) plus an "other" column; an absent value is all zeros. The vocabulary is JSON state,
the column order is fixed by the field tuples below, so loading rebuilds the same matrix.

With a validation set each genre's model stops early on validation log-loss and is cut to its
best round, so the saved model is exactly the one that predicts. Models are saved in XGBoost's
own JSON format. A genre that is constant in training (no positive, or no negative) gets no
model and scores its training prior.
"""

from collections import Counter
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
    source = "metadata"
    reads_file = False
    preprocessing_params = ()

    def __init__(self, n_estimators: int = 300, max_depth: int = 2, learning_rate: float = 0.05,
                 subsample: float = 0.8, early_stopping_rounds: int = 30, min_category_count: int = 3,
                 max_categories: int = 20, seed: int = 0):
        self._store(n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate,
                    subsample=subsample, early_stopping_rounds=early_stopping_rounds,
                    min_category_count=min_category_count, max_categories=max_categories, seed=seed)

    # ---- input side ----------------------------------------------------------
    def load_input(self, bundle: Bundle, decode=None) -> dict:
        return bundle.metadata.model_dump()

    def embed(self, fields: dict) -> dict:
        return fields

    # ---- learned side -----------------------------------------------------------
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "MetadataEncoder":
        Y = np.asarray(Y)
        self.categories_ = {f: self._vocabulary([x.get(f) for x in X]) for f in CATEGORICAL}
        self.priors_ = [float(p) for p in Y.mean(axis=0)] if len(Y) else [0.0] * N_GENRES
        train = xgb.DMatrix(self._matrix(X), missing=np.nan)
        val = xgb.DMatrix(self._matrix(X_val), missing=np.nan) if X_val and Y_val is not None else None
        self.boosters_: dict[str, xgb.Booster] = {}
        for j, genre in enumerate(GENRES):
            if 0 < Y[:, j].sum() < len(Y):
                train.set_label(Y[:, j])
                y_val = None if val is None else np.asarray(Y_val)[:, j]
                self.boosters_[genre] = _for_prediction(self._fit_one(train, val, y_val))
        return self

    def _fit_one(self, train: xgb.DMatrix, val: xgb.DMatrix | None, y_val: np.ndarray | None) -> xgb.Booster:
        params = {"objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist",
                  "max_depth": self.max_depth, "eta": self.learning_rate, "subsample": self.subsample,
                  "seed": self.seed, "nthread": 2, "verbosity": 0}
        # early stopping needs both classes in val, else log-loss says little
        if val is None or not 0 < y_val.sum() < len(y_val):
            return xgb.train(params, train, num_boost_round=self.n_estimators)
        val.set_label(y_val)
        booster = xgb.train(params, train, num_boost_round=self.n_estimators, evals=[(val, "val")],
                            early_stopping_rounds=self.early_stopping_rounds, verbose_eval=False)
        return booster[: booster.best_iteration + 1]

    def predict_features(self, X) -> np.ndarray:
        A = self._matrix(X)
        out = np.tile(np.asarray(self.priors_, dtype=np.float32), (len(X), 1))
        for j, genre in enumerate(GENRES):
            if genre in self.boosters_ and len(X):
                out[:, j] = self.boosters_[genre].inplace_predict(A, missing=np.nan)
        return out

    def explain(self, fields: dict, genres: list[str]) -> dict[str, list[dict]]:
        """Per genre, each field's contribution to that genre's log-odds, from XGBoost's own `pred_contribs`
        (exact SHAP values of the trees; a categorical field sums its one-hot columns), largest |value| first.
        Fields the trees never use are left out; a genre without a model (constant in training) has none."""
        matrix = xgb.DMatrix(self._matrix([fields]), missing=np.nan)
        names = self._column_fields()
        explained = {}
        for genre in genres:
            if genre not in self.boosters_:
                explained[genre] = []
                continue
            per_column = self.boosters_[genre].predict(matrix, pred_contribs=True)[0, :-1]  # last: the bias
            per_field = dict.fromkeys(names, 0.0)
            for name, value in zip(names, per_column, strict=True):
                per_field[name] += float(value)
            ranked = sorted((item for item in per_field.items() if item[1] != 0), key=lambda item: -abs(item[1]))
            explained[genre] = [{"field": f, "value": fields.get(f), "contribution": c} for f, c in ranked]
        return explained

    def _column_fields(self) -> list[str]:
        """The field behind each column of `_matrix`."""
        return [*NUMERIC, *LOG_SCALE, *(f for f in CATEGORICAL for _ in range(len(self.categories_[f]) + 1))]

    def _vocabulary(self, values: list) -> list[str]:
        counts = Counter(str(v) for v in values if v)
        frequent = sorted((-c, v) for v, c in counts.items() if c >= self.min_category_count)
        return [v for _, v in frequent[: self.max_categories]]

    def _matrix(self, X) -> np.ndarray:
        """(n, n_columns) float32: numeric, log1p, then one-hot + "other" per categorical field."""
        width = len(NUMERIC) + len(LOG_SCALE) + sum(len(self.categories_[f]) + 1 for f in CATEGORICAL)
        A = np.full((len(X), width), np.nan, dtype=np.float32)
        for i, x in enumerate(X):
            A[i, : len(NUMERIC)] = [_number(x.get(f)) for f in NUMERIC]
            A[i, len(NUMERIC): len(NUMERIC) + len(LOG_SCALE)] = [np.log1p(_number(x.get(f))) for f in LOG_SCALE]
            col = len(NUMERIC) + len(LOG_SCALE)
            for field in CATEGORICAL:
                values = self.categories_[field]
                one_hot = np.zeros(len(values) + 1, dtype=np.float32)
                value = x.get(field)
                if value:
                    one_hot[values.index(str(value)) if str(value) in values else -1] = 1.0
                A[i, col: col + len(one_hot)] = one_hot
                col += len(one_hot)
        return A

    # ---- persistence -------------------------------------------------------------
    def extra_state(self) -> dict:
        return {"categories": self.categories_, "priors": self.priors_, "genres_with_model": list(self.boosters_)}

    def load_state(self, state: dict) -> None:
        self.categories_ = {f: list(state["categories"][f]) for f in CATEGORICAL}
        self.priors_ = [float(p) for p in state["priors"]]
        self.boosters_ = {g: xgb.Booster() for g in state["genres_with_model"]}

    def save_weights(self, directory: Path) -> None:
        for genre, booster in self.boosters_.items():
            with atomic_path(Path(directory) / _file(genre)) as tmp:
                tmp.write_bytes(booster.save_raw("json"))

    def load_weights(self, directory: Path) -> None:
        for genre, booster in self.boosters_.items():
            booster.load_model(bytearray((Path(directory) / _file(genre)).read_bytes()))
            _for_prediction(booster)


def _for_prediction(booster: xgb.Booster) -> xgb.Booster:
    # one thread: a few rows predict ~5x faster than on a contended pool (13 models per movie)
    booster.set_param({"nthread": 1})
    return booster


def _number(value) -> float:
    return np.nan if value is None else float(value)


def _file(genre: str) -> str:
    return f"xgb-{genre.lower()}.json"
