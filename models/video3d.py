"""Video (3D CNN): a small C3D (Tran et al. 2015) trained from scratch over short clips of consecutive frames.

Input: `n_windows` runs of `window_frames` consecutive grey frames `width` pixels wide, spread over the
trailer and read by `Decode.frame_runs` (models.decode: the trailer's limits and deadline). The defaults
ask for exactly the motion encoder's runs, so where models.decode shares a decode of the runs (with a frame
reader's sampled frames) this reader takes the motion reader's. Other settings work too: the runs announced
last are the ones shared, and the other reader decodes its own apart.
Features (cached): each run squashed to `clip_size` squares (OpenCV's area filter) and padded to
`window_frames` frames with its last one (a very short trailer has shorter runs); uint8 (n_windows,
window_frames, clip_size, clip_size), 36 KB a trailer by default. Everything learned is in the head, which
keeps them uint8 until each batch (`stack`): a paper-size training set does not fit in memory as floats.

Head: one standardisation for every pixel (`PixelStandardise`: `Standardise` with a single mean and
spread, a pixel being a pixel wherever it sits), then per clip C3D's recipe at a small size: 3x3x3
convolutions with batch norm, ReLU and max pooling (space only after the first block, space and time
after the others), global mean and max; the clips' vectors are averaged over the trailer and an MLP
scores the genres. The first block reads each frame and its change from the frame before (TSN's "RGB
difference", Wang et al. 2016): on 1,000 synthetic trailers it lifted AP on the genres planted in motion
from 0.37 to 0.45 (uAP 0.52 to 0.56) for about 10% more compute. Training mirrors clips left to right at
random.

Why not I3D (Carreira & Zisserman 2017: EfficientNet-Lite0 of models.backbones inflated to 3D): inflated
weights are only worth their ImageNet prior once fine-tuned end to end, at some GMACs per 16-frame 160 px
clip, about a day of 2 CPU cores for one fit on 700 trailers. This C3D costs about 25 MMACs per default
clip (blocks of 8 to 64 channels at 32x32), and fits 210 trailers in under a minute. Its price: no
ImageNet prior, low resolution, and grey (the runs are the motion reader's), so it sees brightness,
texture, cuts and movement but not colour, which the frame models read.

Measured on synthetic trailers rendered by training.synth_media and cut into runs as models.media.motion
does (no codec), test split, against the prior: n = 300, mAP 0.45 (prior 0.18), uAP 0.53 (0.38), the four
motion genres 0.40 (0.29), fit 47 s on 2 idle cores (31 epochs); n = 1,000, mAP 0.40 to 0.43 (0.20), uAP
0.54 to 0.56 (0.40), motion genres 0.43 to 0.45 (0.29), fit about 6 minutes on one core of a busy machine.
"""

import math

import cv2
import numpy as np
import torch
from torch import nn

from models.head_encoder import HeadEncoder
from models.media.motion import FrameRuns
from models.motion import ReadsFrameRuns
from models.torch_fit import BOUND_MARGIN, Standardise
from models.video import leave_one_out

# bump when the clips' layout or resizing change: cached clips of an older layout are not reused
FEATURES_VERSION = 1
CUT_DIFF = 40.0  # mean absolute grey change between two frames above which typicality counts a cut


class PixelStandardise(Standardise):
    """`Standardise` with one mean, spread and range for all pixels (buffers of size 1, broadcast over any
    shape). Fitted item by item: a paper-size training set of uint8 clips does not fit in memory as floats."""

    def __init__(self):
        super().__init__(1)

    def fit(self, X: torch.Tensor) -> "PixelStandardise":
        count = X[0].numel() * len(X)
        total = sum(float(x.double().sum()) for x in X)
        squares = sum(float(x.double().square().sum()) for x in X)
        mean = total / count
        std = max(math.sqrt(max(squares / count - mean * mean, 0.0) * count / max(count - 1, 1)), 1e-4)
        low, high = (float(X.amin()) - mean) / std, (float(X.amax()) - mean) / std
        margin = BOUND_MARGIN * (high - low)
        for buffer, value in ((self.mean, mean), (self.std, std), (self.low, low - margin),
                              (self.high, high + margin)):
            buffer.fill_(value)
        return self


def _block(c_in: int, c_out: int, pool: tuple[int, int, int]) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm3d(c_out),
                         nn.ReLU(inplace=True), nn.MaxPool3d(pool))


class C3D(nn.Module):
    """(clips, 1, frames, size, size) -> (clips, width): the convolution blocks over each frame and its change
    from the one before, then global mean and max."""

    def __init__(self, frames: int, size: int, channels: tuple[int, ...]):
        super().__init__()
        blocks, c_in = [], 2
        for k, c_out in enumerate(channels):
            pool_t, pool_s = (2 if k > 0 and frames >= 2 else 1), (2 if size >= 2 else 1)
            blocks.append(_block(c_in, c_out, (pool_t, pool_s, pool_s)))
            c_in, frames, size = c_out, frames // pool_t, size // pool_s
        self.blocks = nn.Sequential(*blocks)
        self.width = 2 * c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        change = torch.cat([torch.zeros_like(x[:, :, :1]), x.diff(dim=2)], dim=2)
        maps = self.blocks(torch.cat([x, change], dim=1)).flatten(2)
        return torch.cat([maps.mean(dim=2), maps.amax(dim=2)], dim=1)


