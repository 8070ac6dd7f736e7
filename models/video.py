"""Video: fastVideo (per-frame CNN features, temporal mean pooling, MLP), TempConv, CNN+LSTM and BiLSTM.

Features (cached), per trailer: `n_frames` frames sampled across it (models.media), squashed
to `frame_size` squares, run through a frozen ImageNet backbone in one batch (models.backbones;
EfficientNet-Lite0 by default, VGG16 fc7 in the paper profile); with `frame_stats`, each
frame's vector also gets cheap low-level descriptors (models.image.image_stats: colour,
hue and brightness histograms, edge energy, centre-surround contrast), the classic lighting and
colour cues of video-genre work. What changes between frames (cuts, camera and object motion) is
the motion stream's (models/motion.py): this one is appearance only, as in two-stream models.
Stored as float16 (n_frames, dim).

Head: standardise each feature (statistics of the training frames, kept as buffers), pool over
time with one of POOLINGS (the temporal mean of fastVideo; TempConv's Conv1d over the frame
sequence; an LSTM's last state; a bidirectional LSTM's states, max-pooled over time), then the
paper's MLP 512 -> 64 -> 13. The models differ only in their head: they read the same cached features.
"""

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image
from torch import nn

from models.bundle import Bundle
from models.decode import Decode
from models.gradcam import display_size, heatmap
from models.image import image_stats
from models.image_encoder import ImageEncoder
from models.media import SampledFrames
from models.media.frames import FramesWanted
from models.torch_fit import Standardise

HEATMAP_FRAMES = 3  # per explained genre, the frames that raise it most get a Grad-CAM heatmap


class MeanPool(nn.Module):
    """fastVideo: the temporal mean of the frame features."""

    def __init__(self, dim: int):
        super().__init__()
        self.width = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)


class TempConv(nn.Sequential):
    """A temporal Conv1d (kernel 3) + ReLU over the frame sequence, pooled by mean and max."""

    def __init__(self, dim: int, channels: int):
        super().__init__(nn.Conv1d(dim, channels, kernel_size=3, padding=1), nn.ReLU())
        self.width = 2 * channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = super().forward(x.transpose(1, 2))  # (batch, channels, frames)
        return torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)


class LSTMPool(nn.Module):
    """CNN+LSTM: an LSTM reads the frame features in order; its last hidden state sums up the trailer."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.width = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        return h[-1]


class BiLSTMPool(nn.Module):
    """A bidirectional LSTM over the frame features; each step's two states (the frames before it and those
    after it) concatenated and max-pooled over time (BiLSTM-max): every frame counts, not only the ends."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.width = 2 * hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.lstm(x)  # (batch, frames, 2 * hidden)
        return states.amax(dim=1)


# pooling name -> its module, built from the feature width and the encoder's parameters;
# (batch, frames, dim) -> (batch, module.width)
POOLINGS: dict[str, Callable[[int, "VideoEncoder"], nn.Module]] = {
    "mean": lambda dim, params: MeanPool(dim),
    "tempconv": lambda dim, params: TempConv(dim, params.conv_channels),
    "lstm": lambda dim, params: LSTMPool(dim, params.lstm_hidden),
    "bilstm": lambda dim, params: BiLSTMPool(dim, params.lstm_hidden),  # lstm_hidden per direction
}


class VideoHead(nn.Module):
    """Standardise each feature, pool over time (`temporal`), then the paper's MLP."""

    def __init__(self, dim: int, temporal: nn.Module, hidden: tuple[int, int], dropout: float, n_genres: int):
        super().__init__()
        self.norm = Standardise(dim)
        self.temporal = temporal
        self.mlp = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(temporal.width, hidden[0]), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden[0], hidden[1]), nn.ReLU(), nn.Linear(hidden[1], n_genres),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, frames, dim) -> (batch, n_genres) logits
        return self.mlp(self.temporal(self.norm(x)))


