"""Grad-CAM (Selvaraju et al. 2017) on the frozen image backbones' last convolutional block, and its images.

Each backbone is split where its last convolutional block ends: the first part runs without a
graph (the weights stay frozen and nothing of the backbone is kept for a backward pass), its
output maps become a leaf tensor that requires gradients, and the second part finishes the
forward pass from them exactly as `Backbone.module` does. A head's genre logit computed from
those features then gives d logit / d maps in one cheap backward pass through the pooling and
the head alone; no hook is left on the shared module, so concurrent requests cannot disturb
each other. Works for every backbone of models.backbones: EfficientNet-Lite0 (timm's
`forward_features`: conv_head + bn2), VGG16 (`features`, also with the fc7 head), ResNets
(`layer4`) and MobileNetV3 (`features`).
"""

import base64
import io
from collections.abc import Callable

import numpy as np
import torch
import torchvision
from matplotlib import colormaps
from PIL import Image
from timm.models.efficientnet import EfficientNet
from torch import nn

from models.backbones import Backbone

OVERLAY_MAX_SIDE = 320  # overlays are for looking at; the masks keep the image's full size
OVERLAY_ALPHA = 0.6  # opacity of the heat colour where the mask is 255
_HEAT = (colormaps["jet"](np.arange(256))[:, :3] * 255).astype(np.float32)  # 256 x RGB

Stage = Callable[[torch.Tensor], torch.Tensor]


def split(module: nn.Module) -> tuple[Stage, Stage]:
    """(to_maps, pool): `pool(to_maps(x))` is `module(x)`; `to_maps` ends with the last convolutional block."""
    if isinstance(module, EfficientNet):
        return module.forward_features, module.forward_head
    if isinstance(module, torchvision.models.ResNet):
        def to_maps(x: torch.Tensor) -> torch.Tensor:
            x = module.maxpool(module.relu(module.bn1(module.conv1(x))))
            return module.layer4(module.layer3(module.layer2(module.layer1(x))))

        return to_maps, lambda maps: module.fc(torch.flatten(module.avgpool(maps), 1))
    if isinstance(module, torchvision.models.VGG):  # VGG16 with its fc7 head
        return module.features, lambda maps: module.classifier(torch.flatten(module.avgpool(maps), 1))
    if isinstance(module, nn.Sequential):  # (features, global average pooling, flatten)
        return module[0], module[1:]
    raise TypeError(f"no Grad-CAM split for {type(module).__name__}")


def activations(backbone: Backbone, pixels: torch.Tensor, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (n, h, w, 3) -> (maps (n, C, h', w'), a leaf that requires gradients; the pooled
    features (n, dim) computed from the maps, as `backbone.module` gives them)."""
    module = backbone.module.to(device)
    to_maps, pool = split(module)
    with torch.no_grad():
        maps = to_maps(backbone.normalise(pixels.to(device)))
    maps = maps.detach().requires_grad_(True)
    return maps, pool(maps).float()


def grad_cam(maps: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    """(n, h', w') in [0, 1]: ReLU(sum over channels of mean(d score / d map) * map), each image scaled
    by its own maximum (all zeros where nothing in it raises the score)."""
    (grads,) = torch.autograd.grad(score, maps, retain_graph=True)
    weights = grads.float().mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * maps.float()).sum(dim=1)).detach().cpu()
    return cam / cam.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)


def display_size(size: tuple[int, int], max_side: int = OVERLAY_MAX_SIDE) -> tuple[int, int]:
    """(width, height) with the aspect of `size`, the longer side at most `max_side`."""
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def heatmap(image: Image.Image, cam: torch.Tensor, overlay_size: tuple[int, int]) -> dict:
    """The mask at the image's own size (8-bit grayscale, 255 = most important) and the image, resized to
    `overlay_size`, with the heat over it: both base64 PNGs (no data: prefix)."""
    mask = mask_image(cam, image.size)
    return {"width": image.width, "height": image.height, "mask_png": png_base64(mask),
            "overlay_png": png_base64(overlay(image, mask, overlay_size))}


def mask_image(cam: torch.Tensor, size: tuple[int, int]) -> Image.Image:
    """A (h', w') map in [0, 1] upsampled bilinearly to size=(width, height), as 8-bit grayscale."""
    small = Image.fromarray((cam.clamp(0, 1).numpy() * 255).round().astype(np.uint8))
    return small.resize(size, Image.Resampling.BILINEAR)


def overlay(image: Image.Image, mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    base = np.asarray(image.convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
    level = np.asarray(mask.resize(size, Image.Resampling.BILINEAR), dtype=np.uint8)
    alpha = OVERLAY_ALPHA * level[..., None].astype(np.float32) / 255
    blended = base * (1 - alpha) + _HEAT[level] * alpha
    return Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))


def png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
