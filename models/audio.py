"""Audio: a CRNN (after Choi et al. 2017) over log-mel spectrograms of the trailer's soundtrack.

Features (cached): the soundtrack decoded to mono PCM at `sample_rate` (at most
`max_seconds`, by default `n_clips * clip_seconds`), cut into `n_clips` windows of
`clip_seconds` spread evenly over it (a short soundtrack is padded with silence, so a
2-second trailer still gives `n_clips` clips), each turned into a log-mel spectrogram on
an absolute dB scale (ref 1.0 = full-scale power, floored at -100 dB; not normalised per
file, so loudness is kept). The CRNN is trained on clips, each labelled with its movie's
genres; a trailer's score is the mean of its clips' probabilities (the paper's "scores
combined per trailer").

A trailer whose file has no audio stream has no audio modality: `load_input` returns
None (it raises nothing for that case) and `embed(None)` is None, which callers treat as
"modality absent". `fit_features` leaves such items out; `predict_features` refuses them.
"""

from itertools import pairwise
from pathlib import Path

import librosa
import numpy as np
import torch
from torch import nn

from models.base import Encoder, load_torch_state, save_torch_state
from models.bundle import Bundle
from models.decode import Decode
from models.media import extract_audio
from models.torch_fit import FitSettings, Standardise, fit_module, predict_proba, torch_threads

WEIGHTS = "crnn.pt"
SILENCE_DB = -100.0  # power_to_db's floor for amin=1e-10: what digital silence maps to
STRETCHES_PER_CLIP = 10  # explanations: each clip is occluded in this many equal stretches, one at a time


class CRNN(nn.Module):
    """Conv blocks (conv 3x3, BN, ReLU, max-pool over mel and time), a GRU over time, a linear layer.

    The GRU sees, at each time step, every channel at every remaining mel band (flattened), so
    it knows *where* in the spectrum a pattern sits (pitch), not only that it occurs somewhere.
    The classifier reads the GRU outputs summarised over time (mean and max) beside the clip's
    spectral profile (each mel band's mean and spread over time): a direct, linear path to
    pitch and timbre that a few hundred training clips can learn, next to the rhythm the
    recurrent path learns.
    """

    def __init__(self, n_mels: int, channels: tuple[int, ...], gru_hidden: int, dropout: float, n_genres: int):
        super().__init__()
        self.norm = Standardise(n_mels)  # per mel bin, learned from the training clips
        blocks, previous = [], 1
        for i, c in enumerate(channels):
            # the first block strides its conv (then pools time once more): full-resolution
            # activations dominate CPU time, and /2 mel x /4 time (85 ms) still resolves beats
            stride, pool = ((2, 2), (1, 2)) if i == 0 else ((1, 1), (2, 2))
            blocks += [nn.Conv2d(previous, c, 3, stride=stride, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
                       nn.MaxPool2d(pool, ceil_mode=True)]  # ceil: tiny inputs never pool to zero
            previous = c
        self.conv = nn.Sequential(*blocks)
        with torch.no_grad():
            bands = self.conv(torch.zeros(1, 1, n_mels, 16)).shape[2]
        self.gru = nn.GRU(previous * bands, gru_hidden, batch_first=True)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * gru_hidden + 2 * n_mels, n_genres))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:  # (batch, n_mels, frames) -> (batch, n_genres) logits
        x = self.norm(mel.transpose(1, 2)).transpose(1, 2)  # (batch, n_mels, frames)
        profile = torch.cat([x.mean(dim=2), x.std(dim=2)], dim=1)
        h = self.conv(x.unsqueeze(1)).flatten(1, 2)  # (batch, channels x mel bands, time)
        steps, _ = self.gru(h.transpose(1, 2))  # (batch, time, hidden)
        return self.out(torch.cat([steps.mean(dim=1), steps.amax(dim=1), profile], dim=1))


