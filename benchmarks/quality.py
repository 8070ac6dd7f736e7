"""Quality benchmark: the synthetic benchmark at catalogue-ish size, over several seeds, every model
read against the ceiling its planted evidence allows. Nothing here is a test.

    .venv/bin/python benchmarks/quality.py [--n 1000] [--seeds 0 1] [--duration 8] [--size 160x120] [--paper-rows]

Per seed: `moviescope synth` (shorter, smaller trailers than the 300-movie demo set, same
generator), then `moviescope train` with the default CPU profile. Writes
benchmarks/results/quality.json and rewrites BENCHMARKS.md (the quality section comes from
that file, the rest from benchmarks/results/latest.json).
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

from benchmarks.cooccurrence import frames_cooccurrence_ap
from benchmarks.fusion_without import fusion_without, row_name
from benchmarks.machine import machine
from benchmarks.report import write_markdown
from benchmarks.run import _cli
from training.config import default_models, every_model_at_cpu_size
from training.synth_media import MOTIONS

RESULTS = ROOT / "benchmarks" / "results"
MEASURES = ("map", "micro_ap", "samples_ap", "motion_genres_ap")
COOCCURRENCE_ROW = "frames' co-occurrence bound"  # benchmarks/cooccurrence.py: motion genres only


def main() -> None:
    args = _args()
    if args.resummarise:
        results = resummarise(Path(args.workdir))
    else:
        started, started_at = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M:%S")
        runs = [one_seed(Path(args.workdir) / f"seed{seed}", seed, args) for seed in args.seeds]
        results = {"machine": machine(), "started": started_at, "n": args.n,
                   "duration_s": args.duration, "size": args.size, "seeds": args.seeds, "runs": runs,
                   "rows": summarise(runs), "wall_s": time.perf_counter() - started}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(results, indent=2))
    latest = RESULTS / "latest.json"
    if latest.is_file():
        write_markdown(json.loads(latest.read_text()), ROOT / "BENCHMARKS.md")
    print(f"quality benchmark done in {results['wall_s'] / 60:.1f} min; wrote {RESULTS / 'quality.json'}")


def one_seed(work: Path, seed: int, args: argparse.Namespace) -> dict:
    data, artifacts = work / "data", work / "artifacts"
    start = time.perf_counter()
    _cli("synth", "--out", data, "--n", args.n, "--seed", seed, "--duration", args.duration, "--size", args.size)
    synth_s = time.perf_counter() - start
    start = time.perf_counter()
    _cli("train", "--data", data, "--out", artifacts, "--cache", work / "cache", *_paper_rows_config(work, args))
    train_s = time.perf_counter() - start
    return seed_result(work, seed, synth_s, train_s)


def _paper_rows_config(work: Path, args: argparse.Namespace) -> list:
    """`--config FILE` adding the paper profile's own models at their cpu-profile size, when asked."""
    if not args.paper_rows:
        return []
    extra = {name: spec.model_dump() for name, spec in every_model_at_cpu_size().items()
             if name not in default_models("cpu")}
    config = work / "paper_rows.json"
    config.write_text(json.dumps({"models": extra}))
    return ["--config", config]


def seed_result(work: Path, seed: int, synth_s: float, train_s: float) -> dict:
    """One seed's rows read from its report, its stage timings, and the frames' co-occurrence bound."""
    report = json.loads((work / "artifacts" / "report" / "report.json").read_text())
    stages = json.loads((work / "artifacts" / "manifest.json").read_text())["timings_s"]
    rows = {r["name"]: _measures(r) for r in [*report["rows"], {**report["prior"], "name": "prior"}]}
    without = fusion_without(work, "motion")
    if without is not None:  # beside the fusion it is read against
        rows = _after(rows, "all (learned)", row_name("motion"), _measures(without))
    bound = frames_cooccurrence_ap(work / "data")
    if bound is not None:
        rows[COOCCURRENCE_ROW] = {"motion_genres_ap": bound}
    return {"seed": seed, "synth_s": synth_s, "train_s": train_s, "n_test": report["n_movies"],
            "serving": report["serving_models"], "stages_s": stages, "rows": rows}


def _after(rows: dict, name: str, new_name: str, new_row: dict) -> dict:
    """`rows` with `new_name` inserted right after `name` (at the end if `name` is missing)."""
    items = list(rows.items())
    at = next((i + 1 for i, (key, _) in enumerate(items) if key == name), len(items))
    return dict([*items[:at], (new_name, new_row), *items[at:]])


def resummarise(work: Path) -> dict:
    """quality.json again from the seeds' folders under `work` (after a change to what is summarised),
    keeping the run's settings and timings as recorded."""
    previous = json.loads((RESULTS / "quality.json").read_text())
    runs = [seed_result(work / f"seed{run['seed']}", run["seed"], run["synth_s"], run["train_s"])
            for run in previous["runs"]]
    return {**previous, "runs": runs, "rows": summarise(runs)}


def _measures(row: dict) -> dict:
    """mAP, uAP, sAP, and the mean AP over the genres the generator plants in motion only (MOTIONS)."""
    motion_aps = [row["per_genre_ap"][g] for g in MOTIONS if row["per_genre_ap"].get(g) is not None]
    return {**{k: row[k] for k in ("map", "micro_ap", "samples_ap")},
            "motion_genres_ap": statistics.fmean(motion_aps) if motion_aps else None}


def summarise(runs: list[dict]) -> dict[str, dict]:
    """Per row: mean and range of mAP / uAP / sAP over seeds, and of mAP as a share of its ceiling row."""
    summary = {}
    for name in runs[0]["rows"]:
        maps = [run["rows"][name].get("map") for run in runs]
        entry = {k: _spread([run["rows"][name][k] for run in runs]) for k in MEASURES
                 if all(run["rows"][name].get(k) is not None for run in runs)}
        ceiling = ceiling_row(name)
        if ceiling and all(maps) and all(run["rows"].get(ceiling, {}).get("map") for run in runs):
            entry["ceiling"] = ceiling
            entry["share_of_ceiling"] = _spread([m / run["rows"][ceiling]["map"] for m, run in zip(maps, runs)])
        summary[name] = entry
    return summary


def ceiling_row(name: str) -> str | None:
    """The ceiling row a model row is read against: its modality's, or all modalities' for a fusion."""
    if name.endswith("(ceiling)") or name in ("prior", COOCCURRENCE_ROW) or "+" in name:
        return None
    if name.startswith("all ("):
        return "all (ceiling)"
    return f"{name.split(' (')[0]} (ceiling)"


def _spread(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values)}


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="movies per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--duration", type=float, default=8.0, help="trailer seconds")
    parser.add_argument("--size", default="160x120", help="trailer WIDTHxHEIGHT")
    parser.add_argument("--workdir", default="runs/quality")
    parser.add_argument("--paper-rows", action="store_true",
                        help="also train the models only the paper profile trains (C3D, text LSTM / BiLSTM), at cpu size")
    parser.add_argument("--resummarise", action="store_true",
                        help="only re-read the seeds' folders under WORKDIR into quality.json (no synth, no training)")
    return parser.parse_args()


if __name__ == "__main__":
    main()
