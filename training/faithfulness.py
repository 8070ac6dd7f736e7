"""Are the explanations true to the models? Three measures, read against the synthetic benchmark.

- Modality shares: for a test movie whose genre g the generator planted in exactly one modality m
  (planted.jsonl), the modality with the largest share of g's fused evidence should be m.
- Poster deletion: grey out the 20% of the poster's pixels that the Grad-CAM mask marks most important;
  the poster model's log-odds for the genre it scores highest should drop more than when a random 20%
  is greyed out (the mean over several random masks: smooth blobs like the masks', and single pixels).
- Plot deletion: remove the 3 words the explanation weighs highest for the text model's top genre;
  its log-odds should drop more than when 3 random words of the plot are removed (mean over draws).
Offline only: the benchmark and the tests call this; serving never reads planted.jsonl.
"""

import base64
import io

import numpy as np
import torch
from PIL import Image

from models.image_encoder import ImageEncoder
from models.text import normalise_text
from models.torch_fit import predict_logits

DELETE_SHARE = 0.2
GREY = (128, 128, 128)
TOP_WORDS = 3
RANDOM_DRAWS = 10
BLOB_GRID = 7  # random masks vary on the scale of a 7x7 Grad-CAM map


def single_modality_genres(planted: dict, genres: list[str]) -> dict[str, str]:
    """{genre: modality} for the movie's genres planted in exactly one of its present modalities."""
    present = {m: set(shown) for m, shown in planted.items() if shown is not None}
    found = {g: [m for m, shown in present.items() if g in shown] for g in genres}
    return {g: ms[0] for g, ms in found.items() if len(ms) == 1}


def top_share(fusion_part: dict) -> str:
    return max(fusion_part["shares"], key=fusion_part["shares"].get)


def poster_deletion(encoder: ImageEncoder, image: Image.Image, rng: np.random.Generator) -> dict:
    """Log-odds drops of the poster model's top genre: greying the mask's top 20%, random blobs, random pixels."""
    scores = _poster_logits(encoder, [image])[0]
    j = int(np.argmax(scores))
    genre = encoder.genres_[j]
    mask = np.asarray(_png(encoder.explain(image, [genre])["heatmaps"][0]["mask_png"]), dtype=np.float64)
    pixels = np.asarray(image.convert("RGB"))
    top = _top_share(mask, rng)
    blobs = [_top_share(_random_blobs(mask.shape, rng), rng) for _ in range(RANDOM_DRAWS)]
    scattered = [rng.random(mask.shape) < DELETE_SHARE for _ in range(RANDOM_DRAWS)]
    greyed = [_grey(pixels, m) for m in (top, *blobs, *scattered)]
    after = _poster_logits(encoder, greyed)[:, j]
    drops = scores[j] - after
    return {"genre": genre, "drop_top": float(drops[0]), "drop_random_blobs": float(drops[1:1 + RANDOM_DRAWS].mean()),
            "drop_random_pixels": float(drops[1 + RANDOM_DRAWS:].mean())}


def plot_deletion(encoder, plot: str, rng: np.random.Generator) -> dict | None:
    """Log-odds drops of the text model's top genre: removing its top 3 words, or 3 random words of the plot."""
    words = normalise_text(plot).split()
    distinct = list(dict.fromkeys(words))
    if len(distinct) <= TOP_WORDS:
        return None
    scores = _text_logits(encoder, [" ".join(words)])[0]
    j = int(np.argmax(scores))
    genre = encoder.genres_[j]
    ranked = [t for t in encoder.explain(plot, [genre])[genre] if " " not in t["token"]]
    ranked.sort(key=lambda t: -t["weight"])
    top = [t["token"] for t in ranked[:TOP_WORDS]]
    randoms = [list(rng.choice(distinct, TOP_WORDS, replace=False)) for _ in range(RANDOM_DRAWS)]
    texts = [" ".join(w for w in words if w not in set(removed)) for removed in (top, *randoms)]
    drops = scores[j] - _text_logits(encoder, texts)[:, j]
    return {"genre": genre, "removed": top, "drop_top": float(drops[0]), "drop_random": float(drops[1:].mean())}


def rate(values: list[bool]) -> float | None:
    return float(np.mean(values)) if values else None


def _poster_logits(encoder: ImageEncoder, images: list[Image.Image]) -> np.ndarray:
    """(n, 13) log-odds, as `embed` + the head give them, in one batch."""
    features = encoder.pixel_features(torch.cat([encoder.pixels(image) for image in images])).half().float()
    return predict_logits(encoder.head_, features, encoder.device).numpy().astype(np.float64)


def _text_logits(encoder, texts: list[str]) -> np.ndarray:
    if hasattr(encoder, "decision"):  # the linear model's exact log-odds
        return encoder.decision(texts)
    p = np.clip(encoder.predict_features([encoder.embed(t) for t in texts]).astype(np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _top_share(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of the DELETE_SHARE of pixels with the highest values (ties broken at random)."""
    order = np.lexsort((rng.random(values.size), -values.ravel()))
    chosen = np.zeros(values.size, dtype=bool)
    chosen[order[: round(DELETE_SHARE * values.size)]] = True
    return chosen.reshape(values.shape)


def _random_blobs(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    coarse = Image.fromarray((rng.random((BLOB_GRID, BLOB_GRID)) * 255).astype(np.uint8))
    return np.asarray(coarse.resize(shape[::-1], Image.Resampling.BILINEAR), dtype=np.float64)


def _grey(pixels: np.ndarray, mask: np.ndarray) -> Image.Image:
    out = pixels.copy()
    out[mask] = GREY
    return Image.fromarray(out)


def _png(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data)))
