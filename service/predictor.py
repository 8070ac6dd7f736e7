"""One bundle in, genres out: the code path shared by `POST /v1/predict` and `moviescope predict`.

    decode the media files the encoders read, side by side (each file probed once)
    -> per present modality: embed + the encoder's genre scores
    -> learned fusion over the present modalities (NaN marks the absent) -> per-genre thresholds

Media problems propagate as `models.media.MediaError`s; the app maps them to 415 / 422.
"""

import json
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from pydantic import ValidationError

from models.artifacts import MANIFEST, ArtifactError, Artifacts, load_artifacts
from models.base import check_proba
from models.bundle import Bundle, Metadata
from models.decode import Decode
from models.genres import GENRES, N_GENRES, as_genre_dict
from models.image import DEFAULT_MAX_PIXELS
from models.media import DEFAULT_LIMITS, MediaLimits
from models.validation import describe


class MetadataError(ValueError):
    """Metadata that is not a JSON object of the expected fields; the message names each bad field."""


def parse_metadata(text: str | None) -> Metadata | None:
    if text is None or not text.strip():
        return None
    try:
        return Metadata.model_validate_json(text)
    except ValidationError as err:
        raise MetadataError(describe(err, prefix="metadata")) from None


def check_artifact_dir(root: Path) -> None:
    """Fail fast on the usual mistake (a wrong path) before anything slow starts."""
    if not (Path(root) / MANIFEST).is_file():
        raise ArtifactError(f"{root}: no {MANIFEST}; not a trained artifact directory "
                            "(run `moviescope train`, or set MOVIESCOPE_ARTIFACTS / --artifacts)")


class Predictor:
    def __init__(self, artifacts: Artifacts, limits: MediaLimits = DEFAULT_LIMITS,
                 max_poster_pixels: int = DEFAULT_MAX_PIXELS):
        self.artifacts = artifacts
        self.limits = limits
        self.max_poster_pixels = max_poster_pixels

    @classmethod
    def from_dir(cls, root: Path, device: str = "cpu", warm_up: bool = True, **kwargs: Any) -> "Predictor":
        check_artifact_dir(root)
        predictor = cls(load_artifacts(root, device=device), **kwargs)
        if warm_up:
            predictor.warm_up()
        return predictor

    def warm_up(self) -> None:
        """One prediction on a generated bundle, so the first request pays for nothing: it loads
        the CNN backbones and pays the first-call costs (librosa's JIT compilation, xgboost, ...)."""
        with tempfile.TemporaryDirectory(prefix="moviescope-warmup-") as tmp:
            self.predict(_sample_bundle(Path(tmp)))

    def predict(self, bundle: Bundle) -> dict:
        timings: dict[str, float] = {}
        with _timed(timings, "total"):
            _, scores, fused = self.scored(bundle, timings)
        return self._response(fused, scores, timings)

    def scored(self, bundle: Bundle, timings: dict[str, float]) -> tuple[dict[str, Any], dict[str, np.ndarray], np.ndarray]:
        """(decoded inputs, each present modality's scores, fused scores): the steps every answer takes."""
        with torch.inference_mode():
            with _timed(timings, "decode"):
                decoded = self._decode_media(bundle)
            scores = self._score(bundle, decoded, timings)
            with _timed(timings, "fusion"):
                fused = self._fuse(scores)
        return decoded, scores, fused

    def _decode_media(self, bundle: Bundle) -> dict[str, Any]:
        """Decoded inputs of the modalities that read a file; a trailer without a soundtrack has no audio.

        The decodes run side by side: they wait on ffmpeg subprocesses or Pillow, not on Python."""
        decode = Decode(self.limits, self.max_poster_pixels)
        present = {modality: encoder for modality, encoder in self.artifacts.encoders.items()
                   if encoder.reads_file and encoder.has_input(bundle)}
        with ThreadPoolExecutor(max(1, len(present))) as pool:
            pending = {modality: pool.submit(encoder.load_input, bundle, decode)
                       for modality, encoder in present.items()}
        decoded = {modality: future.result() for modality, future in pending.items()}
        return {modality: raw for modality, raw in decoded.items() if raw is not None}

    def _score(self, bundle: Bundle, decoded: dict[str, Any], timings: dict) -> dict[str, np.ndarray]:
        """Each present modality's (13,) scores."""
        scores = {}
        for modality, encoder in self.artifacts.encoders.items():
            present = modality in decoded if encoder.reads_file else encoder.has_input(bundle)
            if not present:
                continue
            with _timed(timings, modality):
                raw = decoded[modality] if modality in decoded else encoder.load_input(bundle)
                features = encoder.embed(raw)
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

    def _response(self, fused: np.ndarray, scores: dict[str, np.ndarray], timings: dict) -> dict:
        genres = [{"genre": g, "score": float(s), "predicted": bool(s >= t)}
                  for g, s, t in zip(GENRES, fused, self.artifacts.thresholds, strict=True)]
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


def _sample_bundle(directory: Path) -> Bundle:
    """A one-second clip with a soundtrack (ffmpeg's test sources, built-in codecs), a poster, a plot."""
    trailer, poster = directory / "sample.mp4", directory / "sample.png"
    sources = ["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10", "-f", "lavfi", "-i", "sine=frequency=440"]
    codecs = ["-c:v", "mpeg4", "-c:a", "aac"]
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", *sources, "-t", "1", *codecs, str(trailer)],
                   check=True, capture_output=True, timeout=60)
    Image.new("RGB", (32, 48), (120, 40, 40)).save(poster)
    return Bundle(id="sample", trailer=trailer, poster=poster, plot="A quiet town keeps a secret.",
                  metadata=Metadata(year=2000, runtime_min=100))


@contextmanager
def _timed(timings: dict[str, float], name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + (time.perf_counter() - start) * 1000


def predict_cli(args) -> None:
    """`moviescope predict`: the same JSON as the endpoint, through the same Predictor."""
    from models.device import resolve_device

    bundle = cli_bundle(args)
    predictor = Predictor.from_dir(args.artifacts, device=resolve_device(args.device), warm_up=False)
    print(json.dumps(predictor.predict(bundle), indent=2))


def cli_bundle(args) -> Bundle:
    """The bundle that `moviescope predict`'s flags describe."""
    return Bundle(id="cli", trailer=args.trailer, poster=args.poster, plot=_argument_text(args.plot, "--plot"),
                  metadata=parse_metadata(_argument_text(args.metadata, "--metadata")))


def _argument_text(value: str | None, flag: str) -> str | None:
    """The value itself, or the contents of FILE for `@FILE`."""
    if value is None or not value.startswith("@"):
        return value
    path = Path(value[1:])
    if not path.is_file():
        raise FileNotFoundError(f"{flag}: file not found: {path}")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{flag}: {path}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})") from None
