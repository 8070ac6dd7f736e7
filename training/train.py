"""`moviescope train`: features -> one encoder per model -> fusion -> thresholds -> report -> artifacts.

Resumable: features live in a content-keyed cache, and each fitted model is kept in a
staging directory beside the destination (keyed by its config and training data), so a
re-run after a crash redoes only what was not finished. The staging directory becomes
the artifact directory by a rename at the very end.
"""

import hashlib
import json
import logging
import random
import shutil
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from models.artifacts import FUSION, publish, write_manifest
from models.base import Encoder
from models.device import resolve_device
from models.encoders import modalities
from models.files import write_json_atomic
from models.fusion import LearnedFusion, tune_thresholds
from models.genres import GenreSet
from models.typicality import FORMAT as TYPICALITY_FORMAT
from models.typicality import fit_typicality
from training.ceiling import load_planted
from training.config import TrainConfig
from training.dataset import SPLITS, Dataset, DatasetError, labels, load_dataset
from training.engines import Engine
from training.evaluate import build_report, row_name, score_model, stack, summary
from training.features import FeatureCache, extract_features
from training.label_set import choose_genres
from training.metrics import mean_ap, positive_share
from training.report import write_report
from training.synth import synthetic_origin

log = logging.getLogger(__name__)
DONE = "fit.done"


@contextmanager
def stage(name: str, timings: dict[str, float]):
    start = time.perf_counter()
    log.info("stage %s ...", name)
    yield
    timings[name] = round(time.perf_counter() - start, 2)
    log.info("stage %s done in %.1f s", name, timings[name])


def train(data: Path, out: Path, config: TrainConfig, device: str = "auto", cache_dir: Path | None = None,
          engine: Engine | None = None) -> dict:
    """Train everything and publish the artifact directory `out`. Returns the manifest.

    `engine` runs the feature extraction (default: threads in this process; training/engines.py)."""
    device = resolve_device(device)
    _seed_everything(config.seed)
    dataset = load_dataset(data)
    _check_splits(dataset)
    for problem in dataset.missing_files:
        log.warning("%s", problem)
    genres, left_out = choose_genres(dataset, config.min_genre_positives)
    out = Path(out).resolve()
    staging = out.with_name(f".{out.name}.staging")
    cache = FeatureCache(cache_dir or out.with_name(".moviescope-cache"))
    timings: dict[str, float] = {}
    movies = {s: dataset.split(s) for s in SPLITS}
    scores, features, skipped = {}, {}, {}
    for name in config.models:
        with stage(f"model {name}", timings):
            fitted = _fit_or_resume(config, name, genres, movies, staging / "models" / name, cache, device, engine)
        if isinstance(fitted, str):
            skipped[name] = fitted
        else:
            scores[name], features[name] = fitted
    if not scores:
        raise DatasetError(dataset.root / "movies.jsonl", [f"model {n}: {why}" for n, why in skipped.items()])
    with stage("fusion", timings):
        fusion_data, report, predictions = _fuse_and_evaluate(config, genres, movies, scores, load_planted(data))
    report.update(features={row_name(name): features[name] for name in scores}, skipped_models=skipped,
                  left_out_genres=left_out)
    write_json_atomic(staging / FUSION, fusion_data)
    write_report(staging / "report", report, predictions)
    info = _manifest_info(config, dataset, device, timings, report, features, genres, left_out, staging)
    for name in scores:
        (staging / "models" / name / DONE).unlink(missing_ok=True)
    manifest = write_manifest(staging, info)
    publish(staging, out)
    log.info("artifacts written to %s (version %s)", out, manifest["model_version"])
    return manifest


def _fit_or_resume(config: TrainConfig, name: str, genres: GenreSet, movies: dict, model_dir: Path,
                   cache: FeatureCache, device: str, engine: Engine | None) -> tuple[dict[str, np.ndarray], dict] | str:
    """Each split's scores (NaN rows where the modality is absent) and what features the model read; or,
    for a model that no training movie has the input of, why it was not trained."""
    encoder = config.build(name).to(device).set_genres(genres)
    if not any(encoder.has_input(m.bundle) for m in movies["train"]):
        why = f"no training movie has its input ({' or '.join(encoder.reads())}); not trained"
        log.warning("model %s: %s", name, why)
        return why
    key = _fit_key(encoder, movies["train"] + movies["val"])
    done = model_dir / DONE
    if done.is_file() and done.read_text() == key:
        log.info("model %s: reusing the fit from an interrupted run", name)
        encoder = type(encoder).load(model_dir, device=device)
        return {s: score_model(encoder, movies[s], cache) for s in SPLITS}, encoder.feature_description()
    X = _split_features(encoder, movies, cache, name, engine)
    train_idx = [i for i, x in enumerate(X["train"]) if x is not None]
    val_idx = [i for i, x in enumerate(X["val"]) if x is not None]
    if not train_idx:  # every training input failed to decode
        why = f"model {name}: no training movie has a usable {encoder.modality} input"
        raise DatasetError(Path("movies.jsonl"), [why])
    X_train, X_val = [X["train"][i] for i in train_idx], [X["val"][i] for i in val_idx]
    encoder.fit_features(X_train, labels(movies["train"], genres)[train_idx], X_val or None,
                         labels(movies["val"], genres)[val_idx] if val_idx else None)
    encoder.typicality_ = fit_typicality(encoder, X_train, X_val, config.seed)
    _save_model(encoder, model_dir, key)
    return {s: score_model(encoder, movies[s], cache) for s in SPLITS}, encoder.feature_description()


