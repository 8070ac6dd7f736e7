"""Typicality (models/typicality.py): inputs unlike the training data get an honest answer and a flag. Not a test.

    .venv/bin/python benchmarks/typicality.py --synthetic ARTIFACTS --data DIR [--cache DIR] \
        [--real-films ARTIFACTS --real-data DIR] [--baseline-report REPORT.json]

- the synthetic test split: the share of present modalities flagged, per modality;
- real clips (Big Buck Bunny, bikes, Megamind) and photos (scikit-image, scikit-learn) sent as trailers and
  posters to the synthetic-trained model: the share flagged, and whether any score is exactly 0 or 1;
- a real-film model (titles and catalogue facts): the share of its test films flagged, and far-out values;
- what typicality adds to a request (timings_ms["typicality"]), and each modality's judging cost;
- the methods compared (benchmarks/typicality_methods.py); with --baseline-report, each report row's mAP
  against that of a model trained without the feature clipping (models/torch_fit.py).

Writes benchmarks/results/typicality.json; BENCHMARKS.md renders it (benchmarks/typicality_report.py).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(ROOT))

from benchmarks import real_inputs
from benchmarks.machine import machine
from benchmarks.typicality_methods import compare
from models.bundle import Bundle
from service.predictor import Predictor
from training.dataset import load_dataset
from training.features import FeatureCache, extract_features

RESULTS = ROOT / "benchmarks" / "results" / "typicality.json"
FAR_OUT = {"runtime_min": 900, "year": 1870}
REAL_PLOT = "A detective follows a killer through a corrupt city."


def main() -> None:
    args = _args()
    started = time.perf_counter()
    predictor = Predictor.from_dir(args.synthetic, warm_up=True)
    dataset, cache = load_dataset(args.data), FeatureCache(args.cache)
    with tempfile.TemporaryDirectory(prefix="moviescope-photos-") as tmp:
        photos = real_inputs.write_photos(Path(tmp))
        results = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                   "synthetic": {"test": split_flags(predictor, dataset, "test", cache),
                                 "real": real_flags(predictor, real_inputs.clip_paths(), photos),
                                 "latency": latency(predictor, dataset)},
                   "methods": methods(predictor, dataset, cache, real_inputs.clip_paths(), photos)}
    if args.real_films:
        films = Predictor.from_dir(args.real_films, warm_up=False)
        results["real_films"] = {"test": split_flags(films, load_dataset(args.real_data), "test", None),
                                 "far_out": far_out(films, load_dataset(args.real_data))}
    if args.baseline_report:
        results["clipping"] = report_rows(Path(args.baseline_report), Path(args.synthetic) / "report" / "report.json")
    results["wall_s"] = time.perf_counter() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(json.dumps({k: v for k, v in results.items() if k != "methods"}, indent=1))


def split_flags(predictor: Predictor, dataset, split: str, cache: FeatureCache | None) -> dict:
    """Per serving modality: movies with it, how many are flagged, and the percentiles' median."""
    movies, out = dataset.split(split), {}
    for modality, encoder in predictor.artifacts.encoders.items():
        features = [f for f in extract_features(encoder, [m.bundle for m in movies], cache or FeatureCache(None))
                    if f is not None]
        judged = [j for j in (predictor.trust.judge(encoder, f) for f in features) if j is not None]
        out[modality] = {"present": len(features), "judged": len(judged),
                         "flagged": sum(j.out_of_distribution for j in judged),
                         "median_percentile": statistics.median(j.percentile for j in judged) if judged else None}
    present, flagged = sum(r["judged"] for r in out.values()), sum(r["flagged"] for r in out.values())
    return {"split": split, "movies": len(movies), "modalities": out, "present": present, "flagged": flagged,
            "flagged_share": flagged / present if present else None}


def real_flags(predictor: Predictor, clips: dict[str, Path], photos: dict[str, Path]) -> dict:
    """Each real clip as a trailer and each photo as a poster, alone; and the issue's bundle of both."""
    cases = [(f"{name} (trailer)", Bundle(id=name, trailer=path)) for name, path in clips.items()]
    cases += [(f"{name} (poster)", Bundle(id=name, poster=path)) for name, path in photos.items()]
    rows = [_case(name, predictor.predict(bundle)) for name, bundle in cases]
    both = Bundle(id="both", trailer=clips.get("bigbuckbunny"), poster=photos["astronaut"], plot=REAL_PLOT)
    answer = predictor.predict(both)
    media = [(r, m) for r in rows for m in r["modalities"] if m in ("video", "poster")]
    return {"cases": rows, "video_poster_cases": len(media),
            "video_poster_flagged": sum(r["modalities"][m]["out_of_distribution"] for r, m in media),
            "any_exact_0_or_1": sum(r["modalities"][m]["exact_0_or_1"] for r in rows for m in r["modalities"]),
            "score_min": min(r["modalities"][m]["min"] for r in rows for m in r["modalities"]),
            "score_max": max(r["modalities"][m]["max"] for r in rows for m in r["modalities"]),
            "bunny_astronaut_real_plot": {k: answer[k] for k in ("known_input", "input_notice", "used_modalities",
                                                                 "untrusted_modalities", "typicality")}
            | {"top_genres": answer["genres"][:3]}}


