"""Poster: a frozen VGG16 (the paper's network) and a multi-label MLP head.

Features (cached): VGG16's pooled last conv map (or fc7 with `vgg_fc7`) of the poster
resized to `image_size`, plus the image's colour means and spreads (kept for the same
reason as in video: they survive a backbone without ImageNet weights).
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

WEIGHTS = "head.pt"


class PosterHead(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.norm = Standardise(dim)
        self.mlp = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, hidden), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(hidden, N_GENRES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.norm(x))


class PosterEncoder(Encoder):
    modality = "poster"
    preprocessing_params = ("backbone", "weights_path", "vgg_fc7", "image_size", "image_stats")

    def __init__(self, backbone: str = "vgg16", weights_path: str | None = None, vgg_fc7: bool = False,
                 image_size: int = 128, image_stats: bool = True, hidden: int = 256, dropout: float = 0.3,
                 lr: float = 1e-3, epochs: int = 80, patience: int = 15, batch_size: int = 32, seed: int = 0):
        self._store(backbone=backbone, weights_path=weights_path, vgg_fc7=vgg_fc7, image_size=image_size,
                    image_stats=image_stats, hidden=hidden, dropout=dropout, lr=lr, epochs=epochs,
                    patience=patience, batch_size=batch_size, seed=seed)
        self._backbone: Backbone | None = None

    def has_input(self, bundle: Bundle) -> bool:
        return bundle.poster is not None

    def load_input(self, bundle: Bundle, media_info=None, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
        image = load_image(bundle.poster, max_pixels).resize((self.image_size, self.image_size))
        return np.array(image, dtype=np.uint8)

    def embed(self, pixels: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(pixels)[None]
        with torch.inference_mode():
            deep = self.extractor().module.to(self.device)(normalise(x.to(self.device))).cpu()[0]
        parts = [deep]
        if self.image_stats:
            rgb = x[0].float().div(255.0)
            parts += [rgb.mean(dim=(0, 1)), rgb.std(dim=(0, 1))]
        return torch.cat(parts).numpy().astype(np.float16)

    def extractor(self) -> Backbone:
        if self._backbone is None:
            self._backbone = load_backbone(self.backbone, self.weights_path, vgg_fc7=self.vgg_fc7)
        return self._backbone

    def feature_identity(self) -> dict:
        return {"backbone_fingerprint": self.extractor().fingerprint, "pretrained": self.extractor().pretrained}

    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "PosterEncoder":
        X_t = torch.as_tensor(np.stack(X)).float()
        self.head_ = PosterHead(X_t.shape[1], self.hidden, self.dropout)
        self.head_.norm.fit(X_t)
        settings = FitSettings(lr=self.lr, epochs=self.epochs, patience=self.patience,
                               batch_size=self.batch_size, seed=self.seed)
        val = (torch.as_tensor(np.stack(X_val)).float(), torch.as_tensor(Y_val, dtype=torch.float32)) if X_val else (None, None)
        fit_module(self.head_, X_t, torch.as_tensor(Y, dtype=torch.float32), *val, settings, self.device)
        return self

    def predict_features(self, X) -> np.ndarray:
        return predict_proba(self.head_, torch.as_tensor(np.stack(X)).float(), self.device)

    def extra_state(self) -> dict:
        return {"feature_dim": int(self.head_.norm.mean.numel())}

    def load_state(self, state: dict) -> None:
        self.head_ = PosterHead(state["feature_dim"], self.hidden, self.dropout)

    def save_weights(self, directory: Path) -> None:
        save_torch_state(self.head_, directory / WEIGHTS)

    def load_weights(self, directory: Path) -> None:
        load_torch_state(self.head_, directory / WEIGHTS)
        self.head_.to(self.device).eval()
