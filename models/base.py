"""The contract every modality encoder follows, and safe save/load helpers.

scikit-learn style: `__init__` only stores parameters; `fit*` return self; learned
attributes end in `_`; `predict_proba` returns (n_movies, n_genres), columns in `genres_` order,
values in [0, 1]. `genres_` is the label set (models.genres): training sets the dataset's with
`set_genres` before fitting, loading restores the saved one; it is the 13 Moviescope genres unless set. An encoder declares its input: `source`, the bundle part it reads, and
`reads_file`, whether that part is a media file (decoded by ffmpeg or Pillow, side by side with
the other files, features cached under a hash of the file). The input side is split in two so
training can cache it:

    load_input(bundle, decode)  decode the bundle's part under `decode`'s limits (models.decode)
    embed(raw)                  frozen, deterministic features (CNN forward pass, log-mel, ...)

`features(bundle) = embed(load_input(bundle))` is what the feature cache stores, keyed by
`feature_key()`. The learned part sees only features: `fit_features` / `predict_features`.
Callers pass only bundles that have the modality (`has_input`); nothing is ever filled in.
The predictor and the feature cache only use this contract: a new modality is its encoder class
plus one entry in models/encoders.py.
"""

import hashlib
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch

from models.bundle import Bundle
from models.decode import Decode
from models.files import atomic_path, write_json_atomic
from models.genres import MOVIESCOPE, GenreSet, genre_set
from models.typicality import Judgement, Typicality

CONFIG_FILE = "config.json"


