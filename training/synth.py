"""`moviescope synth`: a synthetic trailer-bundle dataset in the format every job reads.

Labels follow the Moviescope genre rates and co-occurrences (a Gaussian copula). Every
modality carries genre evidence, each only partly: per movie and modality, each true
genre is *expressed* with a modality-specific probability, and now and then a wrong
genre leaks in. So no single modality is near perfect and fusing them helps, as in the
paper's Table 3. The trailer carries two modalities: its frames ("video") and how it moves
("motion"); the genres planted in motion (synth_media.MOTIONS) never show in its frames, so only
a model that compares consecutive frames can read them there. A few movies lack the poster, the
plot or the metadata.

Deterministic for a seed: every movie draws from its own generators, seeded from
(seed, index, stream), so results depend neither on order nor on parallelism, and the
labels, texts, metadata and splits do not depend on the trailer duration or size.

Layout of `out`: movies.jsonl (written last), trailers/<id>.mp4, posters/<id>.jpg, and
planted.jsonl: per movie, the genres whose evidence went into each modality. It states the
benchmark's ceiling (what an oracle that knows the planted evidence scores); the report reads
it for its ceiling rows, and training and prediction never read it.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from statistics import NormalDist

import numpy as np

from models.files import atomic_path
from models.genres import MOVIESCOPE
from training import synth_media as media
from training.ceiling import PLANTED_FILE
from training.dataset import MOVIES_FILE, SPLIT_SHARES
from training.progress import progress as progress_bar
from training.synth_poster import render_poster
from training.synth_text import make_metadata, make_plot, make_title

MARKER = ".moviescope-synth"  # marks a directory this module made (and may overwrite)
FILE_MODE = 0o644  # a dataset is for reading (atomic_path alone makes private files)
# share of movies with each genre (MOVIESCOPE.md, the paper's Baseline row), canonical order
RATES = np.array([22.1, 4.3, 6.2, 39.3, 18.6, 53.6, 10.8, 17.0, 10.5, 10.9, 22.1, 13.5, 25.8]) / 100
PAIRS = {  # latent (copula) correlations between genres; the rest are 0
    ("Animation", "Family"): 0.75, ("Crime", "Thriller"): 0.5, ("Horror", "Thriller"): 0.45,
    ("Romance", "Drama"): 0.35, ("Action", "Sci-Fi"): 0.45, ("Fantasy", "Family"): 0.4,
    ("Action", "Thriller"): 0.3, ("Mystery", "Thriller"): 0.4, ("Biography", "Drama"): 0.45,
    ("Comedy", "Family"): 0.35, ("Animation", "Comedy"): 0.35, ("Comedy", "Romance"): 0.25,
    ("Comedy", "Horror"): -0.35, ("Comedy", "Thriller"): -0.35, ("Drama", "Animation"): -0.35,
    ("Comedy", "Drama"): -0.25, ("Crime", "Drama"): 0.15, ("Fantasy", "Animation"): 0.3,
}
# chance that a true genre shows in a modality; text is the strongest, as in the paper ("motion" last:
# a new modality's draws come after the others', which then stay as they were)
EXPRESS = {"video": 0.7, "audio": 0.5, "poster": 0.55, "text": 0.8, "metadata": 0.65, "motion": 0.7}
# the genres a modality can show: the trailer's frames never show those planted in motion
SHOWABLE = {"video": [g for g in MOVIESCOPE if g not in media.MOTIONS], "motion": list(media.MOTIONS)}
LEAK = 0.3  # chance that a modality also shows one genre the movie does not have (common ones more often)
ABSENT = 0.04  # chance each of poster / plot / metadata is missing (real catalogues are incomplete)
STREAMS = ("express", "text", "metadata", "absent", "video", "audio", "poster")


def sample_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 13) float32 multi-hot labels with the Moviescope rates and plausible co-occurrence.

    A correlated normal latent per movie; genre g is on where its latent passes g's
    threshold. A movie with no genre gets the one its latent comes closest to; the
    thresholds are calibrated so that the rates still match RATES after that.
    """
    latent = rng.standard_normal((n, len(MOVIESCOPE))) @ _cholesky().T
    return _threshold(latent, _thresholds())


