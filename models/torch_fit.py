"""One small training loop for every torch head: Adam, binary cross-entropy, early stopping.

The model kept is the epoch with the best validation micro-AP (the paper's selection
rule); without a validation set it trains for the full number of epochs.
"""

import copy
import logging
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import average_precision_score
from torch import nn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitSettings:
    lr: float = 1e-3
    epochs: int = 60
    patience: int = 10
    batch_size: int = 32
    weight_decay: float = 1e-4
    seed: int = 0


def fit_module(module: nn.Module, X: torch.Tensor, Y: torch.Tensor, X_val: torch.Tensor | None,
               Y_val: torch.Tensor | None, settings: FitSettings, device: str = "cpu") -> nn.Module:
    """Train `module` (inputs -> 13 logits) in place and return it with its best weights loaded."""
    torch.manual_seed(settings.seed)
    module.to(device)
    optimiser = torch.optim.Adam(module.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(settings.seed)
    best_score, best_state, since_best = -1.0, None, 0
    for epoch in range(settings.epochs):
        module.train()
        for idx in torch.randperm(len(X), generator=generator).split(settings.batch_size):
            optimiser.zero_grad()
            loss = loss_fn(module(X[idx].to(device)), Y[idx].to(device))
            loss.backward()
            optimiser.step()
        if X_val is None or len(X_val) == 0:
            continue
        score = _micro_ap(Y_val, predict_proba(module, X_val, device, settings.batch_size))
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


def predict_proba(module: nn.Module, X: torch.Tensor, device: str = "cpu", batch_size: int = 64) -> np.ndarray:
    module.eval()
    with torch.inference_mode():
        chunks = [torch.sigmoid(module(X[i:i + batch_size].to(device))).cpu() for i in range(0, len(X), batch_size)]
    return torch.cat(chunks).numpy().astype(np.float32) if chunks else np.zeros((0, 13), dtype=np.float32)


class Standardise(nn.Module):
    """Feature scaling learned from the training set, saved with the weights (buffers)."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, X: torch.Tensor) -> "Standardise":
        flat = X.reshape(-1, X.shape[-1]).float()
        self.mean.copy_(flat.mean(dim=0))
        self.std.copy_(flat.std(dim=0).clamp_min(1e-4))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.std


def _micro_ap(y: torch.Tensor, proba: np.ndarray) -> float:
    y = y.numpy()
    return float(average_precision_score(y, proba, average="micro")) if y.any() else 0.0
