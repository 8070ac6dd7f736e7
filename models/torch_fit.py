"""One small training loop for every torch head: Adam, binary cross-entropy, early stopping.

The model kept is the epoch with the best validation micro-AP (the paper's selection
rule); without a validation set it trains for the full number of epochs. Inputs are
either one tensor (items along the first axis) or, for variable-length items, a list
plus a `collate` function that turns a list of items into a batch tensor.
"""

import copy
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import average_precision_score
from torch import nn

log = logging.getLogger(__name__)

Inputs = torch.Tensor | Sequence
Collate = Callable[[list], torch.Tensor]


@dataclass(frozen=True)
class FitSettings:
    lr: float = 1e-3
    epochs: int = 60
    patience: int = 10
    batch_size: int = 32
    weight_decay: float = 1e-4
    seed: int = 0


def fit_module(module: nn.Module, X: Inputs, Y, X_val: Inputs | None = None, Y_val=None,
               settings: FitSettings = FitSettings(), device: str = "cpu",
               collate: Collate | None = None) -> nn.Module:
    """Train `module` (a batch -> (batch, n_genres) logits) in place; return it in eval mode with its best weights.

    The batch order and dropout are seeded from `settings.seed`; seed the module's construction
    yourself (torch.manual_seed before building it) for its initial weights to repeat too.
    """
    torch.manual_seed(settings.seed)
    module.to(device)
    Y = torch.as_tensor(np.asarray(Y), dtype=torch.float32)
    has_val = X_val is not None and Y_val is not None and len(X_val) > 0
    optimiser = torch.optim.Adam(module.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    order = torch.Generator().manual_seed(settings.seed)
    best_score, best_state, since_best = -1.0, None, 0
    with _unbounded(module):  # the epoch is chosen on validation as without the bounds: they only bound serving
        for epoch in range(settings.epochs):
            module.train()
            for idx in torch.randperm(len(Y), generator=order).split(settings.batch_size):
                optimiser.zero_grad()
                loss = loss_fn(module(_batch(X, idx, collate).to(device)), Y[idx].to(device))
                loss.backward()
                optimiser.step()
            if not has_val:
                continue
            score = micro_ap(Y_val, predict_proba(module, X_val, device, settings.batch_size, collate))
            if score > best_score + 1e-6:
                best_score, best_state, since_best = score, copy.deepcopy(module.state_dict()), 0
            else:
                since_best += 1
                if since_best >= settings.patience:
                    log.debug("early stop at epoch %d (best val micro-AP %.3f)", epoch, best_score)
                    break
        if best_state is not None:
            module.load_state_dict(best_state)
    return module.eval()


@contextmanager
def _unbounded(module: nn.Module):
    """The module's Standardise layers without their clipping bounds inside, with them again after."""
    layers = [m for m in module.modules() if isinstance(m, Standardise)]
    bounds = [(m.low.clone(), m.high.clone()) for m in layers]
    for m in layers:
        m.low.fill_(-math.inf)
        m.high.fill_(math.inf)
    try:
        yield
    finally:
        for m, (low, high) in zip(layers, bounds, strict=True):
            m.low.copy_(low)
            m.high.copy_(high)


def predict_logits(module: nn.Module, X: Inputs, device: str = "cpu", batch_size: int = 64,
                   collate: Collate | None = None) -> torch.Tensor:
    """(n, n_genres) float32 logits on the CPU, computed in batches in eval mode."""
    module.eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            idx = torch.arange(start, min(start + batch_size, len(X)))
            chunks.append(module(_batch(X, idx, collate).to(device)).float().cpu())
    return torch.cat(chunks) if chunks else torch.zeros((0, _out_features(module)))


def predict_proba(module: nn.Module, X: Inputs, device: str = "cpu", batch_size: int = 64,
                  collate: Collate | None = None) -> np.ndarray:
    """(n, n_genres) float32 sigmoid probabilities."""
    return torch.sigmoid(predict_logits(module, X, device, batch_size, collate)).numpy()


def micro_ap(y_true, proba: np.ndarray) -> float:
    """Micro-averaged AP (every movie-genre pair pooled); 0 when there is no positive at all."""
    y_true = np.asarray(y_true)
    return float(average_precision_score(y_true, proba, average="micro")) if y_true.any() else 0.0


BOUND_MARGIN = 1.0


class Standardise(nn.Module):
    """Feature scaling over the last axis, learned from the training set and saved with the weights (buffers).

    `fit` also keeps the range each standardised feature spans in training, widened by BOUND_MARGIN times its
    width on each side (`low`, `high`), and the forward pass clips to it: an input far from the training data
    (a real photo for a head trained on synthetic posters) cannot push a feature, and with it the logits, far
    beyond anything the head was fitted on, while a test input a little outside the range is read as it is
    (clipping at the bare range cost the synthetic poster model 0.02 test mAP; see BENCHMARKS.md). The
    bounds apply from the end of `fit_module` (the epoch is chosen on validation as without them). A
    state saved before the bounds existed loads with infinite ones, which clip nothing (the same scores).
    """

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("low", torch.full((dim,), -math.inf))
        self.register_buffer("high", torch.full((dim,), math.inf))

    def fit(self, X: torch.Tensor) -> "Standardise":
        flat = X.reshape(-1, X.shape[-1]).float()
        self.mean.copy_(flat.mean(dim=0))
        self.std.copy_(flat.std(dim=0).nan_to_num(1.0).clamp_min(1e-4))
        scaled = (flat - self.mean) / self.std
        low, high = scaled.amin(dim=0), scaled.amax(dim=0)
        self.low.copy_(low - BOUND_MARGIN * (high - low))
        self.high.copy_(high + BOUND_MARGIN * (high - low))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp((x.float() - self.mean) / self.std, self.low, self.high)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name, unbounded in (("low", -math.inf), ("high", math.inf)):  # heads saved before the bounds
            state_dict.setdefault(prefix + name, torch.full_like(getattr(self, name), unbounded))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def _out_features(module: nn.Module) -> int:
    """The width of the module's output: that of its last linear layer."""
    return next(m.out_features for m in reversed(list(module.modules())) if isinstance(m, nn.Linear))


def _batch(X: Inputs, idx: torch.Tensor, collate: Collate | None) -> torch.Tensor:
    if collate is not None:
        return collate([X[i] for i in idx.tolist()])
    return X[idx]


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Fit on `n` intra-op threads. Training runs many tiny ops (a GRU's, an LSTM's); with 2 threads on a
    shared 2-core CPU each op waited for a scheduler slice (an audio training step measured 2.0 s against
    0.09 s with one thread). For fitting only (an offline, single-threaded job): the setting is process-wide."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