def _case(name: str, answer: dict) -> dict:
    modalities = {}
    for modality, scores in answer["modalities"].items():
        values = np.array(list(scores.values()))
        verdict = answer["typicality"].get(modality) or {}
        modalities[modality] = {"percentile": verdict.get("percentile"),
                                "out_of_distribution": bool(verdict.get("out_of_distribution")),
                                "min": float(values.min()), "max": float(values.max()),
                                "exact_0_or_1": int(((values == 0) | (values == 1)).sum())}
    return {"case": name, "modalities": modalities, "known_input": answer["known_input"]}


def latency(predictor: Predictor, dataset, n: int = 20) -> dict:
    """timings_ms["typicality"] of whole requests (test movies with every part), and each modality's judging."""
    movies = [m for m in dataset.split("test") if all(p in m.bundle.present() for p in ("trailer", "poster", "plot"))]
    requests = [predictor.predict(m.bundle)["timings_ms"] for m in movies[:n]]
    typicality = [t.get("typicality", 0.0) for t in requests]
    per_modality = {}
    for modality, encoder in predictor.artifacts.encoders.items():
        bundle = next(m.bundle for m in movies if encoder.has_input(m.bundle))
        features = encoder.features(bundle)
        times = []
        for _ in range(50):
            start = time.perf_counter()
            predictor.trust.judge(encoder, features)
            times.append((time.perf_counter() - start) * 1000)
        per_modality[modality] = statistics.median(times)
    return {"requests": len(requests), "typicality_ms_median": statistics.median(typicality),
            "typicality_ms_max": max(typicality), "total_ms_median": statistics.median(t["total"] for t in requests),
            "judge_ms_median": per_modality, "load_average": list(os.getloadavg())}


def methods(predictor: Predictor, dataset, cache: FeatureCache, clips: dict, photos: dict) -> dict:
    """The methods compared on video, poster and audio vectors (cached features; real inputs embedded here)."""
    out = {}
    for modality in ("video", "poster", "audio"):
        encoder = predictor.artifacts.encoders.get(modality)
        if encoder is None:
            continue
        vectors = {s: _vectors(encoder, extract_features(encoder, [m.bundle for m in dataset.split(s)], cache))
                   for s in ("train", "val", "test")}
        real = [Bundle(id=n, poster=p) for n, p in photos.items()] if modality == "poster" else \
            [Bundle(id=n, trailer=p) for n, p in clips.items()]
        vectors["real"] = _vectors(encoder, [encoder.features(b) for b in real])
        out[modality] = {"real_inputs": len(vectors["real"]), "dimensions": vectors["train"].shape[1],
                         "results": compare(vectors)}
    return out


def far_out(predictor: Predictor, dataset) -> list[dict]:
    """A typical test film's metadata with one field set far outside the training range."""
    film = next(m.bundle for m in dataset.split("test") if m.bundle.metadata and "runtime_min" in m.bundle.metadata)
    rows = []
    for field, value in FAR_OUT.items():
        answer = predictor.predict(Bundle(id="far", metadata={**film.metadata, field: value}))
        rows.append({"field": field, "value": value, "typicality": answer["typicality"].get("metadata"),
                     "untrusted": answer["untrusted_modalities"]})
    return rows


def report_rows(before: Path, after: Path) -> dict:
    """Each report row's mAP before (no clipping) and after."""
    rows = {r["name"]: r["map"] for r in json.loads(before.read_text())["rows"]}
    changed = {r["name"]: {"before": rows[r["name"]], "after": r["map"]}
               for r in json.loads(after.read_text())["rows"] if rows.get(r["name"]) is not None and r["map"] is not None}
    return {"rows": changed, "worst_change": min(v["after"] - v["before"] for v in changed.values())}


def _vectors(encoder, features: list) -> np.ndarray:
    return np.stack([encoder.typicality_vector(f) for f in features if f is not None]).astype(np.float64)


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--synthetic", required=True, help="artifacts trained on the synthetic benchmark")
    p.add_argument("--data", required=True, help="that benchmark's dataset directory")
    p.add_argument("--cache", help="its feature cache (e.g. runs/demo/.moviescope-cache)")
    p.add_argument("--real-films", help="artifacts trained on `import movielens` (titles and catalogue facts)")
    p.add_argument("--real-data", help="that dataset directory")
    p.add_argument("--baseline-report", help="report.json of the same data trained without feature clipping")
    return p.parse_args()


if __name__ == "__main__":
    main()
