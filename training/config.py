"""Training configuration: which models to train, with which parameters.

Two profiles. `cpu` (default) uses each encoder's own defaults, sized for 2 CPU cores
(ImageNet EfficientNet-Lite0 frame and poster features, 16 frames, ...). `paper` follows the
paper's settings (VGG16 fc7 at 224 px, many frames, VGG16 posters, 128 mel bins, 30 s clips)
and suits a GPU. A JSON file given with --config overrides either, per model: {"profile": "cpu",
"seed": 0, "min_genre_positives": 5, "models": {"video": {"params": {"n_frames": 32}}, "audio": null}}
(null drops a model). A model whose input no training movie has (no trailers in a catalogue of
metadata and titles, say) is not trained; the report says so.
"""

import inspect
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from models.encoders import ENCODER_CLASSES, modalities
from models.validation import describe

# model name -> (modality, encoder, parameters). Several models may serve one modality (fastVideo,
# TempConv and CNN+LSTM; NB-LR, fastText and MiniLM): training serves the one with the best validation mAP.
_CPU_MODELS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "video": ("video", "video", {"pooling": "mean"}),
    "video_tempconv": ("video", "video", {"pooling": "tempconv"}),
    "video_lstm": ("video", "video", {"pooling": "lstm"}),
    "video_bilstm": ("video", "video", {"pooling": "bilstm"}),
    "motion": ("motion", "motion", {}),
    "audio": ("audio", "audio", {}),
    "poster": ("poster", "poster", {}),
    "text": ("text", "text_linear", {}),
    "text_title": ("text", "text_minilm", {"with_title": True}),
    "text_fasttext": ("text", "text", {}),
    "text_minilm": ("text", "text_minilm", {}),
    "text_conv1d": ("text", "text_nn", {"arch": "conv1d"}),
    "metadata": ("metadata", "metadata", {}),
    "metadata_rf": ("metadata", "metadata_rf", {}),
}
# the rest of the paper's Table 3: trained by the paper profile only (each costs a 2-core CPU more than it adds)
_PAPER_ONLY_MODELS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "video3d": ("video", "video3d", {}),
    "text_lstm": ("text", "text_nn", {"arch": "lstm"}),
    "text_bilstm": ("text", "text_nn", {"arch": "bilstm"}),
    "text_fasttext_glove": ("text", "text_glove", {}),
}
_PAPER_OVERRIDES: dict[str, dict[str, Any]] = {
    "video": {"backbone": "vgg16", "vgg_fc7": True, "frame_size": 224, "n_frames": 64},
    "video_tempconv": {"backbone": "vgg16", "vgg_fc7": True, "frame_size": 224, "n_frames": 64},
    "video_lstm": {"backbone": "vgg16", "vgg_fc7": True, "frame_size": 224, "n_frames": 64},
    "video_bilstm": {"backbone": "vgg16", "vgg_fc7": True, "frame_size": 224, "n_frames": 64},
    "audio": {"sample_rate": 12000, "n_mels": 128, "hop_length": 256, "clip_seconds": 30.0},
    "poster": {"backbone": "vgg16", "image_size": 224},
    "metadata": {"n_estimators": 500},
    "metadata_rf": {"n_trees": 500},
    "video3d": {"n_windows": 8, "window_frames": 16, "clip_size": 112, "channels": (64, 128, 256, 256), "hidden": 512,
                "batch_size": 8, "lr": 1e-3, "epochs": 60, "patience": 10},
    **{name: {"embed_dim": 300, "channels": 100, "kernels": (3, 4, 5), "hidden": 128, "max_len": 400, "batch_size": 64}
       for name in ("text_conv1d", "text_lstm", "text_bilstm")},
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
        if modality not in modalities():
            raise ValueError(f"unknown modality {modality!r}; expected one of {', '.join(modalities())}")
        return modality

    @model_validator(mode="after")
    def _encoder_fits(self) -> "ModelSpec":
        self.encoder = self.encoder or self.modality
        if self.encoder not in ENCODER_CLASSES:
            raise ValueError(f"unknown encoder {self.encoder!r}; expected one of {', '.join(ENCODER_CLASSES)}")
        if ENCODER_CLASSES[self.encoder].modality != self.modality:
            raise ValueError(f"encoder {self.encoder!r} does not encode the {self.modality} modality")
        return self


# a genre with fewer training movies is left out of the label set (named in the log and the report)
MIN_GENRE_POSITIVES = 5


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: str = "cpu"
    seed: int = 0
    min_genre_positives: int = Field(default=MIN_GENRE_POSITIVES, ge=0)
    models: dict[str, ModelSpec]

    def build(self, name: str):
        spec = self.models[name]
        return ENCODER_CLASSES[spec.encoder](**spec.params, seed=self.seed)


def default_models(profile: str) -> dict[str, ModelSpec]:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    models = {}
    for name, (modality, encoder, params) in (_CPU_MODELS | (_PAPER_ONLY_MODELS if profile == "paper" else {})).items():
        if profile == "paper":
            params = {**params, **_PAPER_OVERRIDES.get(name, {})}
        models[name] = ModelSpec(modality=modality, encoder=encoder, params=params)
    return models


def every_model_at_cpu_size() -> dict[str, ModelSpec]:
    """Every model either profile trains, each with its cpu-profile parameters (for tests of them all)."""
    return {name: ModelSpec(modality=modality, encoder=encoder, params=params)
            for name, (modality, encoder, params) in (_CPU_MODELS | _PAPER_ONLY_MODELS).items()}


class ModelOverride(BaseModel):
    """One entry of a --config file's "models": any part of a model spec (null instead drops the model)."""

    model_config = ConfigDict(extra="forbid")
    modality: str | None = None
    encoder: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ConfigFile(BaseModel):
    """All a --config file may say; any other key is an error that names it."""

    model_config = ConfigDict(extra="forbid")
    profile: str | None = None
    seed: int = 0
    min_genre_positives: int = Field(default=MIN_GENRE_POSITIVES, ge=0)
    models: dict[str, ModelOverride | None] = Field(default_factory=dict)


def load_config(path: Path | None = None, profile: str | None = None) -> TrainConfig:
    """The default profile, overridden by the JSON file at `path`. Everything is checked before anything
    runs, each model's params against its encoder's constructor; errors name the file and the key."""
    source = str(path) if path is not None else "default config"
    overrides = _read_config_file(path) if path is not None else ConfigFile()
    chosen = profile or overrides.profile or "cpu"
    try:
        models: dict[str, Any] = {n: s.model_dump() for n, s in default_models(chosen).items()}
    except ValueError as err:
        raise ValueError(f"{source}: profile: {err}") from None
    for name, spec in overrides.models.items():
        if spec is None:
            models.pop(name, None)
            continue
        base = models.get(name, {"modality": None, "encoder": None, "params": {}})
        same_modality = spec.modality in (None, base["modality"])
        models[name] = {"modality": spec.modality or base["modality"],
                        "encoder": spec.encoder or (base["encoder"] if same_modality else None),
                        "params": {**base["params"], **spec.params}}
    try:
        config = TrainConfig(profile=chosen, seed=overrides.seed, min_genre_positives=overrides.min_genre_positives,
                             models=models)
    except ValidationError as err:
        raise ValueError(f"{source}: {describe(err)}") from None
    problems = [problem for name, spec in config.models.items() for problem in _check_params(name, spec)]
    if problems:
        raise ValueError(f"{source}: {'; '.join(problems)}")
    return config


def _read_config_file(path: Path) -> ConfigFile:
    try:
        text = Path(path).read_text(encoding="utf-8")
        return ConfigFile.model_validate_json(text)
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read config: {err}") from None
    except ValidationError as err:
        raise ValueError(f"{path}: {describe(err)}") from None


def _check_params(name: str, spec: ModelSpec) -> list[str]:
    """Problems with a model's params, checked against its encoder's constructor (names and types);
    on success the params are replaced by their validated values (e.g. a JSON list for a tuple)."""
    cls = ENCODER_CLASSES[spec.encoder]
    try:
        spec.params = _params_model(cls).model_validate(spec.params).model_dump(exclude_unset=True)
    except ValidationError as err:
        known = ", ".join(_constructor_params(cls))
        return [f"models.{name}.params.{'.'.join(map(str, e['loc']))}: "
                + (f"not a parameter of {cls.__name__} (it has: {known})" if e["type"] == "extra_forbidden"
                   else e["msg"]) for e in err.errors()]
    return []


@cache
def _params_model(cls: type) -> type[BaseModel]:
    """A pydantic model of the constructor's keyword parameters, less `seed` (set at the top level)."""
    fields = {name: (param.annotation if param.annotation is not param.empty else Any, param.default)
              for name, param in _constructor_params(cls).items()}
    return create_model(f"{cls.__name__}Params", __config__=ConfigDict(extra="forbid"), **fields)


def _constructor_params(cls: type) -> dict[str, inspect.Parameter]:
    params = inspect.signature(cls.__init__).parameters
    return {name: p for name, p in params.items() if name not in ("self", "seed")}
