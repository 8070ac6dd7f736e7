"""Rendering of the synthetic benchmark's media: trailer frames, soundtrack, poster.

Each genre has a look and a sound (`PROFILES`); a movie shows a mix of the genres it
"expresses" in that modality (chosen in synth.py), so the evidence is real but partial.
"""

import colorsys
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from models.genres import GENRES

FPS = 8
AUDIO_RATE = 22050


@dataclass(frozen=True)
class Profile:
    hue: float  # 0..1
    saturation: float
    brightness: float  # 0..1
    motion: float  # shape speed, fraction of the frame width per second
    cut_rate: float  # scene cuts per second
    pitch: float  # Hz
    tempo: float  # beats per second
    noise: float  # timbre: share of noise vs tone
    loudness: float
    shape: str  # poster layout


PROFILES: dict[str, Profile] = {
    "Action": Profile(0.02, 0.9, 0.55, 0.60, 1.20, 110, 3.0, 0.45, 0.9, "diagonal"),
    "Animation": Profile(0.15, 1.0, 0.85, 0.30, 0.50, 660, 2.5, 0.05, 0.6, "circles"),
    "Biography": Profile(0.09, 0.3, 0.50, 0.05, 0.15, 262, 0.8, 0.10, 0.4, "portrait"),
    "Comedy": Profile(0.13, 0.8, 0.80, 0.20, 0.40, 523, 2.2, 0.05, 0.6, "dots"),
    "Crime": Profile(0.62, 0.4, 0.30, 0.15, 0.60, 147, 1.2, 0.25, 0.6, "stripes"),
    "Drama": Profile(0.08, 0.35, 0.45, 0.05, 0.20, 220, 0.7, 0.05, 0.4, "portrait"),
    "Family": Profile(0.30, 0.7, 0.80, 0.15, 0.30, 440, 1.6, 0.05, 0.5, "circles"),
    "Fantasy": Profile(0.78, 0.8, 0.60, 0.20, 0.30, 587, 1.0, 0.15, 0.6, "stars"),
    "Horror": Profile(0.98, 0.6, 0.15, 0.10, 0.80, 73, 0.6, 0.60, 0.8, "vignette"),
    "Mystery": Profile(0.70, 0.5, 0.25, 0.05, 0.30, 196, 0.9, 0.30, 0.5, "vignette"),
    "Romance": Profile(0.93, 0.6, 0.70, 0.05, 0.20, 349, 1.1, 0.05, 0.4, "hearts"),
    "Sci-Fi": Profile(0.52, 0.9, 0.45, 0.40, 0.60, 880, 2.0, 0.20, 0.7, "grid"),
    "Thriller": Profile(0.58, 0.5, 0.30, 0.30, 1.00, 123, 1.8, 0.35, 0.7, "stripes"),
}
NEUTRAL = Profile(0.0, 0.0, 0.5, 0.15, 0.4, 300, 1.3, 0.2, 0.6, "blocks")


def mix(genres: list[str], rng: np.random.Generator) -> Profile:
    """The average profile of the expressed genres (neutral when none), jittered."""
    profiles = [PROFILES[g] for g in genres] or [NEUTRAL]
    fields = ("saturation", "brightness", "motion", "cut_rate", "pitch", "tempo", "noise", "loudness")
    avg = {f: float(np.mean([getattr(p, f) for p in profiles])) * rng.uniform(0.8, 1.2) for f in fields}
    angles = np.array([p.hue for p in profiles]) * 2 * np.pi
    hue = (np.arctan2(np.sin(angles).mean(), np.cos(angles).mean()) / (2 * np.pi) + rng.normal(0, 0.04)) % 1.0
    shape = profiles[int(rng.integers(len(profiles)))].shape
    return Profile(hue=hue, shape=shape, **{f: v for f, v in avg.items()})


def rgb(hue: float, saturation: float, value: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(hue % 1.0, min(saturation, 1.0), min(max(value, 0.0), 1.0))) * 255