class VideoEncoder(ImageEncoder):
    modality = "video"
    source = "trailer"
    preprocessing_params = ("backbone", "weights_path", "vgg_fc7", "frame_size", "n_frames", "frame_stats")
    typicality_input = "trailer"
    typicality_describes = "each frame feature's mean and spread over the trailer's sampled frames"

    def __init__(self, backbone: str = "efficientnet_lite0", weights_path: str | None = None, vgg_fc7: bool = False,
                 frame_size: int = 160, n_frames: int = 16, frame_stats: bool = True, pooling: str = "mean",
                 hidden: tuple[int, int] = (512, 64), conv_channels: int = 128, lstm_hidden: int = 128,
                 dropout: float = 0.3, lr: float = 1e-3, weight_decay: float = 1e-4, epochs: int = 80,
                 patience: int = 15, batch_size: int = 32, seed: int = 0):
        self._store(backbone=backbone, weights_path=weights_path, vgg_fc7=vgg_fc7, frame_size=frame_size,
                    n_frames=n_frames, frame_stats=frame_stats, pooling=pooling, hidden=list(hidden),
                    conv_channels=conv_channels, lstm_hidden=lstm_hidden, dropout=dropout, lr=lr,
                    weight_decay=weight_decay, epochs=epochs, patience=patience, batch_size=batch_size, seed=seed)

    def announce_reads(self, bundle: Bundle, decode: Decode) -> None:
        decode.expect(bundle.trailer, self._wanted())

    def load_input(self, bundle: Bundle, decode: Decode | None = None) -> SampledFrames:
        """`n_frames` (frame_size, frame_size, 3) uint8 frames spread over the trailer, with their times."""
        return (decode or Decode()).frames(bundle.trailer, self._wanted())

    def _wanted(self) -> FramesWanted:
        return FramesWanted(self.n_frames, (self.frame_size, self.frame_size))

    def embed(self, sampled: SampledFrames) -> np.ndarray:
        """(n_frames, dim) float16: backbone features of all frames (one batch), then frame statistics."""
        return self.embed_many([sampled])[0]

    def embed_many(self, movies: list[SampledFrames]) -> list[np.ndarray]:
        """`embed` of each movie's frames, with the frames of all of them in one backbone batch."""
        pixels = [_pixels(sampled) for sampled in movies]
        cnn = self.cnn_features(torch.cat(pixels)).split([len(p) for p in pixels]) if pixels else []
        return [torch.cat([c, *self.extra_features(p)], dim=1).numpy().astype(np.float16)
                for p, c in zip(pixels, cnn, strict=True)]

    def extra_features(self, pixels: torch.Tensor) -> list[torch.Tensor]:
        return [image_stats(pixels)] if self.frame_stats else []

    def head_batch(self, features: torch.Tensor) -> torch.Tensor:
        return features[None]  # one trailer's frames

    def typicality_vector(self, features: np.ndarray) -> np.ndarray:
        frames = np.asarray(features, dtype=np.float32)
        return np.concatenate([frames.mean(axis=0), frames.std(axis=0)])

    def new_head(self, dim: int) -> VideoHead:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        return VideoHead(dim, POOLINGS[self.pooling](dim, self), tuple(self.hidden), self.dropout, len(self.genres_))

    def explain(self, sampled: SampledFrames, genres: list[str]) -> dict:
        """Each frame's importance per genre (the trailer's log-odds for it less those without the frame),
        and Grad-CAM heatmaps of the HEATMAP_FRAMES most important frames per genre."""
        features, logits, cams = self.explain_pass(_pixels(sampled), genres)
        importance = logits[None] - leave_one_out(self.head_, features, len(self.genres_))  # (n_frames, n_genres)
        size = display_size(sampled.source_size)
        heatmaps = []
        for genre in genres:
            column = importance[:, self.genres_.index(genre)]
            for i in torch.argsort(column, descending=True, stable=True)[:HEATMAP_FRAMES].tolist():
                frame = Image.fromarray(sampled.frames[i])
                heatmaps.append({"genre": genre, "time_s": round(float(sampled.times_s[i]), 3), "frame": i,
                                 **heatmap(frame, cams[genre][i], size)})
        return {"times_s": [round(float(t), 3) for t in sampled.times_s],
                "importance": {g: importance[:, self.genres_.index(g)].tolist() for g in genres},
                "heatmaps": heatmaps}


def leave_one_out(head: nn.Module, features: torch.Tensor, n_genres: int) -> torch.Tensor:
    """(n, n_genres): the head's logits over one item's n steps (frames, runs) with step i left out, for each i
    (no step left: 0, even odds)."""
    n = len(features)
    if n == 1:
        return torch.zeros(1, n_genres)
    keep = torch.tensor([[k for k in range(n) if k != i] for i in range(n)])
    with torch.inference_mode():
        return head(features[keep]).float().cpu()


def _pixels(sampled: SampledFrames) -> torch.Tensor:
    return torch.tensor(sampled.frames, dtype=torch.uint8)  # a copy: decoded frames are read-only buffers