class AudioEncoder(Encoder):
    modality = "audio"
    source = "trailer"
    preprocessing_params = ("sample_rate", "n_mels", "hop_length", "n_fft", "clip_seconds", "n_clips",
                            "max_seconds")
    typicality_input = "soundtrack"
    typicality_describes = "each mel band's mean level and its spread over time, averaged over the clips"

    def __init__(self, sample_rate: int = 12000, n_mels: int = 96, hop_length: int = 256, n_fft: int = 2048,
                 clip_seconds: float = 10.0, n_clips: int = 3, max_seconds: float | None = None,
                 channels: tuple[int, ...] = (8, 16, 32), gru_hidden: int = 32, dropout: float = 0.3,
                 lr: float = 2e-3, epochs: int = 30, patience: int = 8, batch_size: int = 32, seed: int = 0):
        self._store(sample_rate=sample_rate, n_mels=n_mels, hop_length=hop_length, n_fft=n_fft,
                    clip_seconds=clip_seconds, n_clips=n_clips, max_seconds=max_seconds, channels=list(channels),
                    gru_hidden=gru_hidden, dropout=dropout, lr=lr, epochs=epochs, patience=patience,
                    batch_size=batch_size, seed=seed)

    # ---- input side
    def load_input(self, bundle: Bundle, decode: Decode | None = None) -> np.ndarray | None:
        """Mono float32 PCM at `sample_rate`, or None when the trailer has no (or an empty) audio stream:
        whether a trailer has a soundtrack is known only once it is probed."""
        info = (decode or Decode()).probe(bundle.trailer)
        pcm = extract_audio(bundle.trailer, info, self.sample_rate, self.decode_seconds)
        return pcm if pcm is not None and pcm.size else None

    def embed(self, pcm: np.ndarray | None) -> np.ndarray | None:
        """(n_clips, n_mels, clip_frames) float16 log-mel clips in dB, or None without audio."""
        if pcm is None:
            return None
        mel = librosa.feature.melspectrogram(y=self._windows(pcm), sr=self.sample_rate, n_fft=self.n_fft,
                                             hop_length=self.hop_length, n_mels=self.n_mels)
        db = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
        return np.maximum(db, SILENCE_DB).astype(np.float16)

    def typicality_vector(self, features: np.ndarray | None) -> np.ndarray | None:
        if features is None:
            return None
        clips = np.asarray(features, dtype=np.float32)  # (n_clips, n_mels, frames)
        return np.concatenate([clips.mean(axis=(0, 2)), clips.std(axis=2).mean(axis=0)])

    @property
    def decode_seconds(self) -> float:
        return float(self.max_seconds or self.n_clips * self.clip_seconds)

    @property
    def clip_frames(self) -> int:
        """Spectrogram frames per clip (librosa centres frames: 1 + samples // hop)."""
        return 1 + self._clip_samples() // self.hop_length

    def _clip_samples(self) -> int:
        return round(self.clip_seconds * self.sample_rate)

    def _windows(self, pcm: np.ndarray) -> np.ndarray:
        """(n_clips, clip_samples): windows spread evenly over the soundtrack (overlapping if it is short)."""
        size = self._clip_samples()
        pcm = np.asarray(pcm, dtype=np.float32)
        if len(pcm) < size:
            pcm = np.pad(pcm, (0, size - len(pcm)))
        return np.stack([pcm[s:s + size] for s in self._clip_starts(len(pcm))])

    def _clip_starts(self, n_samples: int) -> np.ndarray:
        """Each clip's first sample in a soundtrack of `n_samples` (padded to one clip when shorter)."""
        return np.linspace(0, max(n_samples, self._clip_samples()) - self._clip_samples(),
                           self.n_clips).round().astype(int)

    # ---- explanation
    def explain(self, pcm: np.ndarray, genres: list[str]) -> dict:
        """Each stretch's importance per genre: the soundtrack's log-odds for the genre less those with the
        stretch's log-mel frames replaced by the training average (per mel band), i.e. made uninformative.
        Stretches are STRETCHES_PER_CLIP equal parts of each clip, in time order (clips overlap when the
        soundtrack is shorter than n_clips x clip_seconds)."""
        clips = torch.as_tensor(self.embed(pcm).astype(np.float32))  # (n_clips, n_mels, frames)
        bounds = np.linspace(0, clips.shape[2], STRETCHES_PER_CLIP + 1).round().astype(int)
        occluded = clips[:, None].repeat(1, STRETCHES_PER_CLIP, 1, 1)  # (clips, stretches, mels, frames)
        for s, (a, b) in enumerate(pairwise(bounds)):
            occluded[:, s, :, a:b] = self.crnn_.norm.mean.cpu()[:, None]
        full = predict_proba(self.crnn_, clips, self.device, self.batch_size)  # (n_clips, n_genres)
        without = predict_proba(self.crnn_, occluded.flatten(0, 1), self.device, self.batch_size)
        without = without.reshape(self.n_clips, STRETCHES_PER_CLIP, len(self.genres_))
        trailer = full.mean(axis=0)
        # occluding a stretch of clip c changes only clip c's share of the trailer's mean
        changed = trailer + (without - full[:, None]) / self.n_clips
        importance = (_logit(trailer) - _logit(changed)).reshape(-1, len(self.genres_))
        window_s = self.clip_seconds / STRETCHES_PER_CLIP
        starts = self._clip_starts(len(pcm)) / self.sample_rate
        times = (starts[:, None] + np.arange(STRETCHES_PER_CLIP) * window_s).ravel()
        order = np.argsort(times, kind="stable")
        return {"times_s": [round(float(t), 3) for t in times[order]], "window_s": window_s,
                "importance": {g: importance[order, self.genres_.index(g)].tolist() for g in genres}}

    # ---- learned side
    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "AudioEncoder":
        clips, clip_y = self._clip_set(X, Y)
        if len(clips) == 0:
            raise ValueError("no training item has an audio track")
        torch.manual_seed(self.seed)  # the initial weights, not just the batch order, are seeded
        self.crnn_ = self._new_crnn()
        self.crnn_.norm.fit(clips.transpose(1, 2))
        settings = FitSettings(lr=self.lr, epochs=self.epochs, patience=self.patience,
                               batch_size=self.batch_size, seed=self.seed)
        val = self._clip_set(X_val, Y_val) if X_val is not None and Y_val is not None else (None, None)
        if val[0] is not None and len(val[0]) == 0:
            val = (None, None)
        with torch_threads(1):
            fit_module(self.crnn_, clips, clip_y, *val, settings, self.device)
        return self

    def predict_features(self, X) -> np.ndarray:
        if any(x is None for x in X):
            raise ValueError("an item has no audio features (no audio track); leave it out of the audio scores")
        if not X:
            return np.zeros((0, len(self.genres_)), dtype=np.float32)
        clips, _ = self._clip_set(X, None)
        proba = predict_proba(self.crnn_, clips, self.device, self.batch_size)
        return proba.reshape(len(X), self.n_clips, len(self.genres_)).mean(axis=1)

    def _clip_set(self, X, Y) -> tuple[torch.Tensor, torch.Tensor | None]:
        """All clips of the items that have audio as one tensor; each clip carries its trailer's labels."""
        keep = [i for i, x in enumerate(X) if x is not None]
        shape = (self.n_clips, self.n_mels, self.clip_frames)
        for i in keep:
            if tuple(X[i].shape) != shape:
                raise ValueError(f"audio features of shape {tuple(X[i].shape)}, expected {shape}")
        clips = torch.as_tensor(np.stack([X[i] for i in keep]).reshape(-1, *shape[1:]) if keep
                                else np.zeros((0, *shape[1:])), dtype=torch.float32)
        if Y is None:
            return clips, None
        labels = np.repeat(np.asarray(Y, dtype=np.float32)[keep], self.n_clips, axis=0)
        return clips, torch.as_tensor(labels.reshape(-1, len(self.genres_)))

    def _new_crnn(self) -> CRNN:
        return CRNN(self.n_mels, tuple(self.channels), self.gru_hidden, self.dropout, len(self.genres_))

    # ---- persistence (the architecture follows from the parameters; the scaling is in the weights)
    def save_weights(self, directory: Path) -> None:
        save_torch_state(self.crnn_, directory / WEIGHTS)

    def load_weights(self, directory: Path) -> None:
        self.crnn_ = self._new_crnn()
        load_torch_state(self.crnn_, directory / WEIGHTS)
        self.crnn_.to(self.device).eval()


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
