"""models.image: allowed formats load as RGB; anything else, damaged files and bombs are refused."""

import struct
import zlib

import numpy as np
import pytest
from media_fixtures import make_image, truncate_copy
from PIL import Image, ImageFile

from models import image as image_module
from models.image import ALLOWED_IMAGE_FORMATS, load_image
from models.media import InvalidMediaError, UnsupportedMediaError

RED = (200, 30, 30)


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR declaring width x height, with (almost) no pixel data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_allowed_formats_load_as_rgb(tmp_path, suffix):
    image = load_image(make_image(tmp_path / f"poster{suffix}", size=(40, 60), color=RED))
    assert image.mode == "RGB" and image.size == (40, 60)
    assert np.abs(np.asarray(image)[30, 20].astype(int) - RED).max() <= 6  # lossy formats drift a little


@pytest.mark.parametrize("mode", ["P", "L", "1", "CMYK", "RGBA", "LA"])
def test_other_modes_are_converted_to_rgb(tmp_path, mode):
    suffix = ".jpg" if mode == "CMYK" else ".png"
    image = load_image(make_image(tmp_path / f"poster{suffix}", mode=mode))
    assert image.mode == "RGB" and image.size == (40, 60)


def test_transparency_is_flattened_onto_white(tmp_path):
    path = tmp_path / "clear.png"
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(path)
    assert load_image(path).getpixel((4, 4)) == (255, 255, 255)


def test_16_bit_greyscale_keeps_its_brightness(tmp_path):
    path = tmp_path / "grey16.png"
    Image.fromarray(np.full((6, 4), 40000, dtype=np.uint16)).save(path)
    assert load_image(path).getpixel((1, 1)) == (156, 156, 156)  # 40000 / 256


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    Image.new("RGB", (40, 60), RED).save(path, exif=exif)
    assert load_image(path).size == (60, 40)


@pytest.mark.parametrize("suffix", [".gif", ".bmp"])
def test_other_image_formats_are_unsupported(tmp_path, suffix):
    with pytest.raises(UnsupportedMediaError, match="not an image in an accepted format"):
        load_image(make_image(tmp_path / f"poster{suffix}"))


def test_a_gif_renamed_jpg_is_unsupported(tmp_path):
    path = tmp_path / "poster.jpg"
    make_image(path, fmt="GIF")
    with pytest.raises(UnsupportedMediaError):
        load_image(path)


@pytest.mark.parametrize("content", [b"", b"just some text\n"])
def test_non_images_are_unsupported(tmp_path, content):
    path = tmp_path / "poster.png"
    path.write_bytes(content)
    with pytest.raises(UnsupportedMediaError):
        load_image(path)


def test_truncated_jpeg_is_invalid(tmp_path):
    noise = np.random.default_rng(0).integers(0, 255, (120, 120, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.jpg", quality=95)
    with pytest.raises(InvalidMediaError, match="truncated"):
        load_image(truncate_copy(tmp_path / "noise.jpg", tmp_path / "cut.jpg", 0.6))


def test_missing_file_is_invalid(tmp_path):
    with pytest.raises(InvalidMediaError, match="no such file"):
        load_image(tmp_path / "missing.png")


def test_too_many_pixels_is_refused_before_decoding(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(10_000, 5_000))  # 50 Mpx declared, below Pillow's own threshold
    small = make_image(tmp_path / "small.png")

    def never(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never)
    with pytest.raises(InvalidMediaError, match="50000000 pixels exceeds the limit of 40000000"):
        load_image(bomb)
    with pytest.raises(InvalidMediaError, match="exceeds the limit of 100"):
        load_image(small, max_pixels=100)


def test_pillow_bomb_check_stays_on(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(png_header_only(100_000, 100_000))
    with pytest.raises(InvalidMediaError, match="too large|exceeds"):
        load_image(path, max_pixels=10**12)


def test_allowed_formats():
    assert ALLOWED_IMAGE_FORMATS == ("JPEG", "PNG", "WEBP")
    assert image_module.DEFAULT_MAX_PIXELS == 40_000_000
