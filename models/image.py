"""Poster decoding with Pillow: allowed formats only, pixel count checked before any decoding.

`Image.open` reads the header only; the size is checked against `max_pixels` before `.load()`
decodes the pixels, and Pillow's own decompression-bomb warning is raised as an error.
Truncated files are refused (Pillow's `ImageFile.LOAD_TRUNCATED_IMAGES` must stay False).
"""

import struct
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from models.media import InvalidMediaError, UnsupportedMediaError

ALLOWED_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_PIXELS = 40_000_000
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
