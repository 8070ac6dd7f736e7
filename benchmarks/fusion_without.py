"""The served fusion re-fitted without one modality, on the same movies and models: what a modality adds to
the fusion on one benchmark (the quality benchmark's "all (learned, without motion)" row)."""

from pathlib import Path

from models.artifacts import load_artifacts
from models.fusion import LearnedFusion
from training.dataset import labels, load_dataset
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
    split_scores = {}
    for split in ("val", "test"):
        movies = dataset.split(split)
        scores = score_artifacts(artifacts, movies, cache)
        split_scores[split] = (stack(scores, artifacts.serving, kept), labels(movies, artifacts.genres))
    fusion = LearnedFusion(kept, artifacts.fusion.fallback, genres=artifacts.genres).fit(*split_scores["val"])
    stacked, y_test = split_scores["test"]
    metrics = evaluate_scores(y_test, fusion.predict(stacked), artifacts.genres)
    return {k: metrics[k] for k in ("map", "micro_ap", "samples_ap", "per_genre_ap")}


def row_name(modality: str) -> str:
    return f"all (learned, without {modality})"
