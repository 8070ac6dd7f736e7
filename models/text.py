"""Plot text: fastText, supervised, one-vs-all loss (multi-label), word bigrams (the paper's choice).

The `fasttext` module comes from the `fasttext-numpy2` package (PyPI's fasttext 0.9.3
breaks under numpy 2). Its probabilities can exceed 1 by ~1e-5, so they are clipped.
Training uses one thread so a seed gives the same model every time.
"""

import os
import re
import tempfile
from pathlib import Path

import fasttext
import numpy as np

from models.base import Encoder, atomic_path, check_proba
from models.bundle import Bundle
from models.genres import GENRE_INDEX, GENRES, N_GENRES

fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence its load-time deprecation notice
MODEL_FILE = "fasttext.bin"
PREFIX = "__label__"
_NON_WORD = re.compile(r"[^\w']+")


def normalise_text(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


class TextEncoder(Encoder):
    modality = "text"
    preprocessing_params = ()
    cache_features = False

    def __init__(self, dim: int = 50, epoch: int = 40, lr: float = 0.5, word_ngrams: int = 2, min_count: int = 1,
                 bucket: int = 100_000, seed: int = 0):
        self._store(dim=dim, epoch=epoch, lr=lr, word_ngrams=word_ngrams, min_count=min_count, bucket=bucket,
                    seed=seed)

    def has_input(self, bundle: Bundle) -> bool:
        return bool(bundle.plot and bundle.plot.strip())

    def load_input(self, bundle: Bundle, media_info=None) -> str:
        return bundle.plot

    def embed(self, plot: str) -> str:
        return normalise_text(plot)

    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "TextEncoder":
        lines = [" ".join(PREFIX + GENRES[j] for j in np.flatnonzero(y)) + " " + x for x, y in zip(X, Y, strict=True)]
        fd, path = tempfile.mkstemp(prefix="moviescope-fasttext-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            self.model_ = fasttext.train_supervised(
                input=path, loss="ova", dim=self.dim, epoch=self.epoch, lr=self.lr, wordNgrams=self.word_ngrams,
                minCount=self.min_count, bucket=self.bucket, seed=self.seed, thread=1, verbose=0,
            )
        finally:
            os.unlink(path)
        return self

    def predict_features(self, X) -> np.ndarray:
        labels, probs = self.model_.predict(list(X), k=-1, threshold=0.0)
        out = np.zeros((len(X), N_GENRES), dtype=np.float32)
        for row, (names, values) in enumerate(zip(labels, probs, strict=True)):
            for name, p in zip(names, values, strict=True):
                out[row, GENRE_INDEX[name.removeprefix(PREFIX)]] = p
        return check_proba(out)

    def save_weights(self, directory: Path) -> None:
        with atomic_path(directory / MODEL_FILE) as tmp:
            self.model_.save_model(str(tmp))

    def load_weights(self, directory: Path) -> None:
        self.model_ = fasttext.load_model(str(directory / MODEL_FILE))
