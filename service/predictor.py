"""One bundle in, genres out: the code path shared by `POST /v1/predict` and `moviescope predict`.

    probe the trailer once -> decode each present modality -> embed + score per encoder
    -> learned fusion over the present modalities -> per-genre thresholds
"""

import json
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from models.artifacts import Artifacts, load_artifacts
from models.base import check_proba
from models.bundle import Bundle, Metadata
from models.genres import GENRES, N_GENRES, as_genre_dict
from models.image import DEFAULT_MAX_PIXELS
from models.media import DEFAULT_LIMITS, MediaLimits, probe

DECODED_MODALITIES = ("video", "audio", "poster")


class Predictor:
    def __init__(self, artifacts: Artifacts, limits: MediaLimits = DEFAULT_LIMITS,
                 max_poster_pixels: int = DEFAULT_MAX_PIXELS):
        self.artifacts = artifacts
        self.limits = limits
        self.max_poster_pixels = max_poster_pixels

    @classmethod
    def from_dir(cls, root: Path, device: str = "cpu", **kwargs) -> "Predictor":
        predictor = cls(load_artifacts(root, device=device), **kwargs)
        predictor.warm_up()
        return predictor

    def warm_up(self) -> None:
        """Load lazily-built parts (backbones) now, so the first request does not pay for them."""
        for encoder in self.artifacts.encoders.values():
            encoder.feature_key()

    def predict(self, bundle: Bundle) -> dict:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        with torch.inference_mode():
            raw = self._decode(bundle, timings)
            scores = self._score(raw, timings)
            with _timed(timings, "fusion"):
                fused = self._fuse(scores)
        timings["total"] = (time.perf_counter() - start) * 1000
        return self._response(fused, scores, timings)

    def _decode(self, bundle: Bundle, timings: dict) -> dict:
        raw = {}
        with _timed(timings, "decode"):
            info = probe(bundle.trailer, self.limits) if bundle.trailer else None
            for modality, encoder in self.artifacts.encoders.items():
                if not encoder.has_input(bundle):
                    continue
                if modality == "poster":
                    raw[modality] = encoder.load_input(bundle, max_pixels=self.max_poster_pixels)
                elif modality in DECODED_MODALITIES:
                    raw[modality] = encoder.load_input(bundle, info)
        for modality, encoder in self.artifacts.encoders.items():
            if modality not in DECODED_MODALITIES and encoder.has_input(bundle):
                raw[modality] = encoder.load_input(bundle)
        return {m: r for m, r in raw.items() if r is not None}

    def _score(self, raw: dict, timings: dict) -> dict[str, np.ndarray]:
        scores = {}
        for modality, encoder in self.artifacts.encoders.items():
            if modality not in raw:
                continue
            with _timed(timings, modality):
                features = encoder.embed(raw[modality])
                if features is not None:
                    scores[modality] = check_proba(encoder.predict_features([features]))[0]
        return scores

    def _fuse(self, scores: dict[str, np.ndarray]) -> np.ndarray:
        fusion = self.artifacts.fusion
        stacked = np.full((1, len(fusion.modalities), N_GENRES), np.nan)
        for k, modality in enumerate(fusion.modalities):
            if modality in scores:
                stacked[0, k] = scores[modality]
        return fusion.predict(stacked)[0]

    def _response(self, fused: np.ndarray, scores: dict, timings: dict) -> dict:
        thresholds = self.artifacts.thresholds
        genres = [{"genre": g, "score": float(s), "predicted": bool(s >= t)}
                  for g, s, t in zip(GENRES, fused, thresholds, strict=True)]
        genres.sort(key=lambda item: -item["score"])
        modalities = list(self.artifacts.fusion.modalities)
        return {
            "model_version": self.artifacts.version,
            "genres": genres,
            "modalities": {m: as_genre_dict(scores[m]) for m in modalities if m in scores},
            "used_modalities": [m for m in modalities if m in scores],
            "missing_modalities": [m for m in modalities if m not in scores],
            "timings_ms": {k: round(v, 2) for k, v in timings.items()},
        }


@contextmanager
def _timed(timings: dict, name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + (time.perf_counter() - start) * 1000


def predict_cli(args) -> None:
    """`moviescope predict`: the same JSON as the endpoint, through the same Predictor."""
    from training.train import resolve_device

    metadata = _argument_text(args.metadata, "--metadata")
    bundle = Bundle(
        id="cli", trailer=args.trailer, poster=args.poster, plot=_argument_text(args.plot, "--plot"),
        metadata=Metadata.model_validate_json(metadata) if metadata else None,
    )
    predictor = Predictor.from_dir(args.artifacts, device=resolve_device(args.device))
    print(json.dumps(predictor.predict(bundle), indent=2))


def _argument_text(value: str | None, flag: str) -> str | None:
    if value is None or not value.startswith("@"):
        return value
    path = Path(value[1:])
    if not path.is_file():
        raise FileNotFoundError(f"{flag}: file not found: {path}")
    return path.read_text(encoding="utf-8")
