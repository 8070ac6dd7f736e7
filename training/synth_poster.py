"""Posters of the synthetic benchmark: a dull sheet with one key-art panel per expressed genre.

Each genre the poster expresses gets a panel about a third of the poster's size, at a random
place that hides as little as it can of the others, filled with that genre's palette (`Look`: hue, saturation,
brightness) and drawn with its motif (`Look.layout`); a poster that expresses no genre gets one
panel of the plain "generic" look, so a panel by itself says nothing. The sheet around the panels
has a random dull colour and the title.

The evidence has a place, as on real posters (a face, a weapon, a skyline): an explanation can
point at it, and greying the right fifth of a poster removes more of it than greying a random
fifth (training/faithfulness.py). Until 2026-11 the genre palette covered the whole sheet and the
motifs were strewn over it, so there was nothing to point at.
"""

import numpy as np
from PIL import Image, ImageDraw

from training.synth_media import GENERIC, HUE_SPREAD, LOOKS, Look, rgb

POSTER_SIZE = (200, 300)
PANEL_SHARE = (0.62, 0.5)  # a panel's width and height, as shares of the poster's
_PANEL = (round(POSTER_SIZE[0] * PANEL_SHARE[0]), round(POSTER_SIZE[1] * PANEL_SHARE[1]))
_SCALE = (PANEL_SHARE[0] * PANEL_SHARE[1]) ** 0.5  # motif sizes below are for a whole 200x300 sheet
SHEET_SATURATION, SHEET_VALUE = (0.05, 0.25), (0.35, 0.65)  # the sheet's colour: random hue, dull


def render_poster(genres: list[str], title: str, rng: np.random.Generator) -> Image.Image:
    """A POSTER_SIZE RGB image: the sheet, the expressed genres' panels in a random order, the title."""
    sheet = rgb(rng.uniform(0, 1), rng.uniform(*SHEET_SATURATION), rng.uniform(*SHEET_VALUE))
    image = _shaded(sheet, POSTER_SIZE, 0.7, rng)
    order = [genres[i] for i in rng.permutation(len(genres))] or ["generic"]
    corners: list[tuple[int, int]] = []
    for genre in order:
        corners.append(_free_corner(corners, rng))
        image.paste(_panel(LOOKS.get(genre, GENERIC), genre == "generic", rng), corners[-1])
    ImageDraw.Draw(image).text((10, POSTER_SIZE[1] - 30), title[:28], fill=(240, 240, 240))
    return image


def _shaded(colour: np.ndarray, size: tuple[int, int], bottom: float, rng: np.random.Generator) -> Image.Image:
    """`colour` darkening from 1.1x at the top to `bottom`x at the foot, with a little grain."""
    width, height = size
    ramp = np.linspace(1.1, bottom, height, dtype=np.float32)[:, None, None]
    pixels = np.clip(ramp * colour + rng.normal(0, 4, (height, width, 1)), 0, 255).astype(np.uint8)
    return Image.fromarray(np.broadcast_to(pixels, (height, width, 3)).copy())


def _free_corner(taken: list[tuple[int, int]], rng: np.random.Generator, tries: int = 8) -> tuple[int, int]:
    """A panel's top-left corner: of a few random ones, the one that hides least of the panels already placed."""
    (width, height), (w, h) = POSTER_SIZE, _PANEL
    candidates = zip(rng.integers(0, width - w + 1, tries), rng.integers(0, height - h + 1, tries))

    def hidden(corner: tuple[int, int]) -> int:
        return sum(max(0, w - abs(corner[0] - x)) * max(0, h - abs(corner[1] - y)) for x, y in taken)

    return min(((int(x), int(y)) for x, y in candidates), key=hidden)


def _panel(look: Look, generic: bool, rng: np.random.Generator) -> Image.Image:
    """The genre's palette as a vertical ramp, its motif over it in the complementary accent colour."""
    hue = rng.uniform(0, 1) if generic else look.hue + rng.normal(0, HUE_SPREAD)
    panel = _shaded(rgb(hue, look.saturation, look.brightness * rng.uniform(0.85, 1.15)), _PANEL, 0.6, rng)
    accent_hue = hue + rng.uniform(0.4, 0.6) if generic else look.hue + 0.5 + rng.normal(0, HUE_SPREAD)
    accent = rgb(accent_hue, look.saturation, 1.0 - 0.5 * look.brightness)
    _draw_motif(ImageDraw.Draw(panel), look.layout, tuple(int(c) for c in accent), rng)
    return panel