class Encoder(ABC):
    modality: ClassVar[str]
    source: ClassVar[str]  # the Bundle field this encoder reads: "trailer", "poster", "plot", "metadata"
    # True: the source is a media file, decoded up front and cached by its content; False: the input is
    # as cheap as its features (text, metadata), nothing to decode or cache
    reads_file: ClassVar[bool] = True
    # names of the parameters that change what `features()` returns (they key the cache)
    preprocessing_params: ClassVar[tuple[str, ...]] = ()

    # what one input is, in typicality's reasons and the model card ("trailer", "poster", "plot", ...)
    typicality_input: ClassVar[str] = "input"
    typicality_describes: ClassVar[str] = ""  # what the typicality vector holds, for the model card

    device: str = "cpu"
    genres_: GenreSet = MOVIESCOPE
    typicality_: Typicality | None = None  # set by training (models/typicality.py); None: unknown

    # ---- parameters -------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments (JSON-serialisable), as stored by __init__."""
        return dict(self._params)

    def _store(self, **params: Any) -> None:
        self._params = params
        for name, value in params.items():
            setattr(self, name, value)

    def to(self, device: str) -> Self:
        self.device = device
        return self

    def set_genres(self, genres) -> Self:
        """The label set to learn (a GenreSet or names in order): the columns of `Y` and of the scores."""
        self.genres_ = genre_set(genres)
        return self

    def feature_key(self) -> str:
        """Identifies the feature extractor: the same key means the same features for a bundle."""
        spec = {"modality": self.modality, "params": {k: self._params[k] for k in self.preprocessing_params}}
        spec.update(self.feature_identity())
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]

    def feature_identity(self) -> dict[str, Any]:
        """Extra facts that change features beyond parameters (e.g. the backbone and its weights' SHA-256)."""
        return {}

    def feature_description(self) -> dict[str, Any]:
        """What this model reads, for manifests, reports and model cards: its preprocessing and extractor."""
        return {"params": {k: self._params[k] for k in self.preprocessing_params}, **self.feature_identity()}

    # ---- input side ----------------------------------------------------------
    def has_input(self, bundle: Bundle) -> bool:
        return getattr(bundle, self.source) is not None

    def reads(self) -> tuple[str, ...]:
        """The bundle parts this encoder reads (models.bundle.PARTS)."""
        return (self.source,)

    def source_file(self, bundle: Bundle) -> Path | None:
        """The file whose bytes key this bundle's cached features (None: nothing to cache)."""
        return getattr(bundle, self.source) if self.reads_file else None

    def announce_reads(self, bundle: Bundle, decode: Decode) -> None:
        """Tell `decode` what `load_input` will ask of the bundle's files, before any reader starts, so that
        readers of one file can share a decode (the frame and motion encoders of one trailer)."""

    @abstractmethod
    def load_input(self, bundle: Bundle, decode: Decode | None = None) -> Any:
        """Decode this modality's input under `decode`'s limits (default limits when None)."""

    @abstractmethod
    def embed(self, raw: Any) -> Any:
        """Frozen features of one decoded input (np.ndarray, or str/dict for cheap modalities)."""

    def embed_many(self, raws: list) -> list:
        """`embed` of each input; an encoder with a CNN may batch them (e.g. frames across movies)."""
        return [self.embed(raw) for raw in raws]

    def features(self, bundle: Bundle, decode: Decode | None = None) -> Any:
        return self.embed(self.load_input(bundle, decode))

    def explain(self, raw: Any, genres: list[str]) -> dict:
        """Why this model scores `genres` as it does for one decoded input (what `load_input` returned):
        a JSON-ready dict, its shape the modality's own (see service/schemas.py). Needs a fitted model."""
        raise NotImplementedError(f"{type(self).__name__} does not explain its scores")

    # ---- learned side -----------------------------------------------------------
    @abstractmethod
    def fit_features(self, X: list, Y: np.ndarray, X_val: list | None = None, Y_val: np.ndarray | None = None) -> Self:
        """Learn from features; the validation set (when given) drives early stopping."""

    @abstractmethod
    def predict_features(self, X: list) -> np.ndarray: ...

    def fit(self, bundles: list[Bundle], Y: np.ndarray, val_bundles: list[Bundle] | None = None,
            Y_val: np.ndarray | None = None) -> Self:
        X = [self.features(b) for b in bundles]
        X_val = [self.features(b) for b in val_bundles] if val_bundles else None
        return self.fit_features(X, Y, X_val, Y_val)

    def predict_proba(self, bundles: list[Bundle]) -> np.ndarray:
        if not bundles:
            return np.zeros((0, len(self.genres_)), dtype=np.float32)
        return check_proba(self.predict_features([self.features(b) for b in bundles]), len(self.genres_))

    # ---- typicality (models/typicality.py) -----------------------------------------
    def typicality_vector(self, features: Any) -> np.ndarray | None:
        """The vector that describes one input (its features) for typicality; None: this encoder has none."""
        return None

    def training_typicality_vectors(self, X: list) -> list:
        """The training inputs' vectors as a new input would get them. By default `typicality_vector`'s; an
        encoder whose vector depends on what it learned from them (a vocabulary) leaves each one out of that."""
        return [self.typicality_vector(x) for x in X]

    def judge(self, features: Any, percentile: float) -> Judgement | None:
        """How typical one input is (None: this model has no typicality, e.g. trained before it existed)."""
        vector = None if self.typicality_ is None else self.typicality_vector(features)
        return None if vector is None else self.typicality_.judge(vector, percentile)

    def typicality_reason(self, judgement: Judgement) -> str:
        """Why an input is out of distribution, as a phrase."""
        return (f"unlike the {self.typicality_.n_train_} {self.typicality_input}s it was trained on (typicality "
                f"percentile {judgement.percentile:g}, above {judgement.threshold:g})")

    # ---- persistence -------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write config.json (class, parameters, preprocessing facts) and the weights."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"modality": self.modality, "genres": list(self.genres_), "params": self.get_params(),
                  "feature_key": self.feature_key(), "state": self.extra_state()}
        write_json_atomic(directory / CONFIG_FILE, config)
        self.save_weights(directory)
        if self.typicality_ is not None:
            self.typicality_.save(directory)

    @classmethod
    def load(cls, directory: Path, device: str = "cpu") -> Self:
        directory = Path(directory)
        config = json.loads((directory / CONFIG_FILE).read_text())
        if config.get("modality") != cls.modality or not config.get("genres"):
            raise ValueError(f"{directory}: not a {cls.modality} encoder (no modality or no genres in {CONFIG_FILE})")
        encoder = cls(**config["params"]).to(device).set_genres(config["genres"])
        encoder.load_state(config.get("state", {}))
        encoder.load_weights(directory)
        encoder.typicality_ = Typicality.load(directory)
        if encoder.feature_key() != config["feature_key"]:
            raise ValueError(
                f"{directory}: the feature extractor differs from the one used in training "
                "(different backbone weights?); retrain or restore the same weights"
            )
        return encoder

    def extra_state(self) -> dict[str, Any]:
        """Small learned, JSON-serialisable state (vocabularies, category lists...)."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        pass

    @abstractmethod
    def save_weights(self, directory: Path) -> None: ...

    @abstractmethod
    def load_weights(self, directory: Path) -> None: ...


def check_proba(proba: np.ndarray, n_genres: int | None = None) -> np.ndarray:
    """Enforce the output contract: float32 (n, n_genres), clipped to [0, 1] (fastText can exceed 1 by 1e-5)."""
    proba = np.asarray(proba, dtype=np.float32)
    wrong_width = n_genres is not None and proba.shape[-1:] != (n_genres,)
    if proba.ndim != 2 or wrong_width or not np.isfinite(proba).all():
        raise ValueError(f"encoder returned bad probabilities: shape {proba.shape}")
    return np.clip(proba, 0.0, 1.0)


def save_torch_state(module: torch.nn.Module, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(module.state_dict(), tmp)


def load_torch_state(module: torch.nn.Module, path: Path) -> None:
    module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
