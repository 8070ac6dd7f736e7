"""The served fusion re-fitted without one modality, on the same movies and models: what a modality adds to
the fusion on one benchmark (the quality benchmark's "all (learned, without motion)" row)."""

from pathlib import Path

import numpy as np

from models.artifacts import Artifacts, load_artifacts
from models.fusion import LearnedFusion
from training.dataset import Movie, labels, load_dataset
from training.evaluate import score_artifacts, stack
from training.features import FeatureCache
from training.metrics import evaluate_scores


def fusion_without(work: Path, modality: str) -> dict | None:
    """mAP / uAP / sAP / per-genre AP on the test split of the learned fusion fitted on the validation split
    over every served modality but `modality` (None when the artifact does not serve it)."""
    artifacts = load_artifacts(work / "artifacts")
    if modality not in artifacts.fusion.modalities:
        return None
    dataset, cache = load_dataset(work / "data"), FeatureCache(work / "cache")
    kept = [m for m in artifacts.fusion.modalities if m != modality]
    fusion = LearnedFusion(kept, artifacts.fusion.fallback, genres=artifacts.genres)
    fusion.fit(*stacked_scores(artifacts, dataset.split("val"), cache, kept))
    stacked, y_test = stacked_scores(artifacts, dataset.split("test"), cache, kept)
    metrics = evaluate_scores(y_test, fusion.predict(stacked), artifacts.genres)
    return {k: metrics[k] for k in ("map", "micro_ap", "samples_ap", "per_genre_ap")}


def stacked_scores(artifacts: Artifacts, movies: list[Movie], cache: FeatureCache,
                   modalities: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The served models' scores of `movies` from cached features, stacked as the fusion reads them
    ((n, len(modalities), n_genres)), and the movies' labels."""
    scores = score_artifacts(artifacts, movies, cache)
    return stack(scores, artifacts.serving, modalities), labels(movies, artifacts.genres)


def row_name(modality: str) -> str:
    return f"all (learned, without {modality})"
