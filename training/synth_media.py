"""Media of the synthetic benchmark: trailer frames and soundtrack (posters: synth_poster.py).

Each genre has a look (`LOOKS`: palette, brightness, texture, shapes, poster layout) and a sound
(`SOUNDS`: pitch, tempo, timbre, loudness); four genres also have a way of moving (`MOTIONS`:
camera pan, handheld shake, slow zoom, object speed, shot rate). A movie's media mix the genres
it *expresses* in each modality (chosen in synth.py): every scene of the trailer takes the look
of one genre expressed in video (or a plain, grey "generic" look) and the motion of one genre
expressed in motion (or a generic drift); the soundtrack sums the expressed genres' sounds over
background noise, and the poster gives each expressed genre a key-art panel in its palette with
its motif. Scenes change look at one rate for every genre, and a scene is filmed by a camera
moving over a larger still set, so no single frame shows how it moves: only consecutive frames
do. All randomness comes from the generator passed in, so a movie renders the same for the same
seed.
"""

import colorsys
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from models.genres import MOVIESCOPE

FPS = 8  # trailer frame rate; a keyframe every second (GOP = FPS)
AUDIO_RATE = 22050  # soundtrack sample rate, mono


@dataclass(frozen=True)
class Look:
    hue: float  # 0..1
    saturation: float
    brightness: float  # 0..1
    texture: str  # background pattern, see _texture
    grain: float  # film grain amplitude (0..255 scale)
    shape: str  # "rect" | "ellipse": the set pieces and the moving shapes
    layout: str  # poster motif, see training/synth_poster.py


@dataclass(frozen=True)
class Motion:
    pan: float  # camera pan speed, frame widths per second
    shake: float  # handheld jitter: the camera's per-frame offset, frame widths (standard deviation)
    zoom: float  # zoom speed: change of log scale per second
    objects: float  # moving shapes' speed, frame widths per second
    shot_rate: float  # new camera setups per second (cuts within a scene, same set and look)


@dataclass(frozen=True)
class Sound:
    pitch: float  # Hz of the base note
    tempo: float  # beats per second
    rolloff: float  # harmonic k has amplitude rolloff**(k-1): timbre
    noise: float  # share of (percussive) noise vs tone
    decay: float  # seconds: short = plucked/percussive, long = sustained
    loudness: float


LOOKS: dict[str, Look] = {
    "Action": Look(0.03, 0.85, 0.60, "diag", 6, "rect", "diagonal"),
    "Animation": Look(0.16, 1.00, 0.92, "flat", 0, "ellipse", "circles"),
    "Biography": Look(0.09, 0.35, 0.55, "flat", 22, "rect", "portrait"),
    "Comedy": Look(0.22, 0.75, 0.85, "dots", 3, "ellipse", "dots"),
    "Crime": Look(0.11, 0.60, 0.30, "hstripes", 10, "rect", "stripes"),
    "Drama": Look(0.55, 0.30, 0.50, "vignette", 8, "rect", "rain"),
    "Family": Look(0.32, 0.70, 0.80, "flat", 2, "ellipse", "sun"),
    "Fantasy": Look(0.78, 0.75, 0.60, "glow", 4, "ellipse", "stars"),
    "Horror": Look(0.99, 0.70, 0.16, "vignette", 24, "rect", "vignette"),
    "Mystery": Look(0.71, 0.45, 0.28, "fog", 12, "ellipse", "rings"),
    "Romance": Look(0.93, 0.55, 0.78, "glow", 4, "ellipse", "hearts"),
    "Sci-Fi": Look(0.50, 0.90, 0.50, "grid", 3, "rect", "grid"),
    "Thriller": Look(0.62, 0.55, 0.30, "vstripes", 10, "rect", "shards"),
}
GENERIC = Look(0.0, 0.12, 0.50, "flat", 6, "rect", "blocks")  # hue drawn per scene

