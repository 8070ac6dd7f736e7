"""Metadata: XGBoost over a catalogue's own fields, one binary model per genre (as the paper).

The schema (models.schema) is learned from the training rows: each field's kind comes from its
values. Numbers go in as they are (the IMDB counts and money as log1p); missing ones stay NaN
and XGBoost routes them natively. A category is one-hot over a vocabulary learned on the
training set (its `max_categories` most frequent values seen at least `min_category_count`
times) plus an "other" column; a list (keywords, cast, ...) is multi-hot over such a vocabulary
of its items, with "other" counting the items outside it; an absent category or list is all
zeros. A date is two numbers: the year with its fraction, and the month. The schema and the
vocabularies are JSON state, so loading rebuilds the same matrix; an artifact saved before
schemas existed reads the IMDB-5000 fields (models.schema.LEGACY_SCHEMA) in their old order.

With a validation set each genre's model stops early on validation log-loss and is cut to its
best round, so the saved model is exactly the one that predicts. Models are saved in XGBoost's
own JSON format. A genre that is constant in training (no positive, or no negative) gets no
model and scores its training prior.
"""

import re
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import xgboost as xgb

from models.base import Encoder
from models.bundle import Bundle
from models.files import atomic_path
from models.metadata_typicality import CatalogueTypicality
from models.schema import LEGACY_SCHEMA, FieldSpec, MetadataSchema, infer


class MetadataEncoder(CatalogueTypicality, Encoder):
    modality = "metadata"
    source = "metadata"
    reads_file = False
    preprocessing_params = ()

    def __init__(self, n_estimators: int = 300, max_depth: int = 2, learning_rate: float = 0.05,
                 subsample: float = 0.8, early_stopping_rounds: int = 30, min_category_count: int = 3,
                 max_categories: int = 20, absent_copies: int = 1, seed: int = 0):
        self._store(n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate,
                    subsample=subsample, early_stopping_rounds=early_stopping_rounds,
                    min_category_count=min_category_count, max_categories=max_categories,
                    absent_copies=absent_copies, seed=seed)

    # ---- input side ----------------------------------------------------------
    def has_input(self, bundle: Bundle) -> bool:
        return any(value is not None for value in (bundle.metadata or {}).values())

    def load_input(self, bundle: Bundle, decode=None) -> dict:
        return dict(bundle.metadata)

    def embed(self, fields: dict) -> dict:
        return fields

    # ---- learned side -----------------------------------------------------------
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "MetadataEncoder":
        Y = np.asarray(Y)
        self.schema_ = infer((f"training row {i + 1}", x) for i, x in enumerate(X))
        self.categories_ = {spec.name: self._vocabulary(X, spec) for spec in self.schema_.fields
                            if spec.kind in ("category", "list")}
        self.priors_ = [float(p) for p in Y.mean(axis=0)] if len(Y) else [0.0] * len(self.genres_)
        X, Y = with_absent_copies(X, Y, self.absent_copies, self.seed)
        train = xgb.DMatrix(self._matrix(X), missing=np.nan)
        val = xgb.DMatrix(self._matrix(X_val), missing=np.nan) if X_val and Y_val is not None else None
        self.boosters_: dict[str, xgb.Booster] = {}
        self.files_ = {}
        for j, genre in enumerate(self.genres_):
            if 0 < Y[:, j].sum() < len(Y):
                train.set_label(Y[:, j])
                y_val = None if val is None else np.asarray(Y_val)[:, j]
                self.boosters_[genre] = _for_prediction(self._fit_one(train, val, y_val))
                self.files_[genre] = f"xgb-{j:03d}-{_slug(genre)}.json"
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
        for j, genre in enumerate(self.genres_):
            if genre in self.boosters_ and len(X):
                out[:, j] = self.boosters_[genre].inplace_predict(A, missing=np.nan)
        return out

    def explain(self, fields: dict, genres: list[str]) -> dict[str, list[dict]]:
        """Per genre, each field's contribution to that genre's log-odds, from XGBoost's own `pred_contribs`
        (exact SHAP values of the trees; a field with several columns sums them), largest |value| first.
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

    def _width(self, spec: FieldSpec) -> int:
        return {"number": 1, "date": 2}.get(spec.kind) or len(self.categories_[spec.name]) + 1

    def _column_fields(self) -> list[str]:
        """The field behind each column of `_matrix`."""
        return [spec.name for spec in self.schema_.fields for _ in range(self._width(spec))]

    def _vocabulary(self, X: list[dict], spec: FieldSpec) -> list[str]:
        values = (x.get(spec.name) for x in X)
        items = (v for value in values if value for v in (value if spec.kind == "list" else [value]))
        counts = Counter(str(v) for v in items if v)
        frequent = sorted((-c, v) for v, c in counts.items() if c >= self.min_category_count)
        return [v for _, v in frequent[: self.max_categories]]

    def _matrix(self, X) -> np.ndarray:
        """(n, n_columns) float32: each field of the schema in order, as its kind's columns."""
        blocks = [np.zeros((len(X), 0), dtype=np.float32)]
        for spec in self.schema_.fields:
            values = [x.get(spec.name) for x in X]
            if spec.kind == "number":
                column = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
                blocks.append((np.log1p(column) if spec.log_scale else column)[:, None])
            elif spec.kind == "date":
                blocks.append(np.array([_date_columns(v) for v in values], dtype=np.float64).reshape(-1, 2))
            else:
                blocks.append(self._one_hot(values, self.categories_[spec.name], spec.kind == "list"))
        return np.concatenate(blocks, axis=1).astype(np.float32)

    @staticmethod
    def _one_hot(values: list, vocabulary: list[str], is_list: bool) -> np.ndarray:
        index = {v: k for k, v in enumerate(vocabulary)}
        block = np.zeros((len(values), len(vocabulary) + 1))
        for i, value in enumerate(values):
            for item in (value or []) if is_list else ([value] if value else []):
                block[i, index.get(str(item), -1)] += 1.0
        return block

    # ---- persistence -------------------------------------------------------------
    def extra_state(self) -> dict:
        return {"schema": self.schema_.to_dict(), "categories": self.categories_, "priors": self.priors_,
                "genres_with_model": list(self.boosters_), "files": self.files_}

    def load_state(self, state: dict) -> None:
        self.schema_ = MetadataSchema.from_dict(state["schema"]) if "schema" in state else LEGACY_SCHEMA
        self.categories_ = {name: list(values) for name, values in state["categories"].items()}
        self.priors_ = [float(p) for p in state["priors"]]
        self.boosters_ = {g: xgb.Booster() for g in state["genres_with_model"]}
        # older artifacts name each genre's file after the genre alone
        self.files_ = state.get("files") or {g: f"xgb-{g.lower()}.json" for g in self.boosters_}

    def save_weights(self, directory: Path) -> None:
        for genre, booster in self.boosters_.items():
            with atomic_path(Path(directory) / self.files_[genre]) as tmp:
                tmp.write_bytes(booster.save_raw("json"))

    def load_weights(self, directory: Path) -> None:
        for genre, booster in self.boosters_.items():
            booster.load_model(bytearray((Path(directory) / self.files_[genre]).read_bytes()))
            _for_prediction(booster)


