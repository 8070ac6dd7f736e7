"""One bundle in, genres out: the code path shared by `POST /v1/predict` and `moviescope predict`.

    admit: metadata checked against the model's schema (unknown fields set aside, named in the
           answer), and at least one part the model reads
    -> decode the media files the encoders read, side by side (each file probed once)
    -> per present modality: embed + the encoder's genre scores
    -> learned fusion over the present modalities (NaN marks the absent) -> per-genre thresholds

Media problems propagate as `models.media.MediaError`s, bad metadata as `MetadataError` and a bundle
with nothing the model reads as `BundleError`; the app maps them to 415 / 422.
"""

import dataclasses
import json
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from models.artifacts import MANIFEST, ArtifactError, Artifacts, load_artifacts
from models.base import check_proba
from models.bundle import Bundle
from models.decode import Decode
from models.image import DEFAULT_MAX_PIXELS
from models.media import DEFAULT_LIMITS, MediaLimits
from models.schema import MetadataError, MetadataSchema
from service.trust import TrustPolicy, trust_fields

MAX_METADATA_DEPTH = 4  # a JSON object of fields: deeper nesting is a mistake (or an attack on the parser)


class BundleError(ValueError):
    """A bundle with no part the model reads."""


def parse_metadata(text: str | None) -> dict | None:
    """The metadata form field or flag (JSON text) as a dict of fields; checking them is the model's job."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise MetadataError(f"metadata: not valid JSON ({err.msg} at column {err.colno})") from None
    except RecursionError:
        raise MetadataError("metadata: not valid JSON (nested too deeply)") from None
    if not isinstance(value, dict):
        raise MetadataError(f"metadata: expected a JSON object of catalogue fields, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class Scored:
    """What every answer is built from: the admitted bundle, its decoded inputs, each present modality's
    scores, the fused scores, what the model set aside (unknown metadata fields, parts it does not read),
    each present modality's typicality (service/trust.py; None: its model has none) and the modalities
    the fusion used (None: all of them)."""

    bundle: Bundle
    decoded: dict[str, Any]
    scores: dict[str, np.ndarray]
    fused: np.ndarray
    ignored_fields: list[str]
    ignored_parts: list[str]
    judged: dict[str, Any] = field(default_factory=dict)
    fused_modalities: tuple[str, ...] | None = None

    @property
    def fused_scores(self) -> dict[str, np.ndarray]:
        if self.fused_modalities is None:
            return self.scores
        return {m: s for m, s in self.scores.items() if m in self.fused_modalities}


def check_artifact_dir(root: Path) -> None:
    """Fail fast on the usual mistake (a wrong path) before anything slow starts."""
    if not (Path(root) / MANIFEST).is_file():
        raise ArtifactError(f"{root}: no {MANIFEST}; not a trained artifact directory "
                            "(run `moviescope train`, or set MOVIESCOPE_ARTIFACTS / --artifacts)")


class Predictor:
    def __init__(self, artifacts: Artifacts, limits: MediaLimits = DEFAULT_LIMITS,
                 max_poster_pixels: int = DEFAULT_MAX_PIXELS, trust: TrustPolicy | None = None):
        self.artifacts = artifacts
        self.limits = limits
        self.max_poster_pixels = max_poster_pixels
        self.trust = trust or TrustPolicy.from_environment()  # as the service reads it

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
            self.predict(_sample_bundle(Path(tmp), self.artifacts.metadata_schema))

    def predict(self, bundle: Bundle) -> dict:
        timings: dict[str, float] = {}
        with _timed(timings, "total"):
            scored = self.scored(bundle, timings)
        return self.response(scored, timings)

    def scored(self, bundle: Bundle, timings: dict[str, float]) -> Scored:
        """The steps every answer takes: admit, decode, score each present modality, fuse."""
        bundle, ignored_fields, ignored_parts = self.admit(bundle)
        with torch.inference_mode():
            with _timed(timings, "decode"):
                decoded = self._decode_media(bundle)
            scores, judged = self._score(bundle, decoded, timings)
            with _timed(timings, "fusion"):
                trusted = self.trust.fused(scores, judged)
                fused = self._fuse(trusted)
        return Scored(bundle, decoded, scores, fused, ignored_fields, ignored_parts, judged, tuple(trusted))

    def admit(self, bundle: Bundle) -> tuple[Bundle, list[str], list[str]]:
        """(the bundle with its metadata checked against the model's schema, the metadata fields the model does
        not know, the parts it does not read); MetadataError naming bad fields, BundleError when nothing is left."""
        metadata, ignored_fields = self.read_metadata(bundle.metadata)
        bundle = dataclasses.replace(bundle, metadata=metadata)
        reads = self.artifacts.reads()
        present = bundle.present()
        if not set(present) & set(reads):
            sent = f"it has {', '.join(present)}" if present else "it is empty"
            raise BundleError(f"nothing to score: this model reads {_listed(reads)}; {sent}")
        return bundle, ignored_fields, [part for part in present if part not in reads]

    def read_metadata(self, raw: dict | None) -> tuple[dict | None, list[str]]:
        """(the fields the model reads, checked; None when none is given) and the names of the others."""
        if raw is None:
            return None, []
        schema = self.artifacts.metadata_schema
        if schema is None:  # this model reads no metadata
            return None, list(raw)
        values, ignored = schema.validate(raw)
        values = {name: value for name, value in values.items() if value is not None}
        return values or None, ignored

    def _decode_media(self, bundle: Bundle) -> dict[str, Any]:
        """Decoded inputs of the modalities that read a file; a trailer without a soundtrack has no audio.

        The decodes run side by side: they wait on ffmpeg subprocesses or Pillow, not on Python."""
        decode = Decode(self.limits, self.max_poster_pixels)
        present = {modality: encoder for modality, encoder in self.artifacts.encoders.items()
                   if encoder.reads_file and encoder.has_input(bundle)}
        for encoder in present.values():
            encoder.announce_reads(bundle, decode)
        with ThreadPoolExecutor(max(1, len(present))) as pool:
            pending = {modality: pool.submit(encoder.load_input, bundle, decode)
                       for modality, encoder in present.items()}
        decoded = {modality: future.result() for modality, future in pending.items()}
        return {modality: raw for modality, raw in decoded.items() if raw is not None}

    def _score(self, bundle: Bundle, decoded: dict[str, Any], timings: dict) -> tuple[dict[str, np.ndarray], dict]:
        """Each present modality's (n_genres,) scores, and its typicality."""
        scores, features_of = {}, {}
        for modality, encoder in self.artifacts.encoders.items():
            present = modality in decoded if encoder.reads_file else encoder.has_input(bundle)
            if not present:
                continue
            with _timed(timings, modality):
                raw = decoded[modality] if modality in decoded else encoder.load_input(bundle)
                features = encoder.embed(raw)
                if features is not None:
                    scores[modality] = check_proba(encoder.predict_features([features]), len(encoder.genres_))[0]
                    features_of[modality] = features
        return scores, self._judge(features_of, timings)

    def _judge(self, features_of: dict[str, Any], timings: dict) -> dict:
        """Each scored modality's typicality (None: its model has none), timed as one stage."""
        with _timed(timings, "typicality"):
            return {m: self.trust.judge(self.artifacts.encoders[m], f) for m, f in features_of.items()}

    def _fuse(self, scores: dict[str, np.ndarray]) -> np.ndarray:
        fusion = self.artifacts.fusion
        stacked = np.full((1, len(fusion.modalities), len(fusion.genres)), np.nan)
        for k, modality in enumerate(fusion.modalities):
            if modality in scores:
                stacked[0, k] = scores[modality]
        return fusion.predict(stacked)[0]

    def response(self, scored: Scored, timings: dict) -> dict:
        """The answer's JSON (as /v1/predict gives it)."""
        label_set, scores, fused = self.artifacts.genres, scored.scores, scored.fused_scores
        trust = trust_fields(scores, scored.judged, fused, self.artifacts.encoders)
        no_basis = not fused and bool(trust["untrusted_modalities"])  # every input left out: the prior, no genre
        genres = [{"genre": g, "score": float(s), "predicted": bool(s >= t) and not no_basis}
                  for g, s, t in zip(label_set, scored.fused, self.artifacts.thresholds, strict=True)]
        genres.sort(key=lambda item: -item["score"])
        modalities = list(self.artifacts.fusion.modalities)
        return {
            "model_version": self.artifacts.version,
            "genres": genres,
            "modalities": {m: label_set.as_dict(scores[m]) for m in modalities if m in scores},
            "used_modalities": [m for m in modalities if m in fused],
            "missing_modalities": [m for m in modalities if m not in scores],
            "ignored_fields": scored.ignored_fields,
            "ignored_parts": scored.ignored_parts,
            **trust,
            "timings_ms": {k: round(v, 2) for k, v in timings.items()},
        }


