"""The Table-3 report of a batch prediction: the serving models' scores read back from its lines.

The rows are those the batch computed: each serving model alone, the paper's mean fusions and
the learned fusion (the service's answer). Each row's thresholds are the ones training tuned
on the validation split (the artifact's own report), so F1 is measured, never tuned, here.
"""

import json
import logging
from pathlib import Path

import numpy as np

from models.artifacts import load_artifacts
from models.genres import GenreSet
from training.ceiling import load_planted
from training.dataset import Movie
from training.evaluate import build_report
from training.report import write_report

log = logging.getLogger(__name__)


def batch_report(artifacts_dir: Path, data: Path, split: str, movies: list[Movie], lines: list[dict],
                 out: Path) -> dict:
    """Write the report of `movies` (labelled, scored) from their prediction `lines` into `out`."""
    artifacts = load_artifacts(artifacts_dir)
    genres = artifacts.genres
    scores = {name: _modality_scores(lines, modality, genres) for modality, name in artifacts.serving.items()}
    modalities_of = {name: spec["modality"] for name, spec in artifacts.manifest["models"].items()}
    report, predictions = build_report(
        split, movies, scores, None, None, artifacts.fusion, artifacts.serving, artifacts.thresholds,
        genres.as_dict(artifacts.fusion.fallback), modalities_of, planted=load_planted(data),
        row_thresholds=_trained_thresholds(artifacts_dir, genres))
    unscored = sorted({g for m in movies for g in m.genres} - set(genres))
    if unscored:
        report["unscored_label_genres"] = unscored
        log.warning("labels the model does not score, left out of the report: %s", ", ".join(unscored))
    write_report(Path(out), report, predictions)
    return report


def _modality_scores(lines: list[dict], modality: str, genres: GenreSet) -> np.ndarray:
    """(n, n_genres), NaN rows where the movie's answer lacks the modality."""
    scores = np.full((len(lines), len(genres)), np.nan, dtype=np.float32)
    for i, line in enumerate(lines):
        if modality in line["modalities"]:
            scores[i] = [line["modalities"][modality][g] for g in genres]
    return scores


def _trained_thresholds(artifacts_dir: Path, genres: GenreSet) -> dict[str, np.ndarray]:
    path = Path(artifacts_dir) / "report" / "report.json"
    rows = json.loads(path.read_text())["rows"] if path.is_file() else []
    return {row["name"]: np.array([row["thresholds"][g] for g in genres]) for row in rows if row.get("thresholds")}
