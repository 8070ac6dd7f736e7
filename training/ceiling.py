"""Ceiling rows of the report: what an oracle that knows the planted evidence scores.

The synthetic benchmark writes planted.jsonl beside movies.jsonl: per movie and modality, the
genres whose evidence went into that modality (null where the movie lacks the part). For a
row over some modalities, the oracle scores a genre by the number of those modalities in
which it was planted; a movie lacking all of them gets the training prior, as model rows do.
A model row read against its ceiling row says how much of the planted evidence it recovers.
Only the report reads this file: training and prediction never do.
"""

import json
from pathlib import Path

import numpy as np

from models.encoders import modalities
from models.genres import GenreSet
from training.dataset import Movie

PLANTED_FILE = "planted.jsonl"


def load_planted(root: Path) -> dict[str, dict] | None:
    """id -> {modality: [genres] or None}, or None when the dataset has no planted.jsonl."""
    path = Path(root) / PLANTED_FILE
    if not path.is_file():
        return None
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {str(row["id"]): row["planted"] for row in rows}


def ceiling_rows(movies: list[Movie], planted: dict[str, dict], prior: np.ndarray, genres: GenreSet):
    """[(row name, modalities, (n, n_genres) oracle scores, coverage)]: one row per modality, then all of them.
    Planted genres outside `genres` (left out by training) are not scored."""
    known = [planted.get(m.bundle.id) for m in movies]
    if any(p is None for p in known):
        return []  # planted.jsonl does not describe these movies (an edited dataset): no ceiling
    planted_in = [m for m in modalities() if any(m in plan for plan in known)]  # what the generator plants
    rows = [(f"{m} (ceiling)", [m]) for m in planted_in] + [("all (ceiling)", planted_in)]
    return [(name, mods, *_oracle(known, mods, prior, genres)) for name, mods in rows]


def _oracle(known: list[dict], modalities: list[str], prior: np.ndarray, genres: GenreSet) -> tuple[np.ndarray, int]:
    scores = np.zeros((len(known), len(genres)))
    covered = np.zeros(len(known), dtype=bool)
    for i, plan in enumerate(known):
        for modality in modalities:
            planted_genres = plan.get(modality)
            if planted_genres is None:
                continue
            covered[i] = True
            for genre in planted_genres:
                if genre in genres:
                    scores[i, genres.index(genre)] += 1
    scores[~covered] = prior
    return scores, int(covered.sum())
