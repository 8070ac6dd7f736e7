"""`moviescope synth`: a synthetic trailer-bundle dataset in the format every job reads.

Labels follow the Moviescope genre rates and co-occurrences (a Gaussian copula). Every
modality carries genre evidence, each only partly: per movie and modality, each true
genre is *expressed* with a modality-specific probability, and now and then a wrong
genre leaks in. So no single modality is near perfect and fusing them helps, as in the
paper's Table 3. Deterministic for a seed: each movie draws from its own generator.
"""

import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import norm
from tqdm import tqdm

from models.base import atomic_path
from models.genres import GENRES, N_GENRES
from training import synth_media as media
from training.synth_text import make_metadata, make_plot, make_title

RATES = np.array([22.1, 4.3, 6.2, 39.3, 18.6, 53.6, 10.8, 17.0, 10.5, 10.9, 22.1, 13.5, 25.8]) / 100
PAIRS = {  # latent correlations between genres (the rest are 0)
    ("Animation", "Family"): 0.75, ("Crime", "Thriller"): 0.5, ("Horror", "Thriller"): 0.45,
    ("Romance", "Drama"): 0.35, ("Action", "Sci-Fi"): 0.45, ("Fantasy", "Family"): 0.4,
    ("Action", "Thriller"): 0.3, ("Mystery", "Thriller"): 0.4, ("Biography", "Drama"): 0.45,
    ("Comedy", "Family"): 0.35, ("Animation", "Comedy"): 0.35, ("Comedy", "Romance"): 0.25,
    ("Comedy", "Horror"): -0.35, ("Comedy", "Thriller"): -0.35, ("Drama", "Animation"): -0.35,
    ("Comedy", "Drama"): -0.25, ("Crime", "Drama"): 0.15, ("Fantasy", "Animation"): 0.3,
}
EXPRESS = {"video": 0.6, "audio": 0.55, "poster": 0.5, "plot": 0.7, "metadata": 0.55}
LEAK = 0.3  # chance that a modality also shows one genre the movie does not have
ABSENT = 0.04  # chance each of poster / plot / metadata is missing (real catalogues are incomplete)
MARKER = ".moviescope-synth"


def sample_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 13) multi-hot labels with the Moviescope rates and plausible co-occurrence."""
    corr = np.eye(N_GENRES)
    for (a, b), r in PAIRS.items():
        i, j = GENRES.index(a), GENRES.index(b)
        corr[i, j] = corr[j, i] = r
    latent = rng.multivariate_normal(np.zeros(N_GENRES), _nearest_pd(corr), size=n)
    labels = (latent > norm.ppf(1 - RATES)).astype(np.float32)
    empty = labels.sum(axis=1) == 0
    labels[empty, np.argmax(latent[empty] - norm.ppf(1 - RATES), axis=1)] = 1.0
    return labels


def synthesize(out: Path, n: int = 300, seed: int = 0, duration: float = 30.0,
               size: tuple[int, int] = (320, 240), progress: bool = True) -> Path:
    """Write a dataset directory `out` and return the path of out/movies.jsonl."""
    out = Path(out)
    _prepare(out)
    labels = sample_labels(np.random.default_rng([seed, 1_000_001]), n)
    splits = _splits(np.random.default_rng([seed, 1_000_002]), n)
    jobs = [(out, seed, i, labels[i], splits[i], duration, size) for i in range(n)]
    workers = min(2, os.cpu_count() or 1, n)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = list(tqdm(pool.map(_make_movie, jobs, chunksize=1), total=n, desc="synth", unit="movie",
                         disable=not progress))
    with atomic_path(out / "movies.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out / "movies.jsonl"


def _make_movie(job) -> dict:
    out, seed, i, label, split, duration, size = job
    rng = np.random.default_rng([seed, i])
    genres = [g for g, on in zip(GENRES, label, strict=True) if on]
    shown = {m: _expressed(genres, p, rng) for m, p in EXPRESS.items()}
    movie_id = f"syn{seed:03d}{i:05d}"
    row = {"id": movie_id, "title": make_title(shown["plot"], rng), "genres": genres, "split": split,
           "trailer": f"trailers/{movie_id}.mp4"}
    _write_trailer(out / row["trailer"], shown, duration, size, rng)
    if rng.random() >= ABSENT:
        row["poster"] = f"posters/{movie_id}.jpg"
        with atomic_path(out / row["poster"]) as tmp:
            media.render_poster(media.mix(shown["poster"], rng), rng).save(tmp, format="JPEG", quality=88)
    if rng.random() >= ABSENT:
        row["plot"] = make_plot(shown["plot"], rng)
    if rng.random() >= ABSENT:
        row["metadata"] = make_metadata(shown["metadata"], rng)
    return row


def _write_trailer(path: Path, shown: dict, duration: float, size: tuple[int, int], rng) -> None:
    frames = media.render_frames(media.mix(shown["video"], rng), duration, size, rng)
    audio = media.render_audio(media.mix(shown["audio"], rng), duration, rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".synth-") as work:
        tmp = Path(work) / path.name
        media.encode_trailer(frames, audio, tmp, duration, Path(work))
        os.replace(tmp, path)


def _expressed(genres: list[str], p: float, rng: np.random.Generator) -> list[str]:
    shown = [g for g in genres if rng.random() < p]
    if rng.random() < LEAK:
        others = [g for g in GENRES if g not in genres]
        shown.append(others[int(rng.integers(len(others)))])
    return shown


def _splits(rng: np.random.Generator, n: int) -> list[str]:
    order = rng.permutation(n)
    n_train, n_val = int(round(0.7 * n)), int(round(0.1 * n))
    splits = np.empty(n, dtype=object)
    splits[order[:n_train]] = "train"
    splits[order[n_train:n_train + n_val]] = "val"
    splits[order[n_train + n_val:]] = "test"
    return list(splits)


def _prepare(out: Path) -> None:
    """`out` must be new, empty, or an earlier synthetic dataset (which is replaced)."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise ValueError(f"{out} exists and was not made by `moviescope synth`; choose an empty directory")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by moviescope synth\n")


def _nearest_pd(corr: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(corr)
    fixed = vectors @ np.diag(np.clip(values, 1e-3, None)) @ vectors.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)
