"""The poster encoder on a few tiny JPEGs made with Pillow (shapes and save/load: test_encoder_contract.py)."""

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from models.bundle import Bundle
from models.genres import MOVIESCOPE
from models.media import UnsupportedMediaError
from models.poster import PosterEncoder

TINY = {"image_size": 32, "epochs": 3, "hidden": 16}
N_STATS = 30


@pytest.fixture(scope="module")
def posters(tmp_path_factory) -> list[Bundle]:
    root = tmp_path_factory.mktemp("posters")
    bundles = []
    for i, colour in enumerate([(200, 30, 30), (30, 30, 200), (20, 160, 40), (230, 230, 60), (10, 10, 10)]):
        image = Image.new("RGB", (40 + 8 * i, 60), colour)
        ImageDraw.Draw(image).ellipse([5, 5, 30, 30 + 5 * i], fill=(255 - colour[0], 128, 255 - colour[2]))
        path = root / f"p{i}.jpg"
        image.save(path, quality=90)
        bundles.append(Bundle(id=f"p{i}", poster=path))
    return bundles


@pytest.fixture(scope="module")
def labels(posters) -> np.ndarray:
    y = (np.random.default_rng(0).random((len(posters), len(MOVIESCOPE))) < 0.3).astype(np.float32)
    y[np.arange(len(posters)), np.arange(len(posters))] = 1.0
    return y


def test_features_are_float16_backbone_and_stats_only_when_asked(posters):
    features = PosterEncoder(**TINY).features(posters[0])
    assert features.shape == (1280,) and features.dtype == np.float16 and np.isfinite(features).all()
    with_stats = PosterEncoder(**TINY, image_stats=True).features(posters[0])
    assert with_stats.shape == (1280 + N_STATS,) and np.array_equal(with_stats[:1280], features)


def test_fitting_on_cached_features_needs_no_backbone_and_repeats(posters, labels):
    features = [PosterEncoder(**TINY).features(b) for b in posters]
    first = PosterEncoder(**TINY).fit_features(features, labels)
    second = PosterEncoder(**TINY).fit_features(features, labels)
    assert first._backbone is None
    assert np.array_equal(first.predict_features(features), second.predict_features(features))


def test_a_non_image_poster_is_refused(tmp_path):
    path = tmp_path / "poster.jpg"
    path.write_text("not an image")
    with pytest.raises(UnsupportedMediaError):
        PosterEncoder(**TINY).load_input(Bundle(id="bad", poster=path))


@pytest.fixture(scope="module")
def fitted(posters, labels) -> PosterEncoder:
    return PosterEncoder(**TINY).fit(posters, labels)


def test_explanation_masks_have_the_posters_own_size(fitted, posters):
    image = fitted.load_input(posters[2])
    out = fitted.explain(image, ["Action", "Comedy"])
    assert (out["width"], out["height"]) == image.size == (56, 60)
    assert [h["genre"] for h in out["heatmaps"]] == ["Action", "Comedy"]
    for h in out["heatmaps"]:
        mask = Image.open(io.BytesIO(base64.b64decode(h["mask_png"])))
        assert (mask.mode, mask.size) == ("L", (56, 60)) and "time_s" not in h
        assert Image.open(io.BytesIO(base64.b64decode(h["overlay_png"]))).size == (56, 60)
