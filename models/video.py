"""Video: fastVideo (per-frame CNN features, temporal mean pooling, MLP) and its TempConv variant.

Features (cached): `n_frames` frames sampled across the trailer (keyframes where possible),
each through a frozen torchvision backbone, plus a few frame statistics (mean and spread of
each colour channel, change from the previous frame) that keep colour, brightness and cut
information even when the backbone has no ImageNet weights. Head: standardise, then either
the temporal mean (fastVideo) or a temporal convolution over the frame sequence pooled by
mean and max (TempConv), then the paper's MLP 512 -> 64 -> 13.
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.backbones import Backbone, load_backbone, normalise
from models.base import Encoder, load_torch_state, save_torch_state
from models.bundle import Bundle
from models.genres import N_GENRES
from models.media import probe, sample_frames
from models.torch_fit import FitSettings, Standardise, fit_module, predict_proba

N_STATS = 7
WEIGHTS = "head.pt"


class VideoHead(nn.Module):
    def __init__(self, dim: int, pooling: str, hidden: tuple[int, int], conv_channels: int, dropout: float):
        super().__init__()
        if pooling not in ("mean", "tempconv"):
            raise ValueError(f"pooling must be 'mean' or 'tempconv', got {pooling!r}")
        self.pooling = pooling
        self.norm = Standardise(dim)
        width = dim
        if pooling == "tempconv":
            self.temporal = nn.Sequential(nn.Conv1d(dim, conv_channels, kernel_size=3, padding=1), nn.ReLU())
            width = 2 * conv_channels
        self.mlp = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(width, hidden[0]), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden[0], hidden[1]), nn.ReLU(), nn.Linear(hidden[1], N_GENRES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, frames, dim)
        x = self.norm(x)
        if self.pooling == "mean":
            return self.mlp(x.mean(dim=1))
        h = self.temporal(x.transpose(1, 2))
        return self.mlp(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))


class VideoEncoder(Encoder):
    modality = "video"
    preprocessing_params = ("backbone", "weights_path", "vgg_fc7", "frame_size", "n_frames", "frame_stats")

    def __init__(self, backbone: str = "resnet18", weights_path: str | None = None, vgg_fc7: bool = False,
                 frame_size: int = 128, n_frames: int = 16, frame_stats: bool = True, pooling: str = "mean",
                 hidden: tuple[int, int] = (512, 64), conv_channels: int = 128, dropout: float = 0.3,
                 lr: float = 1e-3, epochs: int = 80, patience: int = 15, batch_size: int = 32, seed: int = 0):
        self._store(backbone=backbone, weights_path=weights_path, vgg_fc7=vgg_fc7, frame_size=frame_size,
                    n_frames=n_frames, frame_stats=frame_stats, pooling=pooling, hidden=list(hidden),
                    conv_channels=conv_channels, dropout=dropout, lr=lr, epochs=epochs, patience=patience,
                    batch_size=batch_size, seed=seed)
        self._backbone: Backbone | None = None

    # ---- input side
    def has_input(self, bundle: Bundle) -> bool:
        return bundle.trailer is not None

    def load_input(self, bundle: Bundle, media_info=None) -> np.ndarray:
        info = media_info or probe(bundle.trailer)
        return sample_frames(bundle.trailer, info, self.n_frames, (self.frame_size, self.frame_size))

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """(n_frames, dim) float16: backbone features, then frame statistics."""
        backbone = self.extractor()
        pixels = torch.from_numpy(frames)
        with torch.inference_mode():
            deep = backbone.module.to(self.device)(normalise(pixels.to(self.device))).cpu()
        parts = [deep] + ([_frame_stats(pixels)] if self.frame_stats else [])
        return torch.cat(parts, dim=1).numpy().astype(np.float16)

    def extractor(self) -> Backbone:
        """The frozen backbone, loaded on first use (fitting on cached features never needs it)."""
        if self._backbone is None:
            self._backbone = load_backbone(self.backbone, self.weights_path, vgg_fc7=self.vgg_fc7)
        return self._backbone

    def feature_identity(self) -> dict:
        backbone = self.extractor()
        return {"backbone_fingerprint": backbone.fingerprint, "pretrained": backbone.pretrained}

    # ---- learned side
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "VideoEncoder":
        X_t = _stack(X)
        self.head_ = self._new_head(X_t.shape[-1])
        self.head_.norm.fit(X_t)
        settings = FitSettings(lr=self.lr, epochs=self.epochs, patience=self.patience,
                               batch_size=self.batch_size, seed=self.seed)
        val = (_stack(X_val), torch.as_tensor(Y_val, dtype=torch.float32)) if X_val else (None, None)
        fit_module(self.head_, X_t, torch.as_tensor(Y, dtype=torch.float32), *val, settings, self.device)
        return self

    def predict_features(self, X) -> np.ndarray:
        return predict_proba(self.head_, _stack(X), self.device)

    def _new_head(self, dim: int) -> VideoHead:
        return VideoHead(dim, self.pooling, tuple(self.hidden), self.conv_channels, self.dropout)

    # ---- persistence
    def extra_state(self) -> dict:
        return {"feature_dim": int(self.head_.norm.mean.numel())}

    def load_state(self, state: dict) -> None:
        self.head_ = self._new_head(state["feature_dim"])

    def save_weights(self, directory: Path) -> None:
        save_torch_state(self.head_, directory / WEIGHTS)

    def load_weights(self, directory: Path) -> None:
        load_torch_state(self.head_, directory / WEIGHTS)
        self.head_.to(self.device).eval()


def _frame_stats(pixels: torch.Tensor) -> torch.Tensor:
    """Per frame: channel means and spreads (0..1) and the mean change from the previous frame."""
    x = pixels.float().div(255.0)
    means, stds = x.mean(dim=(1, 2)), x.std(dim=(1, 2))
    change = torch.zeros(len(x), 1)
    if len(x) > 1:
        change[1:, 0] = (x[1:] - x[:-1]).abs().mean(dim=(1, 2, 3))
    return torch.cat([means, stds, change], dim=1)


def _stack(X) -> torch.Tensor:
    return torch.as_tensor(np.stack(X)).float()