def _sample_bundle(directory: Path, schema: MetadataSchema | None) -> Bundle:
    """A one-second clip with a soundtrack (ffmpeg's test sources, built-in codecs), a poster, a plot, a title
    and a value for each metadata field the model reads."""
    trailer, poster = directory / "sample.mp4", directory / "sample.png"
    sources = ["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10", "-f", "lavfi", "-i", "sine=frequency=440"]
    codecs = ["-c:v", "mpeg4", "-c:a", "aac"]
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", *sources, "-t", "1", *codecs, str(trailer)],
                   check=True, capture_output=True, timeout=60)
    Image.new("RGB", (32, 48), (120, 40, 40)).save(poster)
    return Bundle(id="sample", trailer=trailer, poster=poster, plot="A quiet town keeps a secret.",
                  title="The Sample", metadata=_sample_metadata(schema))


def _sample_metadata(schema: MetadataSchema | None) -> dict:
    samples = {"number": None, "category": "sample", "list": ["sample"], "date": "2000-01-01"}
    fields = schema.fields if schema else ()
    return {spec.name: (spec.minimum or 0) if spec.kind == "number" else samples[spec.kind] for spec in fields}


def _listed(names: list[str]) -> str:
    """'a, b or c'."""
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


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
                  title=args.title, metadata=parse_metadata(_argument_text(args.metadata, "--metadata")))


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
