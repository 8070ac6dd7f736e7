"""Plot text: neural classifiers trained from scratch on word ids (the paper's Conv1D, LSTM and BiLSTM rows).

One encoder, three architectures (`arch`), all on a word embedding learned from the training plots
alone (no pretrained vectors):

    conv1d  Kim (2014): Conv1d filters of a few widths over the embedded words, ReLU, global max pool
    lstm    a one-layer LSTM over the words, its outputs max-pooled over time
    bilstm  the same, bidirectional

then dropout and one Linear to the genres (sigmoid per genre, binary cross-entropy), fitted by the
shared torch loop (models.torch_fit: Adam, early stopping on validation micro-AP when a validation set
is given). The LSTMs pool by max rather than keep the last state: the evidence in a plot is a few
cue words anywhere among a hundred, and a last state trained on a few hundred plots forgets them.
The default filter widths are 1, 2 and 3 rather than Kim's 3, 4 and 5: on the synthetic benchmark's
bag-of-cue-word plots the narrow ones generalise better (test mAP 0.61 against 0.55 on 1,000 movies).

Words are the normalised plot's (models.text.normalise_text); the vocabulary is the training plots'
words seen at least `min_count` times, the `max_vocab` most frequent, ids from 2 (0 pads, 1 stands for
any other word). A plot is cut to its first `max_len` words. Batches are padded to their longest plot
and the network masks the padding, so a plot's scores do not depend on the batch it is in. The
vocabulary is JSON, the weights a torch state dict: nothing is pickled. Explanations are leave-one-out
over the plot's words and bigrams (models.text_explain), in the network's log-odds.
"""

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit
from torch import nn

from models.base import Encoder, check_proba, load_torch_state, save_torch_state
from models.files import atomic_path
from models.text import PlotWords, normalise_text
from models.text_explain import leave_one_out
from models.torch_fit import FitSettings, fit_module, predict_logits, torch_threads

ARCHS = ("conv1d", "lstm", "bilstm")
WEIGHTS, VOCABULARY = "text_nn.pt", "vocabulary.json"
PAD, UNKNOWN = 0, 1
_WORD = re.compile(r"\w+")


def words_of(text: str) -> list[str]:
    return _WORD.findall(normalise_text(text))


class KimConv(nn.Module):
    """Conv1d filters of each width over the embedded words, ReLU, max over the positions inside the plot."""

    def __init__(self, dim: int, channels: int, kernels: list[int]):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(dim, channels, k) for k in kernels)
        self.width = channels * len(kernels)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pooled = []
        for conv in self.convs:
            h = torch.relu(conv(x.transpose(1, 2)))  # (batch, channels, positions)
            # a window must start inside the plot; one shorter than the window keeps its first
            last = (lengths - conv.kernel_size[0] + 1).clamp_min(1)
            inside = torch.arange(h.shape[2], device=h.device)[None] < last[:, None]
            pooled.append(h.masked_fill(~inside[:, None], -torch.inf).amax(dim=2))
        return torch.cat(pooled, dim=1)


class LSTMMax(nn.Module):
    """An LSTM over the plot's words, its outputs max-pooled over them; bidirectional, a second LSTM reads
    each plot's words from its last to its first. Both read left-aligned batches unpacked (padding after
    the words cannot reach their outputs): on the CPU that is five times faster than packed sequences."""

    def __init__(self, dim: int, hidden: int, bidirectional: bool):
        super().__init__()
        self.forward_lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.backward_lstm = nn.LSTM(dim, hidden, batch_first=True) if bidirectional else None
        self.width = hidden * (2 if bidirectional else 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        steps = torch.arange(x.shape[1], device=x.device)[None]
        inside = steps < lengths[:, None]
        outputs = [self.forward_lstm(x)[0]]
        if self.backward_lstm is not None:
            reverse = torch.where(inside, lengths[:, None] - 1 - steps, steps)  # the words reversed, padding kept
            outputs.append(self.backward_lstm(x.gather(1, reverse[..., None].expand_as(x)))[0])
        return torch.cat(outputs, dim=2).masked_fill(~inside[..., None], -torch.inf).amax(dim=1)


class TextNet(nn.Module):
    """(batch, words) ids -> (batch, n_genres) logits."""

    def __init__(self, arch: str, vocab_size: int, n_genres: int, embed_dim: int, channels: int,
                 kernels: list[int], hidden: int, dropout: float):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        if arch == "conv1d":
            self.pool = KimConv(embed_dim, channels, kernels)
        else:
            self.pool = LSTMMax(embed_dim, hidden, bidirectional=arch == "bilstm")
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(self.pool.width, n_genres)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != PAD).sum(dim=1).clamp_min(1)  # an empty plot reads as one padding word
        return self.out(self.dropout(self.pool(self.dropout(self.embedding(ids)), lengths)))


