"""Poster decoding with Pillow: allowed formats only, bomb checks before decoding."""

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from models.media import InvalidMediaError, UnsupportedMediaError

ALLOWED_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_PIXELS = 40_000_000


def load_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """A fully decoded RGB image. Header size is checked before any pixel is decoded."""
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=ALLOWED_IMAGE_FORMATS) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise InvalidMediaError(f"{path.name}: {width}x{height} pixels exceeds the limit of {max_pixels}")
                image.load()
                return _to_rgb(image)
        except UnidentifiedImageError as err:
            raise UnsupportedMediaError(f"{path.name}: not an image in an accepted format "
                                        f"({', '.join(ALLOWED_IMAGE_FORMATS)})") from err
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise InvalidMediaError(f"{path.name}: image too large ({err})") from err
        except (OSError, SyntaxError, ValueError) as err:
            if isinstance(err, InvalidMediaError):
                raise
            raise InvalidMediaError(f"{path.name}: corrupt or truncated image ({err})") from err


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")