def synthesize(out: Path, n: int = 300, seed: int = 0, duration: float = 30.0,
               size: tuple[int, int] = (320, 240), progress: bool = True) -> Path:
    """Write a dataset directory `out` and return the path of out/movies.jsonl."""
    out = Path(out)
    width, height = (int(v) for v in size)
    if n < 1 or duration <= 0 or width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"need n >= 1, duration > 0 and an even size of at least 16x16; "
                         f"got n={n}, duration={duration}, size={width}x{height}")
    _prepare(out, {"seed": seed, "n": n, "duration_s": duration, "size": f"{width}x{height}"})
    labels = sample_labels(np.random.default_rng([seed, 1_000_001]), n)
    splits = assign_splits(np.random.default_rng([seed, 1_000_002]), n)
    jobs = [(out, seed, i, labels[i], splits[i], duration, (width, height)) for i in range(n)]
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1, n)) as pool:
        made = list(progress_bar(pool.map(_make_movie, jobs), total=n, desc="synth", unit="movie",
                                 disable=not progress))
    write_jsonl(out / PLANTED_FILE, [{"id": row["id"], "planted": planted} for row, planted in made])
    write_jsonl(out / MOVIES_FILE, [row for row, _ in made])
    return out / MOVIES_FILE


def movie_id(seed: int, index: int) -> str:
    return f"syn{seed:03d}{index:05d}"


def plan_movie(seed: int, index: int, label: np.ndarray, split: str) -> tuple[dict, dict, dict]:
    """A movie's row without media, the genres each modality expresses, and its media generators.

    Cheap (no media); the row's "trailer" and "poster" entries are added when the files are written.
    """
    rng = {name: np.random.default_rng([seed, index, k]) for k, name in enumerate(STREAMS)}
    genres = [g for g, on in zip(MOVIESCOPE, label, strict=True) if on]
    shown = {m: _expressed(genres, p, SHOWABLE.get(m, MOVIESCOPE), rng["express"]) for m, p in EXPRESS.items()}
    has = {part: bool(rng["absent"].random() >= ABSENT) for part in ("poster", "plot", "metadata")}
    row = {"id": movie_id(seed, index), "title": make_title(rng["text"]), "genres": genres, "split": split}
    if has["plot"]:
        row["plot"] = make_plot(shown["text"], rng["text"])
    if has["metadata"]:
        row["metadata"] = make_metadata(shown["metadata"], rng["metadata"])
    for modality, part in (("poster", "poster"), ("text", "plot"), ("metadata", "metadata")):
        if not has[part]:
            shown[modality] = None
    return row, shown, rng


def _make_movie(job) -> tuple[dict, dict]:
    """Write one movie's media; its row and what each modality was given (None: the part is absent)."""
    out, seed, i, label, split, duration, size = job
    row, shown, rng = plan_movie(seed, i, label, split)
    row["trailer"] = f"trailers/{row['id']}.mp4"
    _write_trailer(out / row["trailer"], shown, duration, size, rng)
    if shown["poster"] is not None:
        row["poster"] = f"posters/{row['id']}.jpg"
        poster = render_poster(shown["poster"], row["title"], rng["poster"])
        with atomic_path(out / row["poster"], FILE_MODE) as tmp:
            poster.save(tmp, format="JPEG", quality=88)
    return row, shown


def _write_trailer(path: Path, shown: dict, duration: float, size: tuple[int, int], rng: dict) -> None:
    audio = media.render_audio(shown["audio"], duration, rng["audio"])
    frames = media.render_frames(shown["video"], shown["motion"], duration, size, rng["video"])
    with temporary_path(path.parent, ".wav") as wav, atomic_path(path, FILE_MODE) as tmp:
        write_wav(wav, audio)
        encode_trailer(frames, wav, tmp, duration, size)


def _expressed(genres: list[str], p: float, showable: list[str], rng: np.random.Generator) -> list[str]:
    shown = [g for g in genres if g in showable and rng.random() < p]
    if rng.random() < LEAK:
        others = [i for i, g in enumerate(MOVIESCOPE) if g in showable and g not in genres]
        if others:
            shown.append(MOVIESCOPE[int(rng.choice(others, p=RATES[others] / RATES[others].sum()))])
    return shown


def assign_splits(rng: np.random.Generator, n: int) -> list[str]:
    """train/val/test in SPLIT_SHARES proportions, in an order shuffled by `rng`."""
    order = rng.permutation(n)
    splits = np.empty(n, dtype=object)
    start = 0
    for k, (name, share) in enumerate(SPLIT_SHARES):
        stop = n if k == len(SPLIT_SHARES) - 1 else start + round(share * n)
        splits[order[start:stop]] = name
        start = stop
    return [str(s) for s in splits]


