"""Audio: a CRNN (after Choi et al. 2017) over log-mel spectrograms of the trailer's soundtrack.

Features (cached): the soundtrack decoded to mono PCM at `sample_rate`, as a log-mel
spectrogram (absolute dB scale, not per-file normalised), cut into `n_clips` clips of
`clip_seconds` spread over the trailer (short soundtracks are padded with silence).
The CRNN is trained on clips labelled with their movie's genres; a trailer's score is
the mean of its clips' probabilities (the paper's per-trailer combination).

A trailer without an audio stream has no audio modality: `load_input` returns None and
`embed(None)` is None, which callers treat as "absent".
"""

from pathlib import Path

import librosa
import numpy as np
import torch
from torch import nn

from models.base import Encoder, load_torch_state, save_torch_state
from models.bundle import Bundle
from models.genres import N_GENRES
from models.media import extract_audio, probe
from models.torch_fit import FitSettings, Standardise, fit_module, predict_proba

WEIGHTS = "crnn.pt"
SILENCE_DB = -100.0


class CRNN(nn.Module):
    def __init__(self, n_mels: int, channels: tuple[int, ...], gru_hidden: int, dropout: float):
        super().__init__()
        self.norm = Standardise(n_mels)  # per mel bin
        blocks, previous = [], 1
        for i, c in enumerate(channels):
            pool = (2, 4) if i == 0 else (2, 2)  # shrink time early: it is the long axis
            blocks += [nn.Conv2d(previous, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(pool)]
            previous = c
        self.conv = nn.Sequential(*blocks)
        self.gru = nn.GRU(previous, gru_hidden, batch_first=True)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(gru_hidden, N_GENRES))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:  # (batch, n_mels, frames)
        x = self.norm(mel.transpose(1, 2)).transpose(1, 2).unsqueeze(1)
        x = self.conv(x).mean(dim=2)  # (batch, channels, time)
        _, hidden = self.gru(x.transpose(1, 2))
        return self.out(hidden[-1])


class AudioEncoder(Encoder):
    modality = "audio"
    preprocessing_params = ("sample_rate", "n_mels", "hop_length", "n_fft", "clip_seconds", "n_clips")

    def __init__(self, sample_rate: int = 12000, n_mels: int = 64, hop_length: int = 256, n_fft: int = 512,
                 clip_seconds: float = 10.0, n_clips: int = 3, channels: tuple[int, ...] = (16, 32, 32),
                 gru_hidden: int = 32, dropout: float = 0.3, lr: float = 2e-3, epochs: int = 30,
                 patience: int = 8, batch_size: int = 32, seed: int = 0):
        self._store(sample_rate=sample_rate, n_mels=n_mels, hop_length=hop_length, n_fft=n_fft,
                    clip_seconds=clip_seconds, n_clips=n_clips, channels=list(channels), gru_hidden=gru_hidden,
                    dropout=dropout, lr=lr, epochs=epochs, patience=patience, batch_size=batch_size, seed=seed)

    def has_input(self, bundle: Bundle) -> bool:
        return bundle.trailer is not None

    def load_input(self, bundle: Bundle, media_info=None) -> np.ndarray | None:
        info = media_info or probe(bundle.trailer)
        return extract_audio(bundle.trailer, info, self.sample_rate)

    def embed(self, pcm: np.ndarray | None) -> np.ndarray | None:
        """(n_clips, n_mels, clip_frames) float16 log-mel clips, or None without audio."""
        if pcm is None:
            return None
        mel = librosa.feature.melspectrogram(y=pcm, sr=self.sample_rate, n_fft=self.n_fft,
                                             hop_length=self.hop_length, n_mels=self.n_mels)
        db = np.maximum(librosa.power_to_db(mel, ref=1.0, top_db=None), SILENCE_DB)
        return self._clips(db).astype(np.float16)

    def _clips(self, db: np.ndarray) -> np.ndarray:
        frames = int(round(self.clip_seconds * self.sample_rate / self.hop_length))
        if db.shape[1] < frames:
            db = np.pad(db, ((0, 0), (0, frames - db.shape[1])), constant_values=SILENCE_DB)
        starts = np.linspace(0, db.shape[1] - frames, self.n_clips).round().astype(int)
        return np.stack([db[:, s:s + frames] for s in starts])

    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "AudioEncoder":
        clips, clip_y = _clip_set(X, Y)
        self.crnn_ = CRNN(self.n_mels, tuple(self.channels), self.gru_hidden, self.dropout)
        self.crnn_.norm.fit(clips.transpose(1, 2))
        settings = FitSettings(lr=self.lr, epochs=self.epochs, patience=self.patience,
                               batch_size=self.batch_size, seed=self.seed)
        val = _clip_set(X_val, Y_val) if X_val else (None, None)
        fit_module(self.crnn_, clips, clip_y, *val, settings, self.device)
        return self

    def predict_features(self, X) -> np.ndarray:
        clips, _ = _clip_set(X, None)
        proba = predict_proba(self.crnn_, clips, self.device)
        return proba.reshape(len(X), -1, N_GENRES).mean(axis=1)

    def save_weights(self, directory: Path) -> None:
        save_torch_state(self.crnn_, directory / WEIGHTS)

    def load_weights(self, directory: Path) -> None:
        self.crnn_ = CRNN(self.n_mels, tuple(self.channels), self.gru_hidden, self.dropout)
        load_torch_state(self.crnn_, directory / WEIGHTS)
        self.crnn_.to(self.device).eval()


def _clip_set(X, Y) -> tuple[torch.Tensor, torch.Tensor | None]:
    """All clips as one tensor; each clip carries its trailer's labels."""
    clips = torch.as_tensor(np.concatenate(X)).float()
    if Y is None:
        return clips, None
    per_trailer = len(X[0])
    return clips, torch.as_tensor(np.repeat(np.asarray(Y), per_trailer, axis=0), dtype=torch.float32)
