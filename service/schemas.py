"""Response models: they shape the JSON and document the API in /docs."""

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
    missing_modalities: list[str] = Field(description="absent parts; a trailer without sound has no audio")
    timings_ms: dict[str, float] = Field(description="decode, each used modality, fusion and total")


class ErrorResponse(BaseModel):
    detail: str | list[dict] = Field(description="what is wrong (a list of problems for a malformed form)")


class ModelInfo(BaseModel):
    model_version: str
    genres: list[str]
    thresholds: dict[str, float]
    threshold_objective: str | None = None
    serving_models: dict[str, str] = Field(description="modality -> the trained model serving it")
    fusion_weights: dict[str, dict[str, float]] = Field(description="per modality, per genre; 1 per genre")
    contributions: dict[str, float] = Field(description="each modality's mean weight")
    evaluation: dict = Field(description="mAP / uAP / sAP per model on the test split, from training")
    features: dict[str, dict] = Field(default_factory=dict, description=(
        "modality -> what its serving model reads: preprocessing parameters and, for CNN or sentence "
        "encoders, the backbone with the SHA-256 of its pretrained weights"))
    profile: str | None = None
    created: str | None = None

    @classmethod
    def from_artifacts(cls, artifacts: Artifacts) -> "ModelInfo":
        fusion = json.loads((artifacts.root / FUSION).read_text())
        manifest = artifacts.manifest
        return cls(
            model_version=artifacts.version, genres=list(GENRES), thresholds=fusion["thresholds"],
            threshold_objective=fusion.get("threshold_objective"), serving_models=fusion["serving_models"],
            fusion_weights=fusion["learned"]["weights"], contributions=fusion["contributions"],
            evaluation=manifest.get("evaluation", {}), profile=manifest.get("profile"),
            features={m: manifest["models"][name].get("features", {}) for m, name in fusion["serving_models"].items()},
            created=manifest.get("created"),
        )


ERRORS = {
    401: "missing or wrong API key (only when MOVIESCOPE_API_KEY is set)",
    413: "an upload is larger than its limit",
    415: "not an accepted video (MP4, MOV, MKV, WebM, AVI) or image (JPEG, PNG, WebP)",
    422: "a corrupt, truncated or out-of-limits file, or invalid metadata (the message names the field)",
    503: "models still loading, or too many requests in flight (see Retry-After)",
}
ERROR_RESPONSES = {status: {"model": ErrorResponse, "description": text} for status, text in ERRORS.items()}