def render_frames(look: Profile, duration: float, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(n, h, w, 3) uint8: scenes of gradient backgrounds with moving blocks, cut at the profile's rate."""
    width, height = size
    n = int(round(duration * FPS))
    frames = np.empty((n, height, width, 3), dtype=np.uint8)
    ramp = np.linspace(0.6, 1.2, height)[:, None, None]
    grain = rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    start = 0
    while start < n:
        length = max(2, int(rng.exponential(FPS / max(look.cut_rate, 0.05))))
        hue = look.hue + rng.normal(0, 0.03)
        background = np.clip(ramp * rgb(hue, look.saturation, look.brightness)[None, None, :] + grain, 0, 255)
        _scene(frames[start:start + length], background.astype(np.uint8), look, rng)
        start += length
    return frames


def _scene(frames: np.ndarray, background: np.ndarray, look: Profile, rng: np.random.Generator) -> None:
    height, width = background.shape[:2]
    shapes = []
    for _ in range(3):
        w, h = int(rng.uniform(0.1, 0.3) * width), int(rng.uniform(0.1, 0.3) * height)
        colour = rgb(look.hue + rng.uniform(0.3, 0.7), look.saturation, 1.1 - look.brightness * 0.6)
        velocity = rng.normal(0, 1, 2) * look.motion * width / FPS
        shapes.append((rng.uniform(0, width - w), rng.uniform(0, height - h), w, h, colour, velocity))
    for t in range(len(frames)):
        frame = frames[t]
        frame[:] = background
        for x0, y0, w, h, colour, (vx, vy) in shapes:
            x = int((x0 + vx * t) % max(1, width - w))
            y = int((y0 + vy * t) % max(1, height - h))
            frame[y:y + h, x:x + w] = colour


def render_audio(sound: Profile, duration: float, rng: np.random.Generator) -> np.ndarray:
    """Mono float32: a tone with harmonics pulsed at the tempo, plus noise (timbre)."""
    t = np.arange(int(duration * AUDIO_RATE)) / AUDIO_RATE
    pitch = sound.pitch * rng.uniform(0.95, 1.05)
    tone = sum(np.sin(2 * np.pi * pitch * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3))
    beat = 0.5 + 0.5 * (np.sin(2 * np.pi * sound.tempo * t) > 0.6)
    noise = rng.normal(0, 1, len(t))
    signal = (1 - sound.noise) * tone * beat + sound.noise * noise * beat
    signal = signal / (np.abs(signal).max() + 1e-9) * 0.8 * min(sound.loudness, 1.0)
    return signal.astype(np.float32)


def render_poster(look: Profile, rng: np.random.Generator, size: tuple[int, int] = (200, 300)) -> Image.Image:
    image = Image.new("RGB", size, tuple(int(c) for c in rgb(look.hue, look.saturation, look.brightness)))
    draw = ImageDraw.Draw(image)
    accent = tuple(int(c) for c in rgb(look.hue + 0.5, look.saturation, 1.1 - look.brightness * 0.6))
    w, h = size
    for _ in range(int(rng.integers(4, 9))):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        r = float(rng.uniform(8, 40))
        if look.shape in ("circles", "dots", "hearts", "stars"):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=accent)
        elif look.shape in ("stripes", "grid"):
            draw.rectangle([0, y, w, y + r / 3], fill=accent)
            if look.shape == "grid":
                draw.rectangle([x, 0, x + r / 3, h], fill=accent)
        elif look.shape == "diagonal":
            draw.line([x - 60, y + 60, x + 60, y - 60], fill=accent, width=int(r / 3))
        elif look.shape == "vignette":
            draw.rectangle([0, 0, w, h * 0.15], fill=(0, 0, 0))
        else:  # portrait / blocks
            draw.rectangle([w * 0.3, h * 0.25, w * 0.7, h * 0.8], fill=accent)
    return image


def encode_trailer(frames: np.ndarray, audio: np.ndarray, out: Path, duration: float, workdir: Path) -> None:
    """H.264/AAC MP4 with a keyframe every second, written to `out` (the caller makes it atomic)."""
    wav = workdir / f"{out.stem}.wav"
    try:
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(AUDIO_RATE)
            w.writeframes((audio * 32767).astype("<i2").tobytes())
        height, width = frames.shape[1:3]
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(FPS), "-i", "pipe:0",
               "-i", str(wav), "-c:v", "libx264", "-preset", "veryfast", "-g", str(FPS), "-pix_fmt", "yuv420p",
               "-threads", "1", "-c:a", "aac", "-b:a", "64k", "-t", f"{duration}", "-movflags", "+faststart",
               "-f", "mp4", str(out)]
        result = subprocess.run(cmd, input=frames.tobytes(), capture_output=True, timeout=600, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ffmpeg failed writing {out.name}: {result.stderr.decode(errors='replace')[-500:]}")
    finally:
        wav.unlink(missing_ok=True)


assert set(PROFILES) == set(GENRES)
