"""Score every model on a split and lay the results out like the paper's Table 3.

Rows: each trained model alone, the paper's mean-fusion combinations (video+audio, +poster,
+text, +metadata; each only when the model serves all of its modalities) and the learned fusion
of every served modality. Columns follow the model's label set (`fusion.genres`). A movie lacking every modality of a
row gets the training prior for that row (it is what a system without that input can do);
each row says how many movies actually had its input ("coverage"). A row whose modality is
absent from every movie has null metrics and `"missing": true`.
"""

import logging
import tempfile
from pathlib import Path

import numpy as np

from models.artifacts import Artifacts, load_artifacts
from models.base import Encoder, check_proba
from models.fusion import LearnedFusion, MeanFusion, tune_thresholds
from training.ceiling import ceiling_rows, load_planted
from training.dataset import Movie, labels, load_dataset
from training.features import FeatureCache, extract_features
from training.metrics import evaluate_scores, prior_scores
from training.report import write_report

log = logging.getLogger(__name__)
MEAN_COMBOS = (
    ("video+motion (two-stream)", ("video", "motion")),
    ("video+audio (mean)", ("video", "audio")),
    ("video+audio+poster (mean)", ("video", "audio", "poster")),
    ("video+audio+poster+text (mean)", ("video", "audio", "poster", "text")),
)  # then "all (mean)": every modality the fusion has
ROW_NAMES = {"video": "video (fastVideo)", "video_tempconv": "video (TempConv)", "video_lstm": "video (LSTM)",
             "video_bilstm": "video (BiLSTM)", "video3d": "video (C3D)",
             "text": "text (NB-LR)", "text_title": "text (MiniLM, title + plot)",
             "text_fasttext": "text (fastText)", "text_fasttext_glove": "text (fastText + GloVe)",
             "text_minilm": "text (MiniLM)", "text_conv1d": "text (Conv1D)",
             "text_lstm": "text (LSTM)", "text_bilstm": "text (BiLSTM)", "metadata_rf": "metadata (RandomForest)"}


def score_model(encoder: Encoder, movies: list[Movie], cache: FeatureCache) -> np.ndarray:
    """(n, n_genres) probabilities with NaN rows where the movie lacks the modality."""
    features = extract_features(encoder, [m.bundle for m in movies], cache)
    scores = np.full((len(movies), len(encoder.genres_)), np.nan, dtype=np.float32)
    present = [i for i, f in enumerate(features) if f is not None]
    if present:
        scores[present] = check_proba(encoder.predict_features([features[i] for i in present]), len(encoder.genres_))
    return scores


def stack(scores: dict[str, np.ndarray], serving: dict[str, str], modalities) -> np.ndarray:
    """(n, len(modalities), n_genres), NaN where absent (or where no model serves the modality)."""
    n, n_genres = next(iter(scores.values())).shape
    columns = [scores[serving[m]] if m in serving else np.full((n, n_genres), np.nan) for m in modalities]
    return np.stack(columns, axis=1)


def build_report(split: str, movies: list[Movie], scores: dict[str, np.ndarray], val_scores: dict[str, np.ndarray] | None,
                 y_val: np.ndarray | None, fusion: LearnedFusion, serving: dict[str, str], thresholds: np.ndarray,
                 train_share: dict[str, float], modalities_of: dict[str, str],
                 planted: dict[str, dict] | None = None,
                 row_thresholds: dict[str, np.ndarray] | None = None) -> tuple[dict, list[dict]]:
    """report.json's content and predictions.jsonl's rows for one split (with ceiling rows when `planted`).

    Each row's thresholds (for its F1) are tuned on the validation scores, or taken from
    `row_thresholds` (e.g. those the training report tuned) when given; the learned row uses `thresholds`."""
    genres = fusion.genres
    y = labels(movies, genres)
    prior = np.array([train_share[g] for g in genres])
    half = np.full(len(genres), 0.5)
    candidates = _row_scores(scores, serving, fusion, prior, modalities_of)
    if row_thresholds is None:
        val_candidates = _row_scores(val_scores, serving, fusion, prior, modalities_of)
        row_thresholds = {name: tune_thresholds(val_candidates[name][1], y_val) for name in candidates}
    rows = []
    for name, (mods, fused, coverage) in candidates.items():
        chosen = thresholds if name == "all (learned)" else row_thresholds.get(name, half)
        rows.append(_row(name, mods, fused, coverage, y, chosen, genres))
    for name, mods, oracle, coverage in ceiling_rows(movies, planted, prior, genres) if planted else []:
        rows.append(_row(name, mods, oracle, coverage, y, half, genres))  # planted at least once
    prior_row = _row("prior", [], prior_scores(train_share, len(movies)), len(movies), y, half, genres)
    report = {
        "genres": list(genres), "split": split, "n_movies": len(movies), "rows": rows,
        "prior": prior_row, "train_share": train_share, "serving_models": serving,
    }
    fused = candidates["all (learned)"][1]
    return report, _predictions(movies, fused, scores, serving, genres)


