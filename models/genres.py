"""The 13 Moviescope genres, in the paper's canonical order, and multi-hot helpers."""

from collections.abc import Iterable

import numpy as np

GENRES: tuple[str, ...] = (
    "Action", "Animation", "Biography", "Comedy", "Crime", "Drama", "Family",
    "Fantasy", "Horror", "Mystery", "Romance", "Sci-Fi", "Thriller",
)
N_GENRES = len(GENRES)
GENRE_INDEX = {name: i for i, name in enumerate(GENRES)}


class UnknownGenreError(ValueError):
    pass


def multi_hot(names: Iterable[str]) -> np.ndarray:
    """A float32 vector of length 13 with 1.0 for each named genre."""
    row = np.zeros(N_GENRES, dtype=np.float32)
    for name in names:
        if name not in GENRE_INDEX:
            raise UnknownGenreError(f"unknown genre {name!r}; expected one of {', '.join(GENRES)}")
        row[GENRE_INDEX[name]] = 1.0
    return row


def multi_hot_matrix(rows: Iterable[Iterable[str]]) -> np.ndarray:
    """An (n, 13) float32 label matrix."""
    vectors = [multi_hot(names) for names in rows]
    return np.stack(vectors) if vectors else np.zeros((0, N_GENRES), dtype=np.float32)


def genre_names(row: np.ndarray, threshold: float = 0.5) -> list[str]:
    """The genres whose entry is at least `threshold`, in canonical order."""
    return [GENRES[i] for i in np.flatnonzero(np.asarray(row) >= threshold)]


def as_genre_dict(scores: np.ndarray) -> dict[str, float]:
    """{genre: score} for one row of scores, in canonical order."""
    return {g: float(s) for g, s in zip(GENRES, scores, strict=True)}