class ClipHead(nn.Module):
    """(batch, clips, frames, size, size) uint8 -> (batch, n_genres) logits; any number of clips."""

    def __init__(self, frames: int, size: int, channels: tuple[int, ...], hidden: int, dropout: float,
                 n_genres: int, mirror: bool):
        super().__init__()
        self.norm = PixelStandardise()
        self.clips = C3D(frames, size, channels)
        self.mlp = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.clips.width, hidden), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(hidden, n_genres))
        self.mirror = mirror

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, n = x.shape[:2]
        clips = self.norm(x.flatten(0, 1)).unsqueeze(1)
        if self.training and self.mirror:
            flipped = torch.rand(len(clips), device=clips.device) < 0.5
            clips = torch.where(flipped[:, None, None, None, None], clips.flip(-1), clips)
        return self.mlp(self.clips(clips).view(batch, n, -1).mean(dim=1))


class Video3DEncoder(ReadsFrameRuns, HeadEncoder):
    modality = "video"
    source = "trailer"
    preprocessing_params = ("n_windows", "window_frames", "width", "clip_size")
    typicality_input = "trailer"
    typicality_describes = ("each clip's brightness, contrast, texture, frame-to-frame change and cuts, "
                            "their mean and spread over the trailer's clips")

    def __init__(self, n_windows: int = 3, window_frames: int = 12, width: int = 160, clip_size: int = 32,
                 channels: tuple[int, ...] = (8, 16, 32, 64), hidden: int = 64, mirror: bool = True,
                 dropout: float = 0.3, lr: float = 2e-3, weight_decay: float = 1e-4, epochs: int = 40,
                 patience: int = 8, batch_size: int = 16, seed: int = 0):
        self._store(n_windows=n_windows, window_frames=window_frames, width=width, clip_size=clip_size,
                    channels=list(channels), hidden=hidden, mirror=mirror, dropout=dropout, lr=lr,
                    weight_decay=weight_decay, epochs=epochs, patience=patience, batch_size=batch_size,
                    seed=seed)

    # ---- input side (ReadsFrameRuns)
    def embed(self, runs: FrameRuns) -> np.ndarray:
        """uint8 (n_windows, window_frames, clip_size, clip_size): each run squashed, padded to its length."""
        n, frames, height, width = runs.frames.shape
        size = (self.clip_size, self.clip_size)
        small = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in runs.frames.reshape(-1, height, width)]
        clips = np.stack(small).reshape(n, frames, *size)
        pad = np.repeat(clips[:, -1:], self.window_frames - frames, axis=1)
        return np.ascontiguousarray(np.concatenate([clips, pad], axis=1), dtype=np.uint8)

    def feature_identity(self) -> dict:
        return {"features_version": FEATURES_VERSION, "opencv": cv2.__version__}

    # ---- the head (models.head_encoder)
    def stack(self, X) -> torch.Tensor:
        return torch.as_tensor(np.stack(X))  # uint8: the head's norm converts each batch

    def head_batch(self, features: torch.Tensor) -> torch.Tensor:
        return features[None]  # one trailer's clips

    def new_head(self, dim: int) -> ClipHead:
        """`dim` (the clips' last axis; 1 when loading) is unused: the parameters say what to build."""
        return ClipHead(self.window_frames, self.clip_size, tuple(self.channels), self.hidden, self.dropout,
                        len(self.genres_), self.mirror)

    # ---- typicality and explanations
    def typicality_vector(self, features: np.ndarray) -> np.ndarray:
        per_clip = clip_statistics(np.asarray(features, dtype=np.float32))
        return np.concatenate([per_clip.mean(axis=0), per_clip.std(axis=0)])

    def explain(self, runs: FrameRuns, genres: list[str]) -> dict:
        """Each clip's importance per genre (the trailer's log-odds for it less those without the clip), with
        when the clip starts and how long it lasts. No heatmaps: the frame models draw those."""
        features = torch.as_tensor(self.embed(runs)).to(self.device)
        with torch.inference_mode():
            logits = self.head_(self.head_batch(features))[0].float().cpu()
        importance = logits[None] - leave_one_out(self.head_, features, len(self.genres_))  # (clips, genres)
        return {"times_s": [round(float(t), 3) for t in runs.starts_s],
                "window_s": round(runs.frames.shape[1] / runs.fps, 3),
                "importance": {g: importance[:, self.genres_.index(g)].tolist() for g in genres},
                "heatmaps": []}


def clip_statistics(clips: np.ndarray) -> np.ndarray:
    """(n_clips, 6) float32 from (n_clips, frames, h, w) grey: brightness, contrast, horizontal and vertical
    texture (mean absolute gradient), mean frame-to-frame change and the share of changes that are cuts."""
    change = np.abs(np.diff(clips, axis=1)).mean(axis=(2, 3))  # (n_clips, frames - 1)
    texture = [np.abs(np.diff(clips, axis=axis)).mean(axis=(1, 2, 3)) for axis in (3, 2)]
    columns = [clips.mean(axis=(1, 2, 3)), clips.std(axis=(1, 2, 3)), *texture, change.mean(axis=1),
               (change > CUT_DIFF).mean(axis=1)]
    return np.stack(columns, axis=1).astype(np.float32)
