"""What clipping the heads' standardised features costs on the quality benchmark: each report row's test mAP
with the bounds (as served) and without them, from the same trained weights. Nothing here is a test.

    .venv/bin/python -m benchmarks.bounds_effect [RUN ...]   # default: the seed folders of runs/quality

A run folder holds data/, artifacts/ and cache/, as `benchmarks/quality.py` leaves each seed and `moviescope
demo` leaves runs/demo. Each is evaluated twice on its test split (the features come from the cache: a
minute or two per run). The weights do not depend on the bounds
(models/torch_fit.py chooses the epoch without them), so only serving differs. Writes
benchmarks/results/bounds_effect.json.
"""

import argparse
import json
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import torch

from benchmarks.machine import machine
from models.torch_fit import Standardise
from training.evaluate import run_evaluation

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


@contextmanager
def _without_bounds():
    def unclipped(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.std

    with mock.patch.object(Standardise, "forward", unclipped):
        yield


def row_maps(run_dir: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        report = run_evaluation(run_dir / "data", run_dir / "artifacts", "test", Path(out), run_dir / "cache")
    return {r["name"]: r["map"] for r in report["rows"] if r["map"] is not None}


def n_test(runs: list[Path]) -> list[int]:
    return [sum(json.loads(line).get("split") == "test" for line in (d / "data" / "movies.jsonl").open())
            for d in runs]


def one_run(run_dir: Path) -> dict[str, dict[str, float]]:
    after = row_maps(run_dir)
    with _without_bounds():
        before = row_maps(run_dir)
    return {name: {"before": before[name], "after": after[name]} for name in after if name in before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="*", help="run folders (data/, artifacts/, cache/)")
    args = parser.parse_args()
    started = time.perf_counter()
    runs = args.runs or sorted((ROOT / "runs" / "quality").glob("seed*"))
    by_run = {str(i): one_run(d) for i, d in enumerate(runs) if (d / "artifacts").is_dir()}
    if not by_run:
        raise SystemExit("no run folder with artifacts: run benchmarks/quality.py first, or name run folders")
    names = [n for n in next(iter(by_run.values())) if all(n in rows for rows in by_run.values())]
    mean = {n: {k: statistics.mean(rows[n][k] for rows in by_run.values()) for k in ("before", "after")}
            for n in names}
    result = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "n_test": n_test(runs),
              "runs": by_run, "mean": mean,
              "worst_change": min(v["after"] - v["before"] for v in mean.values()),
              "wall_s": time.perf_counter() - started}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bounds_effect.json").write_text(json.dumps(result, indent=2))
    for name, v in mean.items():
        print(f"{name:40s} {v['before']:.3f} {v['after']:.3f} {v['after'] - v['before']:+.3f}")
    print(f"worst change {result['worst_change']:+.3f} over {len(by_run)} runs ({result['n_test']} test movies)")


if __name__ == "__main__":
    main()