def summary(report: dict) -> dict[str, dict]:
    return {r["name"]: {k: r[k] for k in ("map", "micro_ap", "samples_ap")} for r in report["rows"]}


def row_name(model_name: str) -> str:
    """The report row of a trained model, e.g. "video" -> "video (fastVideo)"."""
    return ROW_NAMES.get(model_name, model_name)


def score_artifacts(artifacts: Artifacts, movies: list[Movie], cache: FeatureCache) -> dict[str, np.ndarray]:
    return {name: score_model(enc, movies, cache) for name, enc in artifacts.models.items()}


def _row_scores(scores, serving, fusion, prior, modalities_of):
    rows = {}
    for name in scores:
        single = scores[name][:, None, :]
        rows[row_name(name)] = ([modalities_of[name]], *_fused(MeanFusion([name], prior), single))
    for combo, mods in MEAN_COMBOS:
        if all(m in serving for m in mods):
            rows[combo] = (list(mods), *_fused(MeanFusion(list(mods), prior), stack(scores, serving, mods)))
    stacked = stack(scores, serving, fusion.modalities)
    rows["all (mean)"] = (list(fusion.modalities), *_fused(MeanFusion(list(fusion.modalities), prior), stacked))
    rows["all (learned)"] = (list(fusion.modalities), *_fused(fusion, stacked))
    return rows


def _fused(fusion, stacked: np.ndarray) -> tuple[np.ndarray, int]:
    coverage = int((~np.isnan(stacked).any(axis=2)).any(axis=1).sum())
    return fusion.predict(stacked), coverage


def _row(name, modalities, scores, coverage, y, thresholds, genres) -> dict:
    row = {"name": name, "modalities": list(modalities), "coverage": coverage, "missing": coverage == 0}
    if coverage == 0:
        log.warning("row %r: no movie has its input; metrics left null", name)
        return {**row, "per_genre_ap": {g: None for g in genres}, "map": None, "micro_ap": None,
                "samples_ap": None, "micro_f1": None, "macro_f1": None, "thresholds": None}
    metrics = evaluate_scores(y, scores, genres, y_pred=(scores >= thresholds).astype(int))
    return {**row, **metrics, "thresholds": genres.as_dict(thresholds)}


def _predictions(movies, fused, scores, serving, genres) -> list[dict]:
    lines = []
    for i, movie in enumerate(movies):
        per_model = {"fused": genres.as_dict(fused[i])}
        for modality, name in serving.items():
            if not np.isnan(scores[name][i]).any():
                per_model[modality] = genres.as_dict(scores[name][i])
        for name, s in scores.items():  # models not serving a modality (e.g. the other video pooling)
            if name not in serving.values() and not np.isnan(s[i]).any():
                per_model[name] = genres.as_dict(s[i])
        lines.append({"id": movie.bundle.id, "genres": [g for g in movie.genres if g in genres], "scores": per_model})
    return lines


def run_evaluation(data, artifacts_dir, split: str, out, cache_dir=None, device: str = "cpu") -> dict:
    """`moviescope evaluate`: score a split of a dataset with trained artifacts and write the report."""
    dataset = load_dataset(data)
    movies = dataset.split(split)
    if not movies:
        raise ValueError(f"{Path(data) / 'movies.jsonl'}: split {split!r} has no movie")
    artifacts = load_artifacts(artifacts_dir, device=device, all_models=True)
    val = dataset.split("val") if split != "val" else movies
    modalities_of = {n: spec["modality"] for n, spec in artifacts.manifest["models"].items()}
    train_share = artifacts.genres.as_dict(artifacts.fusion.fallback)
    # without a cache directory, a temporary one still lets the two video models share one decode per movie
    with tempfile.TemporaryDirectory(prefix="moviescope-features-") as scratch:
        cache = FeatureCache(cache_dir or scratch)
        scores, val_scores = score_artifacts(artifacts, movies, cache), score_artifacts(artifacts, val, cache)
    report, predictions = build_report(
        split, movies, scores, val_scores,
        labels(val, artifacts.genres), artifacts.fusion, artifacts.serving, artifacts.thresholds, train_share, modalities_of,
        planted=load_planted(data),
    )
    report["features"] = {row_name(n): spec["features"] for n, spec in artifacts.manifest["models"].items()
                          if "features" in spec}
    write_report(Path(out), report, predictions)
    return report