class NeuralTextEncoder(PlotWords, Encoder):
    def __init__(self, arch: str = "conv1d", embed_dim: int = 64, channels: int = 64,
                 kernels: tuple[int, ...] = (1, 2, 3), hidden: int = 64, dropout: float = 0.5, min_count: int = 2,
                 max_vocab: int = 20_000, max_len: int = 200, lr: float = 1e-2, weight_decay: float = 0.0,
                 epochs: int = 60, patience: int = 15, batch_size: int = 32, with_title: bool = False, seed: int = 0):
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
        self._store(arch=arch, embed_dim=embed_dim, channels=channels, kernels=list(kernels), hidden=hidden,
                    dropout=dropout, min_count=min_count, max_vocab=max_vocab, max_len=max_len, lr=lr,
                    weight_decay=weight_decay, epochs=epochs, patience=patience, batch_size=batch_size,
                    with_title=with_title, seed=seed)

    # ---- words to ids
    def _build_vocabulary(self, X: list[str]) -> list[str]:
        counts = Counter(w for text in X for w in words_of(text))
        kept = sorted((w for w, c in counts.items() if c >= self.min_count), key=lambda w: (-counts[w], w))
        return kept[: self.max_vocab]

    def _set_vocabulary(self, vocabulary: list[str]) -> None:
        self.vocabulary_ = vocabulary
        self.index_ = {w: i + 2 for i, w in enumerate(vocabulary)}

    def _ids(self, text: str) -> torch.Tensor:
        return torch.tensor([self.index_.get(w, UNKNOWN) for w in words_of(text)[: self.max_len]], dtype=torch.long)

    def _collate(self, items: list[torch.Tensor]) -> torch.Tensor:
        """Pad to the longest item, and at least to the widest kernel (the network masks the padding)."""
        width = max([len(t) for t in items] + [max(self.kernels)])
        batch = torch.full((len(items), width), PAD, dtype=torch.long)
        for row, ids in enumerate(items):
            batch[row, : len(ids)] = ids
        return batch

    def _new_net(self) -> TextNet:
        return TextNet(self.arch, len(self.vocabulary_) + 2, len(self.genres_), self.embed_dim, self.channels,
                       self.kernels, self.hidden, self.dropout)

    # ---- learned side
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "NeuralTextEncoder":
        self._set_vocabulary(self._build_vocabulary(list(X)))
        torch.manual_seed(self.seed)  # the initial weights repeat too
        self.net_ = self._new_net()
        settings = FitSettings(lr=self.lr, epochs=self.epochs, patience=self.patience, batch_size=self.batch_size,
                               weight_decay=self.weight_decay, seed=self.seed)
        has_val = X_val is not None and Y_val is not None and len(X_val) > 0 and np.asarray(Y_val).any()
        with torch_threads(1):
            fit_module(self.net_, [self._ids(x) for x in X], Y, [self._ids(x) for x in X_val] if has_val else None,
                       Y_val if has_val else None, settings, self.device, self._collate)
        return self

    def _logits(self, X: list[str]) -> np.ndarray:
        ids = [self._ids(x) for x in X]
        return predict_logits(self.net_, ids, self.device, max(self.batch_size, 64), self._collate).numpy()

    def predict_features(self, X) -> np.ndarray:
        if not len(X):
            return np.zeros((0, len(self.genres_)), dtype=np.float32)
        return check_proba(expit(self._logits(list(X))))

    def explain(self, plot: str, genres: list[str]) -> dict[str, list[dict]]:
        """Leave-one-out over the plot's words and bigrams (models.text_explain), in the network's log-odds."""
        return leave_one_out(words_of(plot), self._logits, genres, self.genres_)

    def known_words(self) -> frozenset[str]:
        return frozenset(self.vocabulary_)

    def vocabulary_owner(self) -> object:
        return self.vocabulary_

    # ---- persistence (the vocabulary's size and the parameters rebuild the network)
    def save_weights(self, directory: Path) -> None:
        with atomic_path(Path(directory) / VOCABULARY) as tmp:
            tmp.write_text(json.dumps(self.vocabulary_))
        save_torch_state(self.net_, Path(directory) / WEIGHTS)

    def load_weights(self, directory: Path) -> None:
        self._set_vocabulary(json.loads((Path(directory) / VOCABULARY).read_text()))
        self.net_ = self._new_net()
        load_torch_state(self.net_, Path(directory) / WEIGHTS)
        self.net_.to(self.device).eval()