MOTIONS: dict[str, Motion] = {  # the genres planted in motion; their looks never show in the frames
    "Action": Motion(0.30, 0.004, 0.0, 0.80, 1.6),  # fast pans, fast objects, fast cutting
    "Drama": Motion(0.0, 0.0, 0.0, 0.03, 0.15),  # a still camera, long holds
    "Horror": Motion(0.0, 0.0, 0.12, 0.04, 0.35),  # the slow creeping zoom
    "Thriller": Motion(0.06, 0.015, 0.0, 0.30, 0.8),  # handheld shake
}
GENERIC_MOTION = Motion(0.04, 0.002, 0.0, 0.15, 0.5)
MOTION_SPREAD = (0.6, 1.4)  # each shot scales its motion's parameters by a factor drawn from this range
SCENE_SECONDS = 3.0  # mean scene length (a new look and set), the same for every genre
SET_SCALE = 2.4  # the set a scene is filmed on, in frame sizes
ZOOM_RANGE = (1.0, 1.5)  # the camera's magnification; at 1 it sees 1.5 frame sizes of the set

SOUNDS: dict[str, Sound] = {
    "Action": Sound(540, 3.0, 0.70, 0.45, 0.15, 0.50),
    "Animation": Sound(1480, 2.6, 0.30, 0.05, 0.12, 0.35),
    "Biography": Sound(440, 0.8, 0.40, 0.05, 0.90, 0.25),
    "Comedy": Sound(990, 2.2, 0.50, 0.10, 0.10, 0.35),
    "Crime": Sound(240, 1.4, 0.80, 0.30, 0.35, 0.35),
    "Drama": Sound(360, 0.6, 0.35, 0.02, 1.50, 0.25),
    "Family": Sound(810, 1.6, 0.30, 0.05, 0.40, 0.30),
    "Fantasy": Sound(1210, 1.0, 0.60, 0.08, 1.20, 0.30),
    "Horror": Sound(160, 0.5, 0.90, 0.60, 2.00, 0.45),
    "Mystery": Sound(294, 0.9, 0.60, 0.25, 0.80, 0.25),
    "Romance": Sound(660, 1.1, 0.25, 0.02, 1.00, 0.25),
    "Sci-Fi": Sound(1810, 2.0, 0.90, 0.20, 0.25, 0.35),
    "Thriller": Sound(196, 1.9, 0.70, 0.40, 0.20, 0.40),
}
GENERIC_SHARE = 0.2  # share of trailer scenes with the generic look
# spread of the planted cues around each genre's look and sound: learning them takes more than one lookup
HUE_SPREAD = 0.04  # hue, per scene or poster (0..1 scale)
PITCH_SPREAD = 0.03  # log pitch, about half a semitone

assert set(LOOKS) == set(MOVIESCOPE) == set(SOUNDS)


# ---- colours and patterns ----------------------------------------------------------------
def rgb(hue: float, saturation: float, value: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(hue % 1.0, float(np.clip(saturation, 0, 1)),
                                        float(np.clip(value, 0, 1))), dtype=np.float32) * 255


