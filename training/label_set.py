"""Which genres a training run learns: the dataset's label set, less the genres it cannot learn.

A genre with fewer than `min_positives` training movies is left out (an artifact that claims to
score it would only echo its prior), and so is a genre that only the validation or test split
names. Nothing is left out silently: training logs each one with its count and the report lists
them.
"""

import logging
from collections import Counter

from models.genres import GenreSet
from training.dataset import Dataset, DatasetError

log = logging.getLogger(__name__)


def choose_genres(dataset: Dataset, min_positives: int) -> tuple[GenreSet, dict[str, int]]:
    """(the genres to learn, in the dataset's order; {genre left out: its training positives})."""
    candidates = dataset.genres
    counts = Counter(g for m in dataset.split("train") for g in m.genres)
    left_out = {g: counts[g] for g in candidates if counts[g] < min_positives}
    left_out.update({g: 0 for g in sorted(dataset.genres_named() - set(candidates))})
    kept = [g for g in candidates if g not in left_out]
    if not kept:
        raise DatasetError(dataset.root / "movies.jsonl",
                           [f"no genre has at least {min_positives} training movies (min_genre_positives)"])
    if left_out:
        log.warning("genres left out (fewer than %d training movies): %s", min_positives,
                    ", ".join(f"{g} ({n})" for g, n in left_out.items()))
    return candidates.subset(kept), left_out
