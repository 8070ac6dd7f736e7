"""Poster: a frozen VGG16 (the paper's network) and a multi-label MLP head.

Features (cached): the poster squashed to an `image_size` square, VGG16's globally pooled
last conv map (512-d; `vgg_fc7` gives the 4096-d fc7 instead), plus, with `image_stats`,
the same low-level colour / brightness / edge descriptors as video frames (see
models.video.image_stats; they survive a backbone without ImageNet weights). Head:
standardise (training-set statistics, kept as buffers), MLP -> 13 logits, BCE, early
stopping on validation micro-AP (models.torch_fit).
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.backbones import Backbone, load_backbone, normalise
from models.base import Encoder, load_torch_state, save_torch_state
from models.bundle import Bundle
from models.genres import N_GENRES
from models.image import DEFAULT_MAX_PIXELS, load_image
from models.torch_fit import FitSettings, Standardise, fit_module, predict_proba
from models.video import FEATURES_VERSION
from models.video import image_stats as low_level_stats  # the parameter `image_stats` switches them on

WEIGHTS = "head.pt"


class PosterHead(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.norm = Standardise(dim)
        self.mlp = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, hidden), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(hidden, N_GENRES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, dim) -> (batch, 13) logits
        return self.mlp(self.norm(x))


class PosterEncoder(Encoder):
    modality = "poster"
    preprocessing_params = ("backbone", "weights_path", "vgg_fc7", "image_size", "image_stats")

    def __init__(self, backbone: str = "vgg16", weights_path: str | None = None, vgg_fc7: bool = False,
                 image_size: int = 160, image_stats: bool = True, hidden: int = 256, dropout: float = 0.3,
                 lr: float = 1e-3, epochs: int = 80, patience: int = 15, batch_size: int = 32, seed: int = 0):
        self._store(backbone=backbone, weights_path=weights_path, vgg_fc7=vgg_fc7, image_size=image_size,
                    image_stats=image_stats, hidden=hidden, dropout=dropout, lr=lr, epochs=epochs,
                    patience=patience, batch_size=batch_size, seed=seed)
        self._backbone: Backbone | None = None

    # ---- input side
    def has_input(self, bundle: Bundle) -> bool:
        return bundle.poster is not None

    def load_input(self, bundle: Bundle, media_info=None, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
        """(image_size, image_size, 3) uint8; raises models.media.UnsupportedMediaError / InvalidMediaError."""
        image = load_image(bundle.poster, max_pixels).resize((self.image_size, self.image_size))
        return np.array(image, dtype=np.uint8)

    def embed(self, pixels: np.ndarray) -> np.ndarray:
        """(dim,) float16: backbone features, then image statistics."""
        module = self.extractor().module.to(self.device)
        x = torch.tensor(pixels, dtype=torch.uint8)[None]
        with torch.inference_mode():
            parts = [module(normalise(x.to(self.device))).float().cpu()]
        if self.image_stats:
            parts.append(low_level_stats(x))
        return torch.cat(parts, dim=1)[0].numpy().astype(np.float16)

    def extractor(self) -> Backbone:
        """The frozen backbone, loaded on first use only (fitting on cached features never needs it)."""
        if self._backbone is None:
            self._backbone = load_backbone(self.backbone, self.weights_path, vgg_fc7=self.vgg_fc7)
        return self._backbone

    def feature_identity(self) -> dict:
        backbone = self.extractor()
        return {"backbone_fingerprint": backbone.fingerprint, "pretrained": backbone.pretrained,
                "features_version": FEATURES_VERSION}

    # ---- learned side
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "PosterEncoder":
        X_t = _stack(X)
        torch.manual_seed(self.seed)  # the head's initial weights repeat too
        self.head_ = PosterHead(X_t.shape[1], self.hidden, self.dropout)
        self.head_.norm.fit(X_t)
        settings = FitSettings(lr=self.lr, epochs=self.epochs, patience=self.patience,
                               batch_size=self.batch_size, seed=self.seed)
        has_val = X_val is not None and Y_val is not None and len(X_val) > 0
        fit_module(self.head_, X_t, Y, _stack(X_val) if has_val else None, Y_val if has_val else None,
                   settings, self.device)
        return self

    def predict_features(self, X) -> np.ndarray:
        return predict_proba(self.head_, _stack(X), self.device, self.batch_size)

    # ---- persistence (the feature width rebuilds the head; scaling and weights are in head.pt)
    def extra_state(self) -> dict:
        return {"feature_dim": int(self.head_.norm.mean.numel())}

    def load_state(self, state: dict) -> None:
        self.head_ = PosterHead(state["feature_dim"], self.hidden, self.dropout)

    def save_weights(self, directory: Path) -> None:
        save_torch_state(self.head_, directory / WEIGHTS)

    def load_weights(self, directory: Path) -> None:
        load_torch_state(self.head_, directory / WEIGHTS)
        self.head_.to(self.device).eval()


def _stack(X) -> torch.Tensor:
    return torch.as_tensor(np.stack(X)).float()
