"""Response models (they document the API in /docs)."""

import json

from pydantic import BaseModel, Field

from models.artifacts import FUSION, Artifacts
from models.genres import GENRES


class GenreScore(BaseModel):
    genre: str
    score: float = Field(ge=0, le=1)
    predicted: bool = Field(description="score >= the genre's threshold tuned on the validation split")


class PredictResponse(BaseModel):
    model_version: str
    genres: list[GenreScore] = Field(description="all 13 genres, highest score first")
    modalities: dict[str, dict[str, float]] = Field(description="each present modality's own genre scores")
    used_modalities: list[str]
    missing_modalities: list[str]
    timings_ms: dict[str, float]


class ModelInfo(BaseModel):
    model_version: str
    genres: list[str]
    thresholds: dict[str, float]
    serving_models: dict[str, str]
    fusion_weights: dict[str, dict[str, float]] = Field(description="per modality, per genre; sums to 1 per genre")
    contributions: dict[str, float] = Field(description="each modality's mean weight")
    evaluation: dict = Field(description="mAP / uAP / sAP per model on the test split, from training")
    profile: str | None = None
    created: str | None = None

    @classmethod
    def from_artifacts(cls, artifacts: Artifacts) -> "ModelInfo":
        fusion = json.loads((artifacts.root / FUSION).read_text())
        manifest = artifacts.manifest
        return cls(
            model_version=artifacts.version, genres=list(GENRES), thresholds=fusion["thresholds"],
            serving_models=fusion["serving_models"], fusion_weights=fusion["learned"]["weights"],
            contributions=fusion["contributions"], evaluation=manifest.get("evaluation", {}),
            profile=manifest.get("profile"), created=manifest.get("created"),
        )
