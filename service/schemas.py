"""Response models: they shape the JSON and document the API in /docs."""

import json

from pydantic import BaseModel, Field

from models.artifacts import FUSION, Artifacts


class GenreScore(BaseModel):
    genre: str
    score: float = Field(ge=0, le=1)
    predicted: bool = Field(description=("score >= the genre's threshold tuned on the validation split (never "
                                         "when every input was left out as unlike the training data)"))


class ModalityTypicality(BaseModel):
    score: float = Field(description=("how far the input's description lies from the training inputs' (squared "
                                      "Mahalanobis distance; larger: less typical)"))
    percentile: float = Field(ge=0, le=100, description=(
        "share of held-out in-distribution inputs (validation, and cross-fitted training inputs) that score lower, "
        "in %"))
    threshold_percentile: float = Field(description="above it, out of distribution (MOVIESCOPE_OOD_PERCENTILE)")
    out_of_distribution: bool


class UntrustedModality(BaseModel):
    modality: str
    reason: str = Field(description="why its input is out of distribution (naming the metadata field)")
    left_out: bool = Field(description="left out of the fusion (the default policy); false: kept "
                                       "(MOVIESCOPE_OOD_POLICY=keep)")


class PredictResponse(BaseModel):
    model_version: str
    genres: list[GenreScore] = Field(description="every genre of the model (GET /v1/model), highest score first")
    modalities: dict[str, dict[str, float]] = Field(description="each present modality's own genre scores")
    used_modalities: list[str] = Field(description="the modalities the fusion used (not those left out as untrusted)")
    missing_modalities: list[str] = Field(description="absent parts; a trailer without sound has no audio")
    ignored_fields: list[str] = Field(default_factory=list, description=(
        "metadata fields the model does not know (GET /v1/model lists those it reads): left out, not an error"))
    ignored_parts: list[str] = Field(default_factory=list, description=(
        "parts of the bundle the model does not read (e.g. a trailer sent to a model of titles and metadata)"))
    typicality: dict[str, ModalityTypicality | None] = Field(default_factory=dict, description=(
        "per present modality, how like its training inputs the input is; null: the model has no typicality "
        "(trained before it existed), nothing is judged"))
    untrusted_modalities: list[UntrustedModality] = Field(default_factory=list, description=(
        "present modalities whose input is out of distribution, with the reason"))
    known_input: bool | None = Field(None, description=(
        "false: every present modality is out of distribution (the model does not know this kind of input; by "
        "default the scores are then its prior); true: at least one is typical; null: not judged"))
    input_notice: str | None = Field(None, description="a sentence on what was left out and why, or null")
    timings_ms: dict[str, float] = Field(description="decode, each used modality, typicality, fusion and total")


class FusionExplanation(BaseModel):
    shares: dict[str, float] = Field(description=(
        "each present modality's share of the genre's fused evidence, w_m p_m / sum_j w_j p_j (exact; "
        "non-negative, sums to 1; the weights' shares if every present modality scores 0)"))
    weights: dict[str, float] = Field(description="w_m: the learned fusion weight of each present modality")
    scores: dict[str, float] = Field(description="p_m: each present modality's own score for the genre")
    weighted_mean: float | None = Field(description="sum_m w_m p_m / sum_m w_m over the present modalities")
    scale: float
    bias: float
    score: float = Field(description="the fused score: sigmoid(scale * logit(clip(weighted_mean, 1e-4, "
                                     "1 - 1e-4)) + bias)")


class Heatmap(BaseModel):
    genre: str
    time_s: float | None = Field(None, description="video: when the frame is shown")
    frame: int | None = Field(None, description="video: the frame's index among the sampled frames")
    width: int = Field(description="the mask's width: the decoded frame's, or the poster's own")
    height: int
    overlay_png: str = Field(description="base64 PNG (no data: prefix): the image, at most 320 px a side, "
                                         "with the heat over it")
    mask_png: str = Field(description="base64 8-bit grayscale PNG at width x height; 255 = most important")


class VideoExplanation(BaseModel):
    times_s: list[float] = Field(description="the sampled frames' times")
    importance: dict[str, list[float]] = Field(description=(
        "per genre, per frame: the video's log-odds for the genre less those without the frame"))
    heatmaps: list[Heatmap] = Field(description="Grad-CAM of the 3 most important frames per genre, on the "
                                                "frame backbone's last convolutional block")


