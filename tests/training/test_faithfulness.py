"""The faithfulness measures (training/faithfulness.py) on tiny sets: the explanations must beat random."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from models.bundle import Bundle
from models.genres import MOVIESCOPE
from models.poster import PosterEncoder
from models.text import normalise_text
from models.text_linear import LinearTextEncoder
from training import faithfulness
from training.dataset import labels, load_dataset

POSTER_SIZE = (120, 160)


@pytest.fixture(scope="module")
def movies(tiny_dataset):
    return load_dataset(tiny_dataset).movies


def disk_poster(path, rng: np.random.Generator, disk: bool) -> Bundle:
    """A noisy flat poster with two grey shapes (greying is nothing new to the model); a "Horror" one also
    has a yellow disk somewhere: evidence in one place, which the mask must find."""
    width, height = POSTER_SIZE
    pixels = np.clip(rng.uniform(40, 200, 3) + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    for _ in range(2):
        x, y = rng.uniform(0, width - 30), rng.uniform(0, height - 30)
        shape = draw.rectangle if rng.random() < 0.5 else draw.ellipse
        shape([x, y, x + rng.uniform(15, 50), y + rng.uniform(15, 50)], fill=faithfulness.GREY)
    if disk:
        r = 20
        x, y = rng.uniform(r, width - r), rng.uniform(r, height - r)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 230, 0), outline=(0, 0, 0), width=3)
    image.save(path)
    return Bundle(id=path.stem, poster=path)


def test_poster_deletion_beats_random(tmp_path):
    """Greying the Grad-CAM mask's top 20% hurts the poster's top genre more than greying random blobs."""
    rng = np.random.default_rng(0)
    posters = [disk_poster(tmp_path / f"p{i:03d}.png", rng, disk=i % 2 == 0) for i in range(128)]
    genres = MOVIESCOPE.matrix(["Horror"] if i % 2 == 0 else ["Comedy"] for i in range(128))
    # 128 px: the backbone's last block is 4x4, so the map has a place to point at
    encoder = PosterEncoder(image_size=128, image_stats=False, epochs=40).fit(posters[:96], genres[:96])
    with_disk = posters[96::2]
    results = [faithfulness.poster_deletion(encoder, encoder.load_input(b), rng) for b in with_disk]
    assert [r["genre"] for r in results] == ["Horror"] * len(with_disk)
    top = np.array([r["drop_top"] for r in results])
    blobs = np.array([r["drop_random_blobs"] for r in results])
    assert np.mean(top > blobs) >= 0.7 and np.median(top) > np.median(blobs), (top.round(2), blobs.round(2))


def test_plot_deletion_beats_random(movies):
    with_plot = [m for m in movies if m.bundle.plot]
    encoder = LinearTextEncoder(calibration_folds=2).fit([m.bundle for m in with_plot], labels(with_plot, MOVIESCOPE))
    rng = np.random.default_rng(0)
    results = [faithfulness.plot_deletion(encoder, m.bundle.plot, rng) for m in with_plot]
    assert all(r is not None and len(r["removed"]) == faithfulness.TOP_WORDS for r in results)
    assert all(set(r["removed"]) <= set(normalise_text(m.bundle.plot).split())
               for r, m in zip(results, with_plot, strict=True))
    assert np.mean([r["drop_top"] > r["drop_random"] for r in results]) >= 0.8


def test_single_modality_genres_and_top_share():
    planted = {"video": ["Horror", "Drama"], "audio": ["Horror"], "poster": None, "text": ["Comedy", "Drama"],
               "metadata": []}
    assert faithfulness.single_modality_genres(planted, ["Horror", "Comedy", "Drama", "Action"]) == {"Comedy": "text"}
    assert faithfulness.top_share({"shares": {"video": 0.2, "text": 0.5, "audio": 0.3}}) == "text"
    assert faithfulness.rate([]) is None and faithfulness.rate([True, False, True, True]) == 0.75
