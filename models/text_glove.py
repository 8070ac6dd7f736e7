"""Plot text: fastText initialised with GloVe word vectors (the paper's "fastText with GloVe" row).

The same supervised fastText as models.text, 50-dimensional, with its word vectors starting from GloVe's
(models.glove) instead of at random: the training plots' words and GloVe's `common_words` most frequent ones
are written to a temporary .vec file that fastText reads (and adds to its vocabulary) and that is removed
after the fit. So a plot's words that no training plot had still count, through their GloVe neighbours: the
point of pretrained vectors with a few hundred plots. Words GloVe lacks, and the bigram buckets, start at
random as before. The saved model holds the vectors: GloVe is needed to train, not to serve.
"""

import os
import tempfile
from pathlib import Path

from models.glove import DIM, common, write_vectors
from models.text import TextEncoder


class GloveTextEncoder(TextEncoder):
    def __init__(self, epoch: int = 50, lr: float = 1.0, word_ngrams: int = 2, min_count: int = 1,
                 bucket: int = 100_000, common_words: int = 30_000, seed: int = 0):
        self._store(epoch=epoch, lr=lr, word_ngrams=word_ngrams, min_count=min_count, bucket=bucket,
                    common_words=common_words, seed=seed)
        self.dim = DIM  # the vectors' width

    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "GloveTextEncoder":
        fd, path = tempfile.mkstemp(prefix="moviescope-glove-", suffix=".vec")
        os.close(fd)
        try:
            training_words = {w for text in X for w in text.split()}
            self.glove_words_ = write_vectors(training_words | set(common(self.common_words)), Path(path))
            self._vectors = path
            return super().fit_features(X, Y, X_val, Y_val)
        finally:
            self._vectors = None
            os.unlink(path)

    def _training_options(self) -> dict:
        return {"pretrainedVectors": self._vectors} if getattr(self, "_vectors", None) else {}