def _draw_motif(draw: ImageDraw.ImageDraw, layout: str, accent: tuple, rng: np.random.Generator) -> None:
    w, h = _PANEL
    u = lambda lo, hi: float(rng.uniform(lo, hi))
    s = lambda length: length * _SCALE  # a whole-sheet length or offset, scaled to the panel
    if layout in ("circles", "dots", "hearts", "rings"):
        count, radius = {"circles": (3, (25, 55)), "dots": (14, (5, 12)), "hearts": (4, (12, 24)),
                         "rings": (3, (40, 80))}[layout]
        for _ in range(count):
            x, y, r = u(0, w), u(0, h), s(u(*radius))
            if layout == "hearts":
                draw.ellipse([x - r, y - r, x, y], fill=accent)
                draw.ellipse([x, y - r, x + r, y], fill=accent)
                draw.polygon([(x - r, y - r / 2), (x + r, y - r / 2), (x, y + r)], fill=accent)
            else:
                draw.ellipse([x - r, y - r, x + r, y + r], fill=None if layout == "rings" else accent,
                             outline=accent, width=round(s(6)))
    elif layout in ("stripes", "grid"):
        for k in range(6):
            draw.rectangle([0, k * h / 6, w, k * h / 6 + s(10)], fill=accent)
            if layout == "grid":
                draw.rectangle([k * w / 6, 0, k * w / 6 + s(4), h], fill=accent)
    elif layout in ("diagonal", "shards"):
        for _ in range(4):
            x, y = u(0, w), u(0, h)
            if layout == "diagonal":
                draw.line([x - s(90), y + s(90), x + s(90), y - s(90)], fill=accent, width=round(s(u(8, 16))))
            else:
                draw.polygon([(x, y), (x + s(u(-60, 60)), y + s(u(20, 90))), (x + s(u(-60, 60)), y - s(u(20, 90)))],
                             fill=accent)
    elif layout == "stars":
        for _ in range(5):
            x, y, r = u(0, w), u(0, h), s(u(8, 22))
            angles = np.pi / 2 + np.arange(10) * np.pi / 5
            radii = np.where(np.arange(10) % 2 == 0, r, r / 2.5)
            draw.polygon([(x + q * np.cos(a), y - q * np.sin(a)) for a, q in zip(angles, radii)], fill=accent)
    elif layout in ("vignette", "portrait", "rain", "sun"):
        _draw_figure(draw, layout, accent, u, s)
    else:  # blocks
        for _ in range(3):
            x, y = u(0, w * 0.8), u(0, h * 0.8)
            draw.rectangle([x, y, x + s(u(30, 100)), y + s(u(30, 100))], fill=accent)


def _draw_figure(draw: ImageDraw.ImageDraw, layout: str, accent: tuple, u, s) -> None:
    """Horror's dark frame and red blot, Biography's portrait, Drama's rain, Family's sun.
    `u(lo, hi)` draws uniformly; `s(length)` scales a whole-sheet length or offset to the panel."""
    w, h = _PANEL
    if layout == "vignette":
        draw.rectangle([0, 0, w, h], outline=(0, 0, 0), width=round(s(28)))
        x, y = u(0.3 * w, 0.7 * w), u(0.3 * h, 0.7 * h)
        draw.polygon([(x + s(u(-40, 40)), y + s(u(-40, 40))) for _ in range(7)], fill=(150, 0, 0))
    elif layout == "portrait":
        cx = w / 2 + s(u(-30, 30))
        draw.ellipse([cx - s(28), 0.27 * h, cx + s(28), 0.5 * h], fill=accent)
        draw.rectangle([cx - s(60), 0.53 * h, cx + s(60), 0.9 * h], fill=accent)
    elif layout == "rain":
        for _ in range(int(u(18, 30))):
            x, y = u(0, w), u(0, h)
            draw.line([x, y, x - s(6), y + s(u(20, 40))], fill=accent, width=2)
    else:  # sun
        x, y, r = u(0.3 * w, 0.7 * w), u(0.25 * h, 0.6 * h), s(u(22, 34))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=accent)
        for a in np.linspace(0, 2 * np.pi, 12, endpoint=False) + u(0, 0.5):
            draw.line([x + 1.3 * r * np.cos(a), y + 1.3 * r * np.sin(a), x + 1.9 * r * np.cos(a),
                       y + 1.9 * r * np.sin(a)], fill=accent, width=round(s(4)))