def synthetic_origin(root: Path) -> dict | None:
    """The generator settings of a dataset `moviescope synth` made ({"seed": ..., "n": ...}), else None."""
    try:
        return json.loads((Path(root) / MARKER).read_text())["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _prepare(out: Path, settings: dict) -> None:
    """`out` must be new, empty, or an earlier synthetic dataset (whose files are replaced)."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise FileExistsError(f"{out} is not empty and was not made by `moviescope synth`; "
                                  "choose a new or empty directory")
        (out / MOVIES_FILE).unlink(missing_ok=True)  # first: a half-overwritten dataset never looks whole
        (out / PLANTED_FILE).unlink(missing_ok=True)
        for part in ("trailers", "posters"):
            shutil.rmtree(out / part, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(json.dumps({"made_by": "moviescope synth, which may overwrite this directory",
                                          "settings": settings}) + "\n")


# ---- files: the MP4 encode and other writes ----------------------------------------------
@contextmanager
def temporary_path(directory: Path, suffix: str = ".tmp", prefix: str = ".synth-"):
    """Yield a fresh file name in `directory`; the file is removed afterwards, whatever happens."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with atomic_path(path, FILE_MODE) as tmp:
        tmp.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(media.AUDIO_RATE)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


def encode_trailer(frames: Iterator[np.ndarray], wav: Path, out: Path, duration: float,
                   size: tuple[int, int]) -> None:
    """Pipe rgb24 frames into ffmpeg: H.264 (yuv420p, a keyframe every second and none extra at cuts, so the
    keyframes say nothing of the cut rate) + AAC, MP4 with faststart."""
    width, height = size
    timeout = 120 + duration * media.FPS * width * height * 2e-6
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(media.FPS), "-i", "pipe:0",
           "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0",
           "-c:v", "libx264", "-preset", "veryfast", "-g", str(media.FPS), "-sc_threshold", "0",
           "-pix_fmt", "yuv420p", "-threads", "1",
           "-c:a", "aac", "-b:a", "96k", "-t", f"{duration:.6f}", "-movflags", "+faststart", "-f", "mp4", str(out)]
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            for frame in frames:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"ffmpeg took longer than {timeout:.0f} s writing {out.name}")
                proc.stdin.write(frame.tobytes())
            proc.stdin.close()
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except BrokenPipeError:  # ffmpeg stopped reading: it failed, its stderr says why
            code = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if code != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip()[-800:]
            raise RuntimeError(f"ffmpeg failed (exit {code}) writing {out.name}: {tail}")


# ---- the label copula ----------------------------------------------------------------------
@lru_cache(maxsize=1)
def _cholesky() -> np.ndarray:
    corr = np.eye(len(MOVIESCOPE))
    for (a, b), r in PAIRS.items():
        corr[MOVIESCOPE.index(a), MOVIESCOPE.index(b)] = corr[MOVIESCOPE.index(b), MOVIESCOPE.index(a)] = r
    values, vectors = np.linalg.eigh(corr)  # nearest positive-definite correlation matrix
    fixed = vectors @ np.diag(np.clip(values, 1e-3, None)) @ vectors.T
    d = np.sqrt(np.diag(fixed))
    return np.linalg.cholesky(fixed / np.outer(d, d))


@lru_cache(maxsize=1)
def _thresholds() -> np.ndarray:
    """Per-genre latent thresholds whose rates, after the no-genre fix, match RATES (fixed-seed fit)."""
    normal = NormalDist()
    target = np.array([normal.inv_cdf(1 - r) for r in RATES])
    latent = np.random.default_rng(20190808).standard_normal((200_000, len(MOVIESCOPE))) @ _cholesky().T
    thresholds = target.copy()
    for _ in range(8):
        rates = np.clip(_threshold(latent, thresholds).mean(axis=0), 1e-4, 1 - 1e-4)
        thresholds += target - np.array([normal.inv_cdf(1 - r) for r in rates])
    return thresholds


def _threshold(latent: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    labels = (latent > thresholds).astype(np.float32)
    empty = labels.sum(axis=1) == 0
    labels[empty, np.argmax(latent[empty] - thresholds, axis=1)] = 1.0
    return labels