def _split_features(encoder: Encoder, movies: dict, cache: FeatureCache, name: str,
                    engine: Engine | None) -> dict[str, list]:
    """Each split's features, extracted in one pass over all the splits (one engine start)."""
    bundles = [m.bundle for s in SPLITS for m in movies[s]]
    features = extract_features(encoder, bundles, cache, desc=name, engine=engine)
    ends = np.cumsum([len(movies[s]) for s in SPLITS])
    return {s: features[end - len(movies[s]):end] for s, end in zip(SPLITS, ends, strict=True)}


def _save_model(encoder: Encoder, model_dir: Path, key: str) -> None:
    tmp = model_dir.with_name(model_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    encoder.save(tmp)
    (tmp / DONE).write_text(key)
    shutil.rmtree(model_dir, ignore_errors=True)
    tmp.rename(model_dir)


def _fit_key(encoder: Encoder, movies) -> str:
    spec = {"params": encoder.get_params(), "features": encoder.feature_key(), "genres": list(encoder.genres_),
            "data": [(m.bundle.id, m.genres, m.split) for m in movies], "typicality": TYPICALITY_FORMAT}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _fuse_and_evaluate(config: TrainConfig, genres: GenreSet, movies: dict, scores: dict, planted: dict | None):
    y = {s: labels(movies[s], genres) for s in SPLITS}
    train_share = positive_share(y["train"], genres)
    modalities_of = {name: spec.modality for name, spec in config.models.items() if name in scores}
    serving = _choose_serving(scores, y["val"], modalities_of)
    fusion_modalities = [m for m in modalities() if m in serving]
    prior = np.array([train_share[g] for g in genres])
    val_scores = {n: s["val"] for n, s in scores.items()}
    val_stack = stack(val_scores, serving, fusion_modalities)
    fusion = LearnedFusion(fusion_modalities, fallback=prior, genres=genres).fit(val_stack, y["val"])
    thresholds = tune_thresholds(fusion.predict(val_stack), y["val"])
    report, predictions = build_report(
        "test", movies["test"], {n: s["test"] for n, s in scores.items()}, val_scores,
        y["val"], fusion, serving, thresholds, train_share, modalities_of, planted,
    )
    fusion_data = {"serving_models": serving, "learned": fusion.to_dict(), "thresholds": genres.as_dict(thresholds),
                   "threshold_objective": "per-genre F1 on the validation split",
                   "contributions": fusion.contributions()}
    return fusion_data, report, predictions


def _choose_serving(scores: dict, y_val: np.ndarray, modalities_of: dict[str, str]) -> dict[str, str]:
    """For each modality, the model with the best validation mAP (e.g. fastVideo, TempConv or CNN+LSTM)."""
    best: dict[str, tuple[float, str]] = {}
    for name, split_scores in scores.items():
        val = split_scores["val"]
        present = ~np.isnan(val).any(axis=1)
        metric = mean_ap(y_val[present], val[present]) if present.any() else None
        value = -1.0 if metric is None else metric
        modality = modalities_of[name]
        if modality not in best or value > best[modality][0]:
            best[modality] = (value, name)
    return {m: name for m, (_, name) in best.items()}


def _manifest_info(config: TrainConfig, dataset: Dataset, device: str, timings: dict, report: dict,
                   features: dict, genres: GenreSet, left_out: dict[str, int], staging: Path) -> dict:
    now = datetime.now(UTC)
    digest = hashlib.sha256(json.dumps(summary(report), sort_keys=True).encode()).hexdigest()[:8]
    metadata_model = report["serving_models"].get("metadata")
    schema = (json.loads((staging / "models" / metadata_model / "config.json").read_text())["state"].get("schema")
              if metadata_model else None)
    info = dataset.info
    return {
        "model_version": f"{now:%Y%m%d-%H%M%S}-{digest}",
        "created": now.isoformat(timespec="seconds"),
        "profile": config.profile, "seed": config.seed, "device": device,
        "genres": list(genres), "left_out_genres": left_out, "metadata_schema": schema,
        "models": {name: {"modality": spec.modality, "encoder": spec.encoder, "params": spec.params,
                          "features": features[name]} for name, spec in config.models.items() if name in features},
        "data": {"root_name": dataset.root.name, "n_movies": len(dataset.movies),
                 "splits": {s: len(dataset.split(s)) for s in SPLITS},
                 "synthetic": synthetic_origin(dataset.root) or bool(info.synthetic),
                 "name": info.name, "description": info.description,
                 "licenses": [license.model_dump() for license in info.licenses]},
        "timings_s": timings,
        "evaluation": {"split": report["split"], "n_movies": report["n_movies"], "rows": summary(report),
                       "prior": {k: report["prior"][k] for k in ("map", "micro_ap", "samples_ap")}},
    }


def _check_splits(dataset: Dataset) -> None:
    empty = [s for s in SPLITS if not dataset.split(s)]
    if empty:
        raise DatasetError(dataset.root / "movies.jsonl", [f"split {s!r} has no movie" for s in empty])


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
