"""Explanations: how faithful they are on the synthetic benchmark, and what explaining costs next to predicting.

    .venv/bin/python benchmarks/explain.py [--workdir runs/explain] [--data DIR] [--artifacts DIR] [--repeats 5]

--data and --artifacts (default WORKDIR/data and WORKDIR/artifacts) hold the default synthetic
benchmark (`moviescope synth --n 300 --seed 0`) and a model trained on it (default CPU profile);
both are made when missing, and only read otherwise. The cost is
measured on the reference bundle of benchmarks/run.py (120 s 1280x720 trailer, poster, plot,
metadata; made in WORKDIR/reference), in process on the CPU: `Predictor.predict` and
`service.explain.explain` alternately, after a warm-up of each. Writes benchmarks/results/explain.json
and rewrites BENCHMARKS.md. Nothing here is a test.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(ROOT))

import numpy as np
import torch

from benchmarks.machine import machine
from benchmarks.report import write_markdown
from benchmarks.run import _cli
from service.explain import explain
from service.predictor import Predictor
from training import faithfulness
from training.ceiling import load_planted
from training.dataset import load_dataset

RESULTS = ROOT / "benchmarks" / "results"
FLOORS = {"modality_shares": 0.6, "poster_deletion": 0.7, "plot_deletion": 0.8, "cost_ratio": 3.0}


def main() -> None:
    args = _args()
    work = Path(args.workdir)
    data, artifacts = Path(args.data or work / "data"), Path(args.artifacts or work / "artifacts")
    started = time.perf_counter()
    _make_missing(work, data, artifacts)
    predictor = Predictor.from_dir(artifacts, device="cpu")
    results = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "floors": FLOORS,
               "serving_models": predictor.artifacts.serving,
               "faithfulness": faithfulness_figures(data, predictor),
               "cost": cost(predictor, load_dataset(work / "reference").movies[0].bundle, args.repeats)}
    results["wall_s"] = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "explain.json").write_text(json.dumps(results, indent=2))
    latest = RESULTS / "latest.json"
    if latest.is_file():
        write_markdown(json.loads(latest.read_text()), ROOT / "BENCHMARKS.md")
    print(json.dumps({k: results[k] for k in ("faithfulness", "cost")}, indent=2))


def faithfulness_figures(data: Path, predictor: Predictor) -> dict:
    """The three measures of training/faithfulness.py over the test split."""
    planted = load_planted(data)
    encoders = predictor.artifacts.encoders
    rng = np.random.default_rng(0)
    shares = {"genres": [], "planted": []}
    posters, plots = [], []
    for movie in load_dataset(data).split("test"):
        bundle, plan = movie.bundle, planted[movie.bundle.id]
        own = faithfulness.single_modality_genres(plan, movie.genres)
        anywhere = faithfulness.single_modality_genres(plan, list(predictor.artifacts.genres))  # leaked genres too
        if anywhere:
            fusion = explain(predictor, bundle, list(anywhere))["explanation"]["fusion"]
            shares["genres"] += [(m, faithfulness.top_share(fusion[g]), len(fusion[g]["shares"])) for g, m in own.items()]
            shares["planted"] += [(m, faithfulness.top_share(fusion[g]), len(fusion[g]["shares"]))
                                  for g, m in anywhere.items()]
        if bundle.poster and "poster" in encoders:
            posters.append(faithfulness.poster_deletion(encoders["poster"], encoders["poster"].load_input(bundle), rng))
        if bundle.plot and "text" in encoders:
            plots.append(faithfulness.plot_deletion(encoders["text"], encoders["text"].load_input(bundle), rng))
    plots = [p for p in plots if p is not None]
    return {
        "modality_shares": {k: _share_summary(v) for k, v in shares.items()},
        "poster_deletion": {
            "posters": len(posters),
            "rate_vs_random_blobs": faithfulness.rate([p["drop_top"] > p["drop_random_blobs"] for p in posters]),
            "rate_vs_random_pixels": faithfulness.rate([p["drop_top"] > p["drop_random_pixels"] for p in posters]),
            **{f"median_{k}": statistics.median(p[k] for p in posters)
               for k in ("drop_top", "drop_random_blobs", "drop_random_pixels")}},
        "plot_deletion": {
            "plots": len(plots), "rate": faithfulness.rate([p["drop_top"] > p["drop_random"] for p in plots]),
            **{f"median_{k}": statistics.median(p[k] for p in plots) for k in ("drop_top", "drop_random")}},
    }


def _share_summary(cases: list[tuple[str, str, int]]) -> dict:
    """Hit rate of (planted modality, modality with the largest share, modalities present) cases, per modality."""
    by_modality = {m: faithfulness.rate([top == m for planted, top, _ in cases if planted == m])
                   for m in sorted({c[0] for c in cases})}
    return {"cases": len(cases), "rate": faithfulness.rate([planted == top for planted, top, _ in cases]),
            "chance": float(np.mean([1 / n for *_, n in cases])) if cases else None,
            "by_modality": by_modality, "cases_by_modality": {m: sum(c[0] == m for c in cases) for m in by_modality}}


def cost(predictor: Predictor, bundle, repeats: int) -> dict:
    """Wall time of predicting and of explaining the same bundle, alternately, after a warm-up of each."""
    predictor.predict(bundle)
    answer = explain(predictor, bundle)
    times: dict[str, list[float]] = {"predict": [], "explain": []}
    stages: list[dict] = []
    for _ in range(repeats):
        for name, run in (("predict", predictor.predict), ("explain", lambda b: explain(predictor, b))):
            start = time.perf_counter()
            result = run(bundle)
            times[name].append((time.perf_counter() - start) * 1000)
            if name == "explain":
                stages.append(result["timings_ms"])
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {"repeats": repeats, "torch_threads": torch.get_num_threads(), "ms": times,
            "median_ms": medians, "ratio": medians["explain"] / medians["predict"],
            "explain_stages_ms_median": {k: statistics.median(s[k] for s in stages) for k in stages[0]},
            "response_kb": len(json.dumps(answer)) / 1024,
            "heatmaps": {p: len(answer["explanation"][p]["heatmaps"]) for p in ("video", "poster")}}


def _make_missing(work: Path, data: Path, artifacts: Path) -> None:
    if not (data / "movies.jsonl").is_file():
        _cli("synth", "--out", data, "--n", 300, "--seed", 0)
    if not (artifacts / "manifest.json").is_file():
        _cli("train", "--data", data, "--out", artifacts, "--cache", work / "cache", "--device", "cpu")
    if not (work / "reference" / "movies.jsonl").is_file():
        _cli("synth", "--out", work / "reference", "--n", 1, "--duration", 120, "--size", "1280x720", "--seed", 7)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="runs/explain", help="where missing inputs and the reference bundle go")
    parser.add_argument("--data", help="the synthetic benchmark (default: WORKDIR/data)")
    parser.add_argument("--artifacts", help="a model trained on it (default: WORKDIR/artifacts)")
    parser.add_argument("--repeats", type=int, default=5, help="timed predictions and explanations each")
    return parser.parse_args()


if __name__ == "__main__":
    main()
