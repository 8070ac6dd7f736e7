"""Grad-CAM: the split backbones compute what the whole ones do, the maps follow the definition, the images fit."""

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from models import gradcam
from models.backbones import load_backbone

PIXELS = torch.randint(0, 256, (2, 64, 64, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def lite0():
    return load_backbone("efficientnet_lite0")


@pytest.mark.parametrize(("name", "fc7"), [("efficientnet_lite0", False), ("resnet18", False),
                                           ("mobilenet_v3_small", False), ("vgg16", True)])
def test_split_backbone_computes_the_same_features(name, fc7):
    backbone = load_backbone(name, vgg_fc7=fc7)
    maps, pooled = gradcam.activations(backbone, PIXELS, "cpu")
    with torch.inference_mode():
        whole = backbone.module(backbone.normalise(PIXELS))
    assert maps.ndim == 4 and maps.requires_grad and maps.shape[0] == 2
    assert pooled.shape == (2, backbone.dim)
    assert torch.allclose(pooled, whole, atol=1e-4, rtol=1e-4)
    assert not any(p.requires_grad for p in backbone.module.parameters())  # the weights stay frozen


def test_grad_cam_of_a_linear_head_is_its_class_activation_map(lite0):
    """For a linear score on globally averaged maps, Grad-CAM is ReLU(sum_c w_c A_c) (Zhou et al.'s CAM)."""
    w = torch.randn(lite0.dim, generator=torch.Generator().manual_seed(1))
    maps, pooled = gradcam.activations(lite0, PIXELS, "cpu")
    cam = gradcam.grad_cam(maps, (pooled[1] * w).sum())
    expected = torch.relu(torch.einsum("c,chw->hw", w, maps[1].detach()))
    assert cam.shape == (2, *maps.shape[2:])
    assert torch.allclose(cam[1], expected / expected.max(), atol=1e-5)
    assert cam[0].abs().max() == 0  # the other image does not move this score
    assert cam[1].max() == pytest.approx(1.0)


def test_mask_and_overlay_images():
    cam = torch.tensor([[0.0, 0.5], [0.25, 1.0]])
    image = Image.new("RGB", (400, 100), (90, 90, 90))
    out = gradcam.heatmap(image, cam, gradcam.display_size(image.size))
    mask = Image.open(io.BytesIO(base64.b64decode(out["mask_png"])))
    overlay = Image.open(io.BytesIO(base64.b64decode(out["overlay_png"])))
    assert (mask.mode, mask.size) == ("L", (400, 100)) and (out["width"], out["height"]) == (400, 100)
    assert overlay.size == (320, 80)  # the image's aspect, at most 320 px a side
    pixels = np.asarray(mask)
    assert pixels[-1, -1] > 240 and pixels[0, 0] < 15  # 255 where the map is highest
    assert pixels[:, 200:].mean() > pixels[:, :200].mean()
    assert np.asarray(overlay)[0, 0].tolist() != np.asarray(overlay)[-1, -1].tolist()


def test_display_size_keeps_small_images():
    assert gradcam.display_size((200, 300)) == (200, 300)
    assert gradcam.display_size((1280, 720)) == (320, 180)
