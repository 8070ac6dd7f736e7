"""Catalogue scale: trailers per minute for batch prediction and training's feature extraction, on the
local engine and on Ray (one node), Ray's start-up cost, and 1 against 2 actors. Writes
benchmarks/results/catalogue.json, then BENCHMARKS.md (benchmarks/report.py renders it).

    .venv/bin/python -m benchmarks.catalogue --data runs/bench/data --artifacts runs/bench/artifacts

Needs a trained artifact of the synthetic benchmark (e.g. `make bench`'s or `moviescope train`'s).
Batch prediction's rate is also given in steady state (over the second half of the run), since
start-up (loading the models, starting actors) weighs on a short run and not on a catalogue.
"""

import argparse
import json
import os
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Self

from benchmarks.machine import machine
from benchmarks.report import write_markdown
from service.cli.batch import predict_catalogue
from training.config import load_config
from training.dataset import load_dataset
from training.engines import connect, make_engine
from training.features import FeatureCache, extract_features

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
FEATURE_MODELS = ("video", "audio", "poster")  # the cached (decoded) modalities; text and metadata cost ~0


class LineClock:
    """Watches a JSON-lines file grow: when each line count was first seen."""

    def __init__(self, path: Path):
        self.path, self.seen = path, [(time.perf_counter(), 0)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._watch_once()

    def first(self) -> float:
        return next(t for t, n in self.seen if n > 0) - self.seen[0][0]

    def steady_per_minute(self) -> float:
        """Lines a minute over the second half of the run: start-up and the pipeline filling are behind."""
        total = self.seen[-1][1]
        t_half, n_half = next((t, n) for t, n in self.seen if n >= total / 2)
        t_end = self.seen[-1][0]
        return (total - n_half) / (t_end - t_half) * 60 if t_end > t_half else float("nan")

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            self._watch_once()

    def _watch_once(self) -> None:
        lines = self.path.read_bytes().count(b"\n") if self.path.exists() else 0
        if lines > self.seen[-1][1]:
            self.seen.append((time.perf_counter(), lines))


def predict_run(artifacts: Path, data: Path, split: str, engine, work: Path) -> dict:
    out = work / f"{engine.name}-{getattr(engine, 'workers', '')}-{split}.jsonl"
    out.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with LineClock(out) as clock:
        summary = predict_catalogue(artifacts, data, out, split, engine)
    wall = time.perf_counter() - start
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    stages = {k: statistics.median(line["timings_ms"][k] for line in lines if k in line.get("timings_ms", {}))
              for k in ("decode", "video", "audio", "poster", "text", "metadata", "fusion", "total")}
    return {"movies": summary.written, "failed": summary.failed, "wall_s": wall, "stages_ms_median": stages,
            "per_minute": summary.written / wall * 60, "first_line_s": clock.first(),
            "steady_per_minute": clock.steady_per_minute(),
            "load_before": load, "load_after": os.getloadavg()[0]}


def features_run(data: Path, split: str, engine, work: Path) -> dict:
    """Training's feature extraction of the cached modalities, from an empty cache."""
    bundles = [m.bundle for m in load_dataset(data).movies if split in ("all", m.split)]
    config = load_config(None)
    cache_dir = work / f"cache-{engine.name}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    load = os.getloadavg()[0]
    stages = {}
    for name in FEATURE_MODELS:
        start = time.perf_counter()
        extract_features(config.build(name), bundles, FeatureCache(cache_dir), engine=engine)
        stages[name] = time.perf_counter() - start
    total = sum(stages.values())
    return {"movies": len(bundles), "stages_s": stages, "wall_s": total, "per_minute": len(bundles) / total * 60,
            "load_before": load, "load_after": os.getloadavg()[0]}


def main() -> None:
    args = _args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    movies = [m for m in load_dataset(args.data).movies if args.split in ("all", m.split)]
    sizes = [m.bundle.trailer.stat().st_size for m in movies if m.bundle.trailer]
    results = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
               "data": {"movies": len(movies), "split": args.split, "mean_trailer_mb": statistics.mean(sizes) / 2**20,
                        "synth": json.loads((Path(args.data) / ".moviescope-synth").read_text())}, "runs": {}}
    runs = results["runs"]
    runs["predict local (2 threads)"] = predict_run(args.artifacts, args.data, args.split, make_engine("local"), work)
    runs["features local"] = features_run(args.data, args.split, make_engine("local"), work)
    start = time.perf_counter()
    connect()  # a local Ray instance with this machine's cores
    results["ray_init_s"] = time.perf_counter() - start
    for actors in (1, 2):
        name = f"predict ray ({actors} actor{'s' if actors > 1 else ''})"
        runs[name] = predict_run(args.artifacts, args.data, args.split, make_engine("ray", actors), work)
    runs["features ray"] = features_run(args.data, args.split, make_engine("ray"), work)
    out = RESULTS / "catalogue.json"
    out.write_text(json.dumps(results, indent=2))
    write_markdown(json.loads((RESULTS / "latest.json").read_text()), ROOT / "BENCHMARKS.md")
    print(json.dumps(runs, indent=2), f"\nwrote {out} and BENCHMARKS.md")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "runs" / "bench" / "data")
    parser.add_argument("--artifacts", type=Path, default=ROOT / "runs" / "bench" / "artifacts")
    parser.add_argument("--split", default="all", help="which movies (all, or a split)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "runs" / "catalogue")
    return parser.parse_args()


if __name__ == "__main__":
    main()
