"""Motion: how the trailer moves (optical flow, camera and object motion, shot pace), the second
stream beside its frames (the two-stream recipe: appearance frames plus flow, fused late).

Features (cached), per trailer: `n_windows` runs of `window_frames` consecutive grey frames `width`
pixels wide, centred on equal parts of the trailer and decoded under the trailer's limits and
deadline (models.media.motion), each run described by models.motion_features' MOTION_COLUMNS: DIS
flow statistics, the camera's pan, shake and zoom apart from the objects' motion, cuts and shot
length. float32 (n_windows, len(MOTION_COLUMNS)).

Head: models.video.VideoHead over the runs in time order (standardise each feature, pool over the
runs with one of the video POOLINGS, a small MLP); the mean by default: with a few runs spread over
the trailer it was clearly better than TempConv on the synthetic benchmark (AP on the genres planted
in motion 0.53 against 0.45, n = 300, seed 0).
"""

import cv2
import numpy as np
import torch

from models.bundle import Bundle
from models.decode import Decode
from models.head_encoder import HeadEncoder
from models.media.motion import FrameRuns, RunsWanted
from models.motion_features import MOTION_COLUMNS, motion_features
from models.video import POOLINGS, VideoHead, leave_one_out

# bump when motion_features or the feature layout change: cached features of an older layout are not reused
FEATURES_VERSION = 4
# per-run measures an explanation shows beside each run's importance, so a reader sees what moved
SHOWN_MEASURES = ("cuts_per_s", "pan_speed", "shake", "zoom_speed", "object_speed")


class ReadsFrameRuns:
    """The input side of an encoder of runs of frames (motion, models.video3d): its `n_windows` runs of
    `window_frames` grey frames `width` pixels wide, announced so that one decode serves every reader."""

    def announce_reads(self, bundle: Bundle, decode: Decode) -> None:
        decode.expect(bundle.trailer, self._wanted())

    def load_input(self, bundle: Bundle, decode: Decode | None = None) -> FrameRuns:
        """`n_windows` runs of consecutive grey frames spread over the trailer."""
        return (decode or Decode()).frame_runs(bundle.trailer, self._wanted())

    def _wanted(self) -> RunsWanted:
        return RunsWanted(self.n_windows, self.window_frames, self.width)


class MotionEncoder(ReadsFrameRuns, HeadEncoder):
    modality = "motion"
    source = "trailer"
    preprocessing_params = ("n_windows", "window_frames", "width")
    typicality_input = "trailer"
    typicality_describes = "each motion feature's mean and spread over the trailer's runs of frames"

    def __init__(self, n_windows: int = 3, window_frames: int = 12, width: int = 160, pooling: str = "mean",
                 hidden: tuple[int, int] = (64, 32), conv_channels: int = 32, lstm_hidden: int = 32,
                 dropout: float = 0.2, lr: float = 2e-3, weight_decay: float = 1e-4, epochs: int = 150,
                 patience: int = 20, batch_size: int = 32, seed: int = 0):
        self._store(n_windows=n_windows, window_frames=window_frames, width=width, pooling=pooling,
                    hidden=list(hidden), conv_channels=conv_channels, lstm_hidden=lstm_hidden, dropout=dropout,
                    lr=lr, weight_decay=weight_decay, epochs=epochs, patience=patience, batch_size=batch_size,
                    seed=seed)

    def embed(self, runs: FrameRuns) -> np.ndarray:
        return motion_features(runs)

    def feature_identity(self) -> dict:
        return {"features_version": FEATURES_VERSION, "opencv": cv2.__version__}

    def head_batch(self, features: torch.Tensor) -> torch.Tensor:
        return features[None]  # one trailer's runs

    def new_head(self, dim: int) -> VideoHead:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        return VideoHead(dim, POOLINGS[self.pooling](dim, self), tuple(self.hidden), self.dropout, len(self.genres_))

    def typicality_vector(self, features: np.ndarray) -> np.ndarray:
        runs = np.asarray(features, dtype=np.float32)
        return np.concatenate([runs.mean(axis=0), runs.std(axis=0)])

    def explain(self, runs: FrameRuns, genres: list[str]) -> dict:
        """Each run's importance per genre (the trailer's log-odds for it less those without the run), with
        when the run starts, how long it lasts and what it measured (SHOWN_MEASURES)."""
        features = torch.as_tensor(self.embed(runs)).float().to(self.device)
        with torch.inference_mode():
            logits = self.head_(self.head_batch(features))[0].float().cpu()
        importance = logits[None] - leave_one_out(self.head_, features, len(self.genres_))  # (n_runs, n_genres)
        columns = [MOTION_COLUMNS.index(name) for name in SHOWN_MEASURES]
        return {"times_s": [round(float(t), 3) for t in runs.starts_s],
                "window_s": round(runs.frames.shape[1] / runs.fps, 3),
                "importance": {g: importance[:, self.genres_.index(g)].tolist() for g in genres},
                "measures": {name: [round(float(v), 4) for v in features[:, k].cpu()]
                             for name, k in zip(SHOWN_MEASURES, columns, strict=True)}}