class PosterExplanation(BaseModel):
    width: int = Field(description="the poster's own size, as uploaded")
    height: int
    heatmaps: list[Heatmap] = Field(description="Grad-CAM per genre; masks at the poster's own size")


class AudioExplanation(BaseModel):
    times_s: list[float] = Field(description="start of each stretch of the soundtrack the model heard")
    window_s: float = Field(description="length of each stretch")
    importance: dict[str, list[float]] = Field(description=(
        "per genre, per stretch: the soundtrack's log-odds for the genre less those with the stretch's "
        "log-mel frames replaced by the training average"))


class MotionExplanation(BaseModel):
    times_s: list[float] = Field(description="start of each run of consecutive frames the motion model read")
    window_s: float = Field(description="length of each run")
    importance: dict[str, list[float]] = Field(description=(
        "per genre, per run: the motion model's log-odds for the genre less those without the run"))
    measures: dict[str, list[float]] = Field(description=(
        "per run, what it measured: cuts_per_s, and pan_speed, shake, zoom_speed, object_speed in frame "
        "widths (zoom: log scale) per second"))


class TokenWeight(BaseModel):
    token: str = Field(description="a word or a bigram of the plot (lowercase)")
    weight: float = Field(description="signed log-odds it adds to the genre's text score")


class FieldContribution(BaseModel):
    field: str = Field(description="a metadata field's name")
    value: int | float | str | list[str] | None = Field(
        description="the value given: a number, a string or date, a list of strings (null: not given)")
    contribution: float = Field(description="signed log-odds, from XGBoost's pred_contribs")


class Explanation(BaseModel):
    genres: list[str] = Field(description="the explained genres: those asked for, else the top 3 by score")
    fusion: dict[str, FusionExplanation]
    video: VideoExplanation | None = None
    motion: MotionExplanation | None = None
    audio: AudioExplanation | None = None
    poster: PosterExplanation | None = None
    text: dict[str, list[TokenWeight]] | None = Field(None, description=(
        "per genre, the plot's words and bigrams with the largest |weight|, largest first: exact "
        "contributions for the linear text model, leave-one-out for the others"))
    metadata: dict[str, list[FieldContribution]] | None = Field(None, description=(
        "per genre, the fields with a contribution, largest |contribution| first"))


class ExplainResponse(PredictResponse):
    explanation: Explanation = Field(description="why these genres; a part is absent when its modality is")


class ErrorResponse(BaseModel):
    detail: str | list[dict] = Field(description="what is wrong (a list of problems for a malformed form)")


class MetadataField(BaseModel):
    name: str
    kind: str = Field(description="number, category (a string), list (of strings) or date (YYYY-MM-DD)")
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    max_length: int = Field(description="of a string, or of each item of a list")
    max_items: int = Field(description="of a list")


class ModelInfo(BaseModel):
    model_version: str
    genres: list[str] = Field(description="the model's genres, in its order")
    reads: list[str] = Field(default_factory=list, description=(
        "the bundle parts the model reads (trailer, poster, plot, title, metadata); a bundle needs one of them"))
    metadata_fields: list[MetadataField] = Field(default_factory=list, description=(
        "the catalogue fields the metadata model reads; others are listed in an answer's ignored_fields"))
    left_out_genres: dict[str, int] = Field(default_factory=dict, description=(
        "genres of the training data the model does not score (too few training movies: their count)"))
    data: dict = Field(default_factory=dict, description="what the model was trained on (name, size, licences)")
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
        schema = artifacts.metadata_schema
        return cls(
            model_version=artifacts.version, genres=list(artifacts.genres), reads=artifacts.reads(),
            metadata_fields=[MetadataField(**field.__dict__) for field in schema.fields] if schema else [],
            left_out_genres=manifest.get("left_out_genres") or {}, data=manifest.get("data", {}),
            thresholds=fusion["thresholds"],
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
    422: ("a corrupt, truncated or out-of-limits file, invalid metadata (the message names the field), "
          "a bundle with no part the model reads, or, for /v1/explain, an unknown genre in `genres`"),
    503: "models still loading, or too many requests in flight (see Retry-After)",
}
ERROR_RESPONSES = {status: {"model": ErrorResponse, "description": text} for status, text in ERRORS.items()}
