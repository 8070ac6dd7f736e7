"""Training configuration: which models to train, with which parameters.

Two profiles. `cpu` (default) uses each encoder's own defaults, sized for 2 CPU cores
(ImageNet EfficientNet-Lite0 frame and poster features, 16 frames, ...). `paper` follows the
paper's settings (VGG16 fc7 at 224 px, many frames, VGG16 posters, 128 mel bins, 30 s clips)
and suits a GPU. A JSON file
given with --config overrides either, per model: {"profile": "cpu", "seed": 0,
"models": {"video": {"params": {"n_frames": 32}}, "audio": null}} (null drops a model).
"""

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.encoders import ENCODER_CLASSES, MODALITIES

# model name -> (modality, encoder, parameters). Several models may serve one modality (fastVideo and
# TempConv; NB-LR, fastText and MiniLM): training serves the one with the best validation mAP.
_CPU_MODELS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "video": ("video", "video", {"pooling": "mean"}),
    "video_tempconv": ("video", "video", {"pooling": "tempconv"}),
    "audio": ("audio", "audio", {}),
    "poster": ("poster", "poster", {}),
    "text": ("text", "text_linear", {}),
    "text_fasttext": ("text", "text", {}),
    "text_minilm": ("text", "text_minilm", {}),
    "metadata": ("metadata", "metadata", {}),
}
_PAPER_OVERRIDES: dict[str, dict[str, Any]] = {
    "video": {"backbone": "vgg16", "vgg_fc7": True, "frame_size": 224, "n_frames": 64},
    "video_tempconv": {"backbone": "vgg16", "vgg_fc7": True, "frame_size": 224, "n_frames": 64},
    "audio": {"sample_rate": 12000, "n_mels": 128, "hop_length": 256, "clip_seconds": 30.0},
    "poster": {"backbone": "vgg16", "image_size": 224},
    "metadata": {"n_estimators": 500},
}
PROFILES = ("cpu", "paper")


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    modality: str
    encoder: str | None = None  # a key of ENCODER_CLASSES; by default the modality's name
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("modality")
    @classmethod
    def _known(cls, modality: str) -> str:
        if modality not in MODALITIES:
            raise ValueError(f"unknown modality {modality!r}; expected one of {', '.join(MODALITIES)}")
        return modality

    @model_validator(mode="after")
    def _encoder_fits(self) -> "ModelSpec":
        self.encoder = self.encoder or self.modality
        if self.encoder not in ENCODER_CLASSES:
            raise ValueError(f"unknown encoder {self.encoder!r}; expected one of {', '.join(ENCODER_CLASSES)}")
        if ENCODER_CLASSES[self.encoder].modality != self.modality:
            raise ValueError(f"encoder {self.encoder!r} does not encode the {self.modality} modality")
        return self


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: str = "cpu"
    seed: int = 0
    models: dict[str, ModelSpec]

    def build(self, name: str):
        spec = self.models[name]
        return ENCODER_CLASSES[spec.encoder](**spec.params, seed=self.seed)


def default_models(profile: str) -> dict[str, ModelSpec]:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    models = {}
    for name, (modality, encoder, params) in _CPU_MODELS.items():
        if profile == "paper":
            params = {**params, **_PAPER_OVERRIDES.get(name, {})}
        models[name] = ModelSpec(modality=modality, encoder=encoder, params=params)
    return models


def load_config(path: Path | None = None, profile: str | None = None) -> TrainConfig:
    """The default profile, overridden by the JSON file at `path` (errors name the file and field)."""
    overrides: dict[str, Any] = {}
    if path is not None:
        try:
            overrides = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"{path}: cannot read config: {err}") from err
        if not isinstance(overrides, dict):
            raise ValueError(f"{path}: the config must be a JSON object")
    chosen = profile or overrides.get("profile", "cpu")
    models: dict[str, Any] = {n: s.model_dump() for n, s in default_models(chosen).items()}
    for name, spec in (overrides.get("models") or {}).items():
        if spec is None:
            models.pop(name, None)
        elif name in models:
            merged = {**models[name], **spec}
            merged["params"] = {**models[name]["params"], **spec.get("params", {})}
            models[name] = merged
        else:
            models[name] = spec
    try:
        return TrainConfig(profile=chosen, seed=overrides.get("seed", 0), models=models)
    except ValueError as err:
        raise ValueError(f"{path or 'default config'}: {err}") from err
