"""Video: fastVideo (per-frame CNN features, temporal mean pooling, MLP) and its TempConv variant.

Features (cached), per trailer: `n_frames` frames sampled across it (models.media), squashed
to `frame_size` squares, run through a frozen torchvision backbone in one batch; with
`frame_stats`, each frame's vector also gets cheap low-level descriptors (`image_stats`:
colour, hue and brightness histograms, edge energy, centre-surround contrast) and its change
from the previous frame (cuts). These are the classic lighting / colour / shot-change cues
of video genre work, and they keep the encoder useful when the backbone has no ImageNet
weights (random-init CNN features alone carry little). Stored as float16 (n_frames, dim).

Head: standardise each feature (statistics of the training frames, kept as buffers), then
either the temporal mean (fastVideo) or a temporal Conv1d (kernel 3) + ReLU over the frame
sequence pooled by mean and max (TempConv); then the paper's MLP 512 -> 64 -> 13.
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.backbones import Backbone, load_backbone, normalise
from models.base import Encoder, load_torch_state, save_torch_state
from models.bundle import Bundle
from models.genres import N_GENRES
from models.media import MediaInfo, probe, sample_frames
from models.torch_fit import FitSettings, Standardise, fit_module, predict_proba

WEIGHTS = "head.pt"
# bump when image_stats / the feature layout change: cached features of an older layout are not reused
FEATURES_VERSION = 2
HUE_BINS, VALUE_BINS = 12, 8
POOLINGS = ("mean", "tempconv")


class VideoHead(nn.Module):
    def __init__(self, dim: int, pooling: str, hidden: tuple[int, int], conv_channels: int, dropout: float):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, frames, dim) -> (batch, 13) logits
        x = self.norm(x)
        if self.pooling == "mean":
            return self.mlp(x.mean(dim=1))
        h = self.temporal(x.transpose(1, 2))  # (batch, channels, frames)
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

    def load_input(self, bundle: Bundle, media_info: MediaInfo | None = None) -> np.ndarray:
        """(n_frames, frame_size, frame_size, 3) uint8 frames spread over the trailer."""
        info = media_info or probe(bundle.trailer)
        return sample_frames(bundle.trailer, info, self.n_frames, (self.frame_size, self.frame_size))

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """(n_frames, dim) float16: backbone features of all frames (one batch), then frame statistics."""
        module = self.extractor().module.to(self.device)
        pixels = torch.tensor(frames, dtype=torch.uint8)  # a copy: decoded frames are read-only buffers
        with torch.inference_mode():
            parts = [module(normalise(pixels.to(self.device))).float().cpu()]
        if self.frame_stats:
            parts += [image_stats(pixels), frame_change(pixels)]
        return torch.cat(parts, dim=1).numpy().astype(np.float16)

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
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "VideoEncoder":
        X_t = _stack(X)
        torch.manual_seed(self.seed)  # the head's initial weights repeat too
        self.head_ = self._new_head(X_t.shape[-1])
        self.head_.norm.fit(X_t)
        settings = FitSettings(lr=self.lr, epochs=self.epochs, patience=self.patience,
                               batch_size=self.batch_size, seed=self.seed)
        has_val = X_val is not None and Y_val is not None and len(X_val) > 0
        fit_module(self.head_, X_t, Y, _stack(X_val) if has_val else None, Y_val if has_val else None,
                   settings, self.device)
        return self

    def predict_features(self, X) -> np.ndarray:
        return predict_proba(self.head_, _stack(X), self.device, self.batch_size)

    def _new_head(self, dim: int) -> VideoHead:
        return VideoHead(dim, self.pooling, tuple(self.hidden), self.conv_channels, self.dropout)

    # ---- persistence (the feature width rebuilds the head; scaling and weights are in head.pt)
    def extra_state(self) -> dict:
        return {"feature_dim": int(self.head_.norm.mean.numel())}

    def load_state(self, state: dict) -> None:
        self.head_ = self._new_head(state["feature_dim"])

    def save_weights(self, directory: Path) -> None:
        save_torch_state(self.head_, directory / WEIGHTS)

    def load_weights(self, directory: Path) -> None:
        load_torch_state(self.head_, directory / WEIGHTS)
        self.head_.to(self.device).eval()


def image_stats(pixels: torch.Tensor) -> torch.Tensor:
    """(n, h, w, 3) uint8 -> (n, 30) float descriptors, each roughly in [0, 1].

    RGB means and spreads (6), a hue histogram weighted by colourfulness (12), a brightness
    histogram (8), horizontal and vertical edge energy, centre-minus-whole brightness
    (vignettes, spotlights) and mean saturation (4).
    """
    x = pixels.float().div(255.0)
    hue, saturation, value = _hsv(x)
    colourful = (saturation * value).flatten(1)
    hue_hist = _histogram(hue, HUE_BINS, colourful)
    value_hist = _histogram(value, VALUE_BINS, torch.ones_like(colourful))
    grey = x.mean(dim=3)
    edge_x = (grey[:, :, 1:] - grey[:, :, :-1]).abs().mean(dim=(1, 2))
    edge_y = (grey[:, 1:] - grey[:, :-1]).abs().mean(dim=(1, 2))
    h, w = grey.shape[1:]
    centre = grey[:, h // 4: h - h // 4, w // 4: w - w // 4].mean(dim=(1, 2)) - grey.mean(dim=(1, 2))
    shape = torch.stack([edge_x, edge_y, centre, saturation.mean(dim=(1, 2))], dim=1)
    return torch.cat([x.mean(dim=(1, 2)), x.std(dim=(1, 2)), hue_hist, value_hist, shape], dim=1)


def frame_change(pixels: torch.Tensor) -> torch.Tensor:
    """(n, 1): mean absolute change from the previous frame (0 for the first): high across a cut."""
    x = pixels.float().div(255.0)
    change = torch.zeros(len(x), 1)
    if len(x) > 1:
        change[1:, 0] = (x[1:] - x[:-1]).abs().mean(dim=(1, 2, 3))
    return change


def _hsv(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB in [0, 1] (n, h, w, 3) -> hue, saturation, value, each (n, h, w) in [0, 1]."""
    r, g, b = x.unbind(dim=3)
    top, bottom = x.amax(dim=3), x.amin(dim=3)
    spread = (top - bottom).clamp_min(1e-6)
    hue = torch.where(top == r, ((g - b) / spread) % 6,
                      torch.where(top == g, (b - r) / spread + 2, (r - g) / spread + 4)) / 6
    return hue, (top - bottom) / top.clamp_min(1e-6), top


def _histogram(values: torch.Tensor, bins: int, weights: torch.Tensor) -> torch.Tensor:
    """Per image, a normalised histogram of (n, h, w) values in [0, 1]."""
    index = (values.flatten(1) * bins).long().clamp(0, bins - 1)
    counts = torch.zeros(len(values), bins).scatter_add_(1, index, weights)
    return counts / counts.sum(dim=1, keepdim=True).clamp_min(1e-6)


def _stack(X) -> torch.Tensor:
    return torch.as_tensor(np.stack(X)).float()
