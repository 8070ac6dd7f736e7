"""Plot text: fastText, supervised, one-vs-all loss (multi-label), word bigrams (the paper's choice).

The `fasttext` module comes from the `fasttext-numpy2` package (PyPI's fasttext 0.9.3
breaks under numpy 2). Its probabilities can exceed 1 by ~1e-5, so they are clipped.
Training runs on `_THREADS` threads (see there): results vary slightly between runs with
the same seed (about +-0.005 mAP on the synthetic benchmark); a saved model predicts
exactly the same after loading.

With a validation set, `fit` trains one model per epoch count in `epoch_candidates(epoch)`
and keeps the one with the best validation micro-AP (the paper's selection metric).
"""

import os
import re
import tempfile
from pathlib import Path

import fasttext
import numpy as np
from sklearn.metrics import average_precision_score

from models.base import Encoder, check_proba
from models.bundle import Bundle
from models.files import atomic_path
from models.text_explain import leave_one_out
from models.word_typicality import WordTypicality

fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence its load-time deprecation notice
# fastText initialises its input matrix in tenths, one tenth per training thread
# (DenseMatrix::uniform): with fewer than 10 threads the rest keeps whatever was in memory
# (values like 1e20, then "Encountered NaN"). 11+ threads cover all ten tenths and the
# rounding remainder; the price is hogwild training, so a seed does not fix the model exactly.
_THREADS = 12
MODEL_FILE = "fasttext.bin"
PREFIX = "__label__"
# underscores go too, so that no plot can smuggle in a "__label__" token
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_text(text: str) -> str:
    """Lowercase, punctuation to spaces, whitespace collapsed: one line of words."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def epoch_candidates(epoch: int) -> list[int]:
    """The epoch counts tried when a validation set is given: a fifth, half, all and twice `epoch`."""
    return sorted({max(1, epoch // 5), max(1, epoch // 2), epoch, 2 * epoch})


def text_of(bundle: Bundle, with_title: bool = False) -> str:
    """The text a text model reads: the plot, after the title when `with_title` ("" when neither)."""
    parts = [bundle.title] if with_title and bundle.title else []
    return " ".join(parts + ([bundle.plot] if bundle.plot else []))


class PlotWords(WordTypicality):
    """The input side of the word-based text models: the plot (after the title, for a model with
    `with_title`) as one lowercase line of words."""

    modality = "text"
    source = "plot"
    reads_file = False
    preprocessing_params = ()
    with_title = False

    def reads(self) -> tuple[str, ...]:
        return ("title", "plot") if self.with_title else ("plot",)

    def feature_identity(self) -> dict:
        return {"reads": list(self.reads())} if self.with_title else {}

    def has_input(self, bundle: Bundle) -> bool:
        return bool(normalise_text(text_of(bundle, self.with_title)))

    def load_input(self, bundle: Bundle, decode=None) -> str:
        return text_of(bundle, self.with_title)

    def embed(self, text: str) -> str:
        return normalise_text(text)


class TextEncoder(PlotWords, Encoder):

    def __init__(self, dim: int = 50, epoch: int = 50, lr: float = 1.0, word_ngrams: int = 2, min_count: int = 1,
                 bucket: int = 100_000, seed: int = 0):
        self._store(dim=dim, epoch=epoch, lr=lr, word_ngrams=word_ngrams, min_count=min_count, bucket=bucket,
                    seed=seed)

    # ---- learned side -----------------------------------------------------------
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "TextEncoder":
        labels = self._labels()
        lines = [" ".join(labels[j] for j in np.flatnonzero(y)) + " " + x for x, y in zip(X, Y, strict=True)]
        fd, path = tempfile.mkstemp(prefix="moviescope-fasttext-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            use_val = X_val is not None and Y_val is not None and len(X_val) > 0 and np.asarray(Y_val).any()
            if use_val:
                self.model_, self.epoch_ = self._best_on_val(path, X_val, np.asarray(Y_val))
            else:
                self.model_, self.epoch_ = self._train(path, self.epoch), self.epoch
        finally:
            os.unlink(path)
        return self

    def _best_on_val(self, path: str, X_val: list, Y_val: np.ndarray):
        best = None
        for epoch in epoch_candidates(self.epoch):
            self.model_ = self._train(path, epoch)
            score = average_precision_score(Y_val, self.predict_features(X_val), average="micro")
            if best is None or score > best[0]:  # ties keep the fewer epochs
                best = (score, self.model_, epoch)
        return best[1], best[2]

    def _train(self, path: str, epoch: int):
        return fasttext.train_supervised(
            input=path, loss="ova", dim=self.dim, epoch=epoch, lr=self.lr, wordNgrams=self.word_ngrams,
            minCount=self.min_count, bucket=self.bucket, seed=self.seed, thread=_THREADS, verbose=0,
            **self._training_options(),
        )

    def _training_options(self) -> dict:
        """More options for fastText's training (models.text_glove: its starting word vectors)."""
        return {}

    def predict_features(self, X) -> np.ndarray:
        """(n, n_genres) in `genres_` order; genres the model never saw in training score 0."""
        out = np.zeros((len(X), len(self.genres_)), dtype=np.float32)
        if not len(X):
            return out
        column = {label: j for j, label in enumerate(self._labels())}
        labels, probs = self.model_.predict(list(X), k=-1, threshold=0.0)
        for row, (names, values) in enumerate(zip(labels, probs, strict=True)):
            for name, p in zip(names, values, strict=True):
                out[row, column[name]] = p
        return check_proba(out)

    def known_words(self) -> frozenset[str]:
        return frozenset(self.model_.get_words())

    def vocabulary_owner(self) -> object:
        return self.model_

    def _labels(self) -> list[str]:
        """fastText's label of each genre (its tokens split at white space: spaces become underscores)."""
        labels = [PREFIX + name.replace(" ", "_") for name in self.genres_]
        if len(set(labels)) < len(labels):
            raise ValueError(f"genre names that differ only by spaces and underscores: {list(self.genres_)}")
        return labels

    def explain(self, plot: str, genres: list[str]) -> dict[str, list[dict]]:
        """Leave-one-out over the plot's words and bigrams (models.text_explain)."""
        return leave_one_out(normalise_text(plot).split(), lambda texts: _logit(self.predict_features(texts)), genres,
                             self.genres_)

    # ---- persistence -------------------------------------------------------------
    def extra_state(self) -> dict:
        return {"epoch": self.epoch_}

    def load_state(self, state: dict) -> None:
        self.epoch_ = state.get("epoch", self.epoch)

    def save_weights(self, directory: Path) -> None:
        with atomic_path(Path(directory) / MODEL_FILE) as tmp:
            self.model_.save_model(str(tmp))

    def load_weights(self, directory: Path) -> None:
        self.model_ = fasttext.load_model(str(Path(directory) / MODEL_FILE))


def _logit(proba: np.ndarray) -> np.ndarray:
    p = np.clip(proba.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
