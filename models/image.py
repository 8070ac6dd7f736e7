"""Images: poster decoding with Pillow, and the low-level statistics of frames and posters.

Decoding: allowed formats only, pixel count checked before any decoding.

`Image.open` reads the header only; the size is checked against `max_pixels` before `.load()`
decodes the pixels, and Pillow's own decompression-bomb warning is raised as an error.
Truncated files are refused (Pillow's `ImageFile.LOAD_TRUNCATED_IMAGES` must stay False).
"""

import struct
import warnings
from pathlib import Path

import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from models.media import InvalidMediaError, UnsupportedMediaError

ALLOWED_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_PIXELS = 40_000_000
# bump when image_stats / the feature layout change: cached features of an older layout are not reused
FEATURES_VERSION = 4
HUE_BINS, VALUE_BINS = 12, 8
# What Pillow raises on damaged data, besides OSError (truncated files) and SyntaxError (bad headers).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error,
                  ZeroDivisionError)


def load_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """A fully decoded RGB image (EXIF orientation applied, transparency flattened onto white)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidMediaError(f"{path.name}: no such file")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(path)
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidMediaError(f"{path.name}: {width}x{height} = {width * height} pixels exceeds "
                                        f"the limit of {max_pixels}")
            try:
                image.load()
                return _to_rgb(ImageOps.exif_transpose(image))
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
                raise InvalidMediaError(f"{path.name}: image too large ({err})") from err
            except _DECODE_ERRORS as err:
                raise InvalidMediaError(f"{path.name}: corrupt or truncated image ({err})") from err


def _open(path: Path) -> Image.Image:
    """Header only; refuses formats outside the allow-list and absurd declared sizes."""
    accepted = ", ".join(ALLOWED_IMAGE_FORMATS)
    try:
        return Image.open(path, formats=ALLOWED_IMAGE_FORMATS)
    except UnidentifiedImageError as err:
        raise UnsupportedMediaError(f"{path.name}: not an image in an accepted format ({accepted})") from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise InvalidMediaError(f"{path.name}: image too large ({err})") from err
    except _DECODE_ERRORS as err:
        raise InvalidMediaError(f"{path.name}: corrupt image header ({err})") from err


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):  # 16-bit greyscale: keep the top 8 bits
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    transparent = image.mode == "P" and "transparency" in image.info
    if transparent or image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def image_stats(pixels: torch.Tensor) -> torch.Tensor:
    """(n, h, w, 3) uint8 -> (n, 30) float descriptors, each roughly in [0, 1].

    RGB means and spreads (6), a hue histogram weighted by colourfulness (12), a brightness
    histogram (8), horizontal and vertical edge energy, centre-minus-whole brightness
    (vignettes, spotlights) and mean saturation (4): the classic lighting and colour cues of
    video-genre work.
    """
    x = pixels.float().div(255.0)
    hue, saturation, value = _hsv(x)
    colourful = (saturation * value).flatten(1)
    hue_hist = _histogram(hue, HUE_BINS, colourful)
    value_hist = _histogram(value, VALUE_BINS, torch.ones_like(colourful))
    grey = x.mean(dim=3)
    edge_x = (grey[:, :, 1:] - grey[:, :, :-1]).abs().mean(dim=(1, 2))
    edge_y = (grey[:, 1:] - grey[:, :-1]).abs().mean(dim=(1, 2))
    h, w = grey.shape[1:]
    centre = grey[:, h // 4: h - h // 4, w // 4: w - w // 4].mean(dim=(1, 2)) - grey.mean(dim=(1, 2))
    shape = torch.stack([edge_x, edge_y, centre, saturation.mean(dim=(1, 2))], dim=1)
    return torch.cat([x.mean(dim=(1, 2)), x.std(dim=(1, 2)), hue_hist, value_hist, shape], dim=1)


def _hsv(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB in [0, 1] (n, h, w, 3) -> hue, saturation, value, each (n, h, w) in [0, 1]."""
    r, g, b = x.unbind(dim=3)
    top, bottom = x.amax(dim=3), x.amin(dim=3)
    spread = (top - bottom).clamp_min(1e-6)
    hue = torch.where(top == r, ((g - b) / spread) % 6,
                      torch.where(top == g, (b - r) / spread + 2, (r - g) / spread + 4)) / 6
    return hue, (top - bottom) / top.clamp_min(1e-6), top


def _histogram(values: torch.Tensor, bins: int, weights: torch.Tensor) -> torch.Tensor:
    """Per image, a normalised histogram of (n, h, w) values in [0, 1]."""
    index = (values.flatten(1) * bins).long().clamp(0, bins - 1)
    counts = torch.zeros(len(values), bins).scatter_add_(1, index, weights)
    return counts / counts.sum(dim=1, keepdim=True).clamp_min(1e-6)
