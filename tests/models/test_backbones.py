"""models.backbones: the packaged ImageNet weights are really loaded, pinned and verified; nothing downloads."""

import shutil

import numpy as np
import pytest
import skimage.data
import torch
import torchvision
from PIL import Image

from models import backbones
from models.backbones import LITE0_SHA256, BackboneError, efficientnet_lite0, load_backbone
from models.checksums import sha256_file

CATS = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE = {504, 967, 968}  # coffee mug, espresso, cup


def _classify(model, image: np.ndarray) -> list[int]:
    pixels = torch.tensor(np.array(Image.fromarray(image).resize((224, 224))))[None]
    with torch.inference_mode():
        logits = model(load_backbone("efficientnet_lite0").normalise(pixels))
    return logits[0].topk(3).indices.tolist()


@pytest.fixture(scope="module")
def classifier():
    return efficientnet_lite0()


def test_lite0_classifies_real_photos_to_their_imagenet_classes(classifier):
    assert _classify(classifier, skimage.data.chelsea())[0] in CATS  # a cat photo
    assert _classify(classifier, skimage.data.coffee())[0] in COFFEE  # a cup of coffee


def test_lite0_feature_extractor_is_frozen_and_records_its_weights():
    backbone = load_backbone("efficientnet_lite0")
    assert backbone.pretrained and backbone.weights_sha256 == LITE0_SHA256 and backbone.dim == 1280
    assert not any(p.requires_grad for p in backbone.module.parameters())
    frames = torch.full((2, 64, 64, 3), 127, dtype=torch.uint8)
    assert backbone.normalise(frames).abs().max() < 1e-6  # (x - 127) / 128, as the weights were trained
    with torch.inference_mode():
        assert backbone.module(backbone.normalise(frames)).shape == (2, 1280)
    assert backbone.describe()["weights_sha256"] == LITE0_SHA256


def test_altered_weights_are_refused(tmp_path):
    altered = tmp_path / "lite0.pth"
    shutil.copy(backbones._lite0_path(None), altered)
    with altered.open("r+b") as f:
        f.seek(-100, 2)
        f.write(b"\x00")
    with pytest.raises(BackboneError, match="SHA-256"):
        load_backbone("efficientnet_lite0", weights_path=altered)


def test_another_package_version_is_refused(monkeypatch):
    monkeypatch.setattr(backbones.metadata, "version", lambda name: "0.2.0")
    with pytest.raises(BackboneError, match="pinned version is 0.1.0"):
        load_backbone("efficientnet_lite0")


def test_torchvision_backbone_without_cached_weights_is_seeded_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # an empty torch cache
    first, second = load_backbone("resnet18"), load_backbone("resnet18")
    assert not first.pretrained and first.weights_sha256 is None and first.fingerprint == second.fingerprint
    with pytest.raises(FileNotFoundError):
        load_backbone("resnet18", weights_path=tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="unknown backbone"):
        load_backbone("alexnet")


def test_a_given_torchvision_weights_file_is_loaded_and_fingerprinted(tmp_path):
    torch.manual_seed(7)
    weights = torchvision.models.resnet18(weights=None).state_dict()
    path = tmp_path / "resnet18.pth"
    torch.save(weights, path)
    backbone = load_backbone("resnet18", weights_path=path)
    assert backbone.pretrained and backbone.weights_sha256 == sha256_file(path)
    assert backbone.fingerprint == backbone.weights_sha256[:16] != load_backbone("resnet18").fingerprint
    assert torch.equal(backbone.module.conv1.weight, weights["conv1.weight"])
    assert (backbone.mean, backbone.std) == (backbones.IMAGENET_MEAN, backbones.IMAGENET_STD)


@pytest.mark.parametrize(("name", "dim"), [("resnet18", 512), ("mobilenet_v3_small", 576)])
def test_torchvision_backbones_give_pooled_features_of_their_size(name, dim):
    backbone = load_backbone(name)
    assert backbone.dim == dim and not any(p.requires_grad for p in backbone.module.parameters())
    with torch.inference_mode():
        features = backbone.module(backbone.normalise(torch.zeros((2, 64, 64, 3), dtype=torch.uint8)))
    assert features.shape == (2, dim)
