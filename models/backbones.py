"""Frozen torchvision CNN backbones for frame and poster features.

ImageNet weights are used only when they already sit in the local torch cache
(`$TORCH_HOME/hub/checkpoints`) or a path is given; nothing is downloaded. Otherwise
the network is built from a fixed seed and a warning says so: the features are then
random projections (still informative about colour and texture, far weaker on content).
A fingerprint of the weights travels with every saved model, so serving refuses a
backbone that differs from the one used in training.
"""

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RANDOM_INIT_SEED = 1234

# name -> (torchvision builder, weights enum, pooled feature size)
_BUILDERS = {
    "resnet18": (torchvision.models.resnet18, torchvision.models.ResNet18_Weights.IMAGENET1K_V1, 512),
    "resnet50": (torchvision.models.resnet50, torchvision.models.ResNet50_Weights.IMAGENET1K_V2, 2048),
    "vgg16": (torchvision.models.vgg16, torchvision.models.VGG16_Weights.IMAGENET1K_V1, 512),
    "mobilenet_v3_small": (
        torchvision.models.mobilenet_v3_small,
        torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1,
        576,
    ),
}
BACKBONES = tuple(_BUILDERS)


@dataclass
class Backbone:
    name: str
    module: nn.Module  # images (n, 3, H, W) normalised -> features (n, dim)
    dim: int
    pretrained: bool
    fingerprint: str


def cached_weights_path(name: str) -> Path:
    _, weights, _ = _BUILDERS[name]
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def load_backbone(name: str, weights_path: str | Path | None = None, vgg_fc7: bool = False) -> Backbone:
    """A frozen feature extractor in eval mode. `vgg_fc7` gives VGG16's 4096-d fc7 (the paper's feature)."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    builder, _, dim = _BUILDERS[name]
    path = Path(weights_path) if weights_path else cached_weights_path(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        model = builder(weights=None)
    pretrained = path.is_file()
    if pretrained:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    else:
        if weights_path:
            raise FileNotFoundError(f"backbone weights not found: {weights_path}")
        log.warning(
            "no ImageNet weights for %s in the local torch cache (%s); using a seeded random "
            "initialisation. Features are weaker; see README 'Pre-seeding ImageNet weights'.",
            name, path,
        )
    module, dim = _headless(name, model, dim, vgg_fc7)
    module.eval().requires_grad_(False)
    return Backbone(name=name, module=module, dim=dim, pretrained=pretrained, fingerprint=fingerprint(module))


def fingerprint(module: nn.Module) -> str:
    """A short hash of the weights, cheap enough for start-up (samples every tensor)."""
    digest = hashlib.sha256()
    for key, tensor in module.state_dict().items():
        flat = tensor.detach().flatten()
        digest.update(key.encode())
        digest.update(flat[:: max(1, flat.numel() // 64)].float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def _headless(name: str, model: nn.Module, dim: int, vgg_fc7: bool) -> tuple[nn.Module, int]:
    if name.startswith("resnet"):
        model.fc = nn.Identity()
        return model, dim
    if name == "vgg16" and vgg_fc7:
        model.classifier = model.classifier[:5]  # fc6 -> ReLU -> Dropout -> fc7 -> ReLU
        return model, 4096
    # VGG16 / MobileNet: global average of the last conv map
    return nn.Sequential(model.features, nn.AdaptiveAvgPool2d(1), nn.Flatten()), dim


def normalise(frames: torch.Tensor) -> torch.Tensor:
    """uint8 (n, H, W, 3) -> float (n, 3, H, W) with ImageNet mean/std."""
    x = frames.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std
