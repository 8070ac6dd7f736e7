"""Encoders whose learned part is a torch head over cached array features (frames, posters, motion).

A subclass builds its head (`new_head(dim)`, a module whose first layer is a `Standardise` named
`norm`, fitted to the training features) and says how one item's features form the head's input
batch (`head_batch`). Fitting with early stopping, prediction and the weights file are shared here.
The items' features reach the head stacked as float32 (`stack`); a subclass with large integer features
(models.video3d's uint8 clips) keeps them compact and lets its head convert each batch.
"""

from pathlib import Path

import numpy as np
import torch

from models.base import Encoder, load_torch_state, save_torch_state
from models.torch_fit import FitSettings, fit_module, predict_proba

WEIGHTS = "head.pt"


class HeadEncoder(Encoder):
    def new_head(self, dim: int) -> torch.nn.Module:
        raise NotImplementedError

    def head_batch(self, features: torch.Tensor) -> torch.Tensor:
        """One item's (n, dim) features as the head's input batch."""
        raise NotImplementedError

    def stack(self, X) -> torch.Tensor:
        """The items' features as one tensor, items along the first axis."""
        return torch.as_tensor(np.stack(X)).float()

    # ---- learned side
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "HeadEncoder":
        X_t = self.stack(X)
        torch.manual_seed(self.seed)  # the head's initial weights repeat too
        self.head_ = self.new_head(X_t.shape[-1])
        self.head_.norm.fit(X_t)
        settings = FitSettings(lr=self.lr, epochs=self.epochs, patience=self.patience,
                               batch_size=self.batch_size, weight_decay=self.weight_decay, seed=self.seed)
        has_val = X_val is not None and Y_val is not None and len(X_val) > 0
        fit_module(self.head_, X_t, Y, self.stack(X_val) if has_val else None, Y_val if has_val else None,
                   settings, self.device)
        return self

    def predict_features(self, X) -> np.ndarray:
        return predict_proba(self.head_, self.stack(X), self.device, self.batch_size)

    # ---- persistence (the feature width rebuilds the head; scaling and weights are in head.pt)
    def extra_state(self) -> dict:
        return {"feature_dim": int(self.head_.norm.mean.numel())}

    def load_state(self, state: dict) -> None:
        self.head_ = self.new_head(state["feature_dim"])

    def save_weights(self, directory: Path) -> None:
        save_torch_state(self.head_, directory / WEIGHTS)

    def load_weights(self, directory: Path) -> None:
        load_torch_state(self.head_, directory / WEIGHTS)
        self.head_.to(self.device).eval()