def _for_prediction(booster: xgb.Booster) -> xgb.Booster:
    # one thread: a few rows predict ~5x faster than on a contended pool (13 models per movie)
    booster.set_param({"nthread": 1})
    return booster


def _date_columns(value: str | None) -> tuple[float, float]:
    """(year with its fraction, month) of an ISO date ("YYYY-MM-DD" or "YYYY-MM"); NaNs when absent."""
    if value is None:
        return np.nan, np.nan
    day = date.fromisoformat(value if len(value) == 10 else value + "-01")
    return day.year + (day.timetuple().tm_yday - 1) / 366, float(day.month)


def _slug(genre: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", genre.lower()).strip("-") or "genre"


def with_absent_copies(X: list[dict], Y: np.ndarray, copies: int, seed: int) -> tuple[list[dict], np.ndarray]:
    """X and Y followed by `copies` copies of every row in which each field group is left out with probability
    1/2. A request often brings only some of the facts a catalogue had in training; trees that never saw a
    field missing send such a request down an arbitrary branch. Numbered fields (rating_share_1..10,
    audience_1..32) are one group: they come together or not at all."""
    if copies < 1 or not X:
        return X, Y
    rng = np.random.default_rng(seed)
    copied = []
    for _ in range(copies):
        for row in X:
            # in the row's order, not a set's: string hashes change per process, and with them the draws
            kept = {group for group in dict.fromkeys(_group(name) for name in row) if rng.random() < 0.5}
            copied.append({name: value for name, value in row.items() if _group(name) in kept})
    return [*X, *copied], np.vstack([Y, *([Y] * copies)])


def _group(name: str) -> str:
    stem, _, number = name.rpartition("_")
    return stem if stem and number.isdigit() else name