def _texture(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """(h, w, 1) multiplicative pattern around 1; periods scale with the frame so they survive resizing."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    y, x = y / height, x / width
    r2 = (x - 0.5) ** 2 + (y - 0.5) ** 2
    phase = rng.uniform(0, 1)
    if kind == "diag":
        field = 1 + 0.25 * np.sign(np.sin(2 * np.pi * (6 * (x + y) + phase)))
    elif kind == "hstripes":
        field = 1 + 0.35 * np.sign(np.sin(2 * np.pi * (8 * y + phase)))
    elif kind == "vstripes":
        field = 1 + 0.30 * np.sign(np.sin(2 * np.pi * (7 * x + phase)))
    elif kind == "grid":
        field = 1 + 0.6 * ((np.abs(np.sin(np.pi * (9 * x + phase))) < 0.15) | (np.abs(np.sin(np.pi * 7 * y)) < 0.15))
    elif kind == "dots":
        field = 1 + 0.3 * ((np.cos(2 * np.pi * (8 * x + phase)) * np.cos(2 * np.pi * 6 * y)) > 0.6)
    elif kind == "vignette":
        field = np.clip(1.25 - 2.6 * r2, 0.15, None)
    elif kind == "glow":
        field = 0.65 + 0.8 * np.exp(-r2 / 0.06)
    elif kind == "fog":
        coarse = rng.uniform(0.5, 1.4, (4, 5)).astype(np.float32)
        field = coarse[(y * 4).astype(int).clip(0, 3), (x * 5).astype(int).clip(0, 4)]
    else:
        field = np.ones_like(x)
    return field[..., None].astype(np.float32)


# ---- trailer frames ------------------------------------------------------------------------
def render_frames(genres: list[str], moving: list[str], duration: float, size: tuple[int, int],
                  rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield round(duration * FPS) (h, w, 3) uint8 frames: scenes in the looks of `genres`, filmed with
    the motions of `moving` (MOTIONS keys), each scene cut into shots at its motion's shot rate."""
    n = max(1, round(duration * FPS))
    shift = rng.normal(0, 0.03)  # this movie's overall colour grade
    textures: dict[str, np.ndarray] = {}
    done = 0
    while done < n:
        generic = not genres or rng.random() < GENERIC_SHARE
        look = GENERIC if generic else LOOKS[genres[int(rng.integers(len(genres)))]]
        still = not moving or rng.random() < GENERIC_SHARE
        motion = GENERIC_MOTION if still else MOTIONS[moving[int(rng.integers(len(moving)))]]
        hue = rng.uniform(0, 1) if generic else look.hue + shift + rng.normal(0, HUE_SPREAD)
        length = min(int(np.clip(rng.exponential(FPS * SCENE_SECONDS), FPS * 1.5, FPS * 6)), n - done)
        if look.texture not in textures:
            textures[look.texture] = _texture(look.texture, *_set_size(size)[::-1], rng)
        scene_set = _set(look, hue, textures[look.texture], rng)
        while length > 0:
            shot = min(length, int(np.clip(rng.exponential(FPS / motion.shot_rate), FPS * 0.4, FPS * 8)))
            yield from _shot(scene_set, look, motion, hue, shot, size, rng)
            length -= shot
            done += shot


def _set_size(size: tuple[int, int]) -> tuple[int, int]:
    return round(size[0] * SET_SCALE), round(size[1] * SET_SCALE)


def _set(look: Look, hue: float, texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The still set of a scene: the look's graded, textured background, grain and set pieces."""
    height, width = texture.shape[:2]
    value = look.brightness * rng.uniform(0.8, 1.2)
    top = rgb(hue, look.saturation * rng.uniform(0.75, 1.25), value * 1.15)
    bottom = rgb(hue + rng.normal(0, 0.04), look.saturation, value * 0.7)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    grain = rng.standard_normal((height, width, 1), dtype=np.float32)
    image = np.clip((top * (1 - ramp) + bottom * ramp) * texture + grain * look.grain, 0, 255)
    for _ in range(int(rng.integers(8, 16))):  # still things for the camera to move past
        w, h = (max(2, int(rng.uniform(0.03, 0.1) * width)) for _ in range(2))
        x, y = int(rng.uniform(0, width - w)), int(rng.uniform(0, height - h))
        shade = rgb(hue + rng.normal(0, 0.05), look.saturation * 0.8, value * rng.uniform(0.5, 1.5))
        image[y:y + h, x:x + w][_mask(look.shape, h, w)] = shade
    return image.astype(np.uint8)


def _mask(shape: str, h: int, w: int) -> np.ndarray:
    if shape != "ellipse":
        return np.ones((h, w), dtype=bool)
    yy, xx = np.mgrid[0:h, 0:w]
    return ((yy + 0.5 - h / 2) / (h / 2)) ** 2 + ((xx + 0.5 - w / 2) / (w / 2)) ** 2 <= 1


def _shot(scene_set: np.ndarray, look: Look, motion: Motion, hue: float, length: int, size: tuple[int, int],
          rng: np.random.Generator) -> Iterator[np.ndarray]:
    """One camera setup: the camera pans, shakes and zooms over the set while shapes move across the frame."""
    width, height = size
    pan, shake, zoom, speed = (value * rng.uniform(*MOTION_SPREAD) for value in
                               (motion.pan, motion.shake, motion.zoom, motion.objects))
    angle = rng.uniform(0, 2 * np.pi)
    log_zoom = np.log(ZOOM_RANGE)
    zoom_start, zoom_step = rng.uniform(*log_zoom), zoom * rng.choice((-1, 1)) / FPS
    position = rng.uniform(0, 1, 2)  # where the view sits on the set, 0..1 of the room it has
    velocity = pan * width / FPS * np.array([np.cos(angle), np.sin(angle)])  # frame pixels per frame
    shapes = _moving_shapes(look, hue, speed, size, rng)
    set_width, set_height = scene_set.shape[1], scene_set.shape[0]
    for t in range(length):
        scale = np.exp(_reflect(zoom_start + zoom_step * t, *log_zoom))
        view = ZOOM_RANGE[1] / scale  # set pixels per frame pixel
        room = np.array([set_width - width * view, set_height - height * view])
        offset = position * room + velocity * view * t + rng.normal(0, shake * width * view, 2)
        x, y = (_reflect(o, 0, r) for o, r in zip(offset, room, strict=True))
        camera = np.array([[1 / view, 0, -x / view], [0, 1 / view, -y / view]], dtype=np.float32)
        frame = cv2.warpAffine(scene_set, camera, (width, height), flags=cv2.INTER_LINEAR)
        for (x0, y0), (vx, vy), mask, colour in shapes:
            h, w = mask.shape
            sx, sy = int(_reflect(x0 + vx * t, 0, width - w)), int(_reflect(y0 + vy * t, 0, height - h))
            frame[sy:sy + h, sx:sx + w][mask] = colour
        yield frame


def _moving_shapes(look: Look, hue: float, speed: float, size: tuple[int, int], rng: np.random.Generator) -> list:
    width, height = size
    shapes = []
    for _ in range(int(rng.integers(2, 6))):
        w = max(2, int(rng.uniform(0.08, 0.3) * width))
        h = max(2, int(rng.uniform(0.08, 0.3) * height))
        colour = rgb(hue + rng.uniform(0.35, 0.65), look.saturation, 1.0 - 0.5 * look.brightness).astype(np.uint8)
        pixels_per_frame = speed * rng.uniform(0.5, 1.5) * width / FPS
        angle = rng.uniform(0, 2 * np.pi)
        start = (rng.uniform(0, width - w), rng.uniform(0, height - h))
        shapes.append((start, (pixels_per_frame * np.cos(angle), pixels_per_frame * np.sin(angle)),
                       _mask(look.shape, h, w), colour))
    return shapes


def _reflect(position: float, low: float, high: float) -> float:
    """`position` reflected back and forth within [low, high]: the camera and the shapes bounce."""
    span = high - low
    if span <= 0:
        return low
    p = (position - low) % (2 * span)
    return low + (p if p <= span else 2 * span - p)


# ---- soundtrack ----------------------------------------------------------------------------
def render_audio(genres: list[str], duration: float, rng: np.random.Generator) -> np.ndarray:
    """Mono float32 in [-1, 1]: the expressed genres' sounds over a generic hum and noise."""
    t = np.arange(round(duration * AUDIO_RATE), dtype=np.float32) / AUDIO_RATE
    hum = Sound(float(rng.uniform(120, 1500)), float(rng.uniform(0.5, 3)), 0.5, 0.1, 0.5, 0.12)
    mix = _voice(hum, t, rng) + rng.standard_normal(len(t), dtype=np.float32) * rng.uniform(0.005, 0.03)
    for genre in genres:
        mix += _voice(SOUNDS[genre], t, rng)
    return np.tanh(mix).astype(np.float32)


def _voice(sound: Sound, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pitch = sound.pitch * np.exp(rng.normal(0, PITCH_SPREAD))
    tone = np.zeros_like(t)
    rolloff = float(np.clip(sound.rolloff + rng.normal(0, 0.08), 0.1, 0.95))
    for k in range(1, 5):
        if pitch * k < AUDIO_RATE / 2 - 500:
            tone += np.float32(rolloff ** (k - 1)) * np.sin(2 * np.pi * pitch * k * t + rng.uniform(0, 6.3))
    period = 1.0 / (sound.tempo * rng.uniform(0.85, 1.15))
    since_beat = (t + rng.uniform(0, period)) % period
    envelope = 0.25 + 0.75 * np.exp(-since_beat / (sound.decay * rng.uniform(0.7, 1.4)))
    noise = rng.standard_normal(len(t), dtype=np.float32) * np.exp(-since_beat / 0.05)
    voice = (1 - sound.noise) * tone / 2 + sound.noise * noise
    return (sound.loudness * rng.uniform(0.8, 1.2) * envelope * voice).astype(np.float32)
