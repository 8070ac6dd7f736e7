"""Benchmarks: training cost, prediction latency against its floor and against the authors' style,
throughput, memory. Writes benchmarks/results/latest.json and BENCHMARKS.md. Nothing here is a test.

    make bench    (or, after the README's setup: .venv/bin/python benchmarks/run.py [--n 300] [--requests 12])
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: `python benchmarks/run.py`
    sys.path.insert(0, str(ROOT))

import httpx

from benchmarks.machine import machine
from benchmarks.pipelines import authors_style_ms, floor_ms
from benchmarks.report import write_markdown
from models.artifacts import FUSION, MANIFEST, load_artifacts, write_manifest
from models.files import write_json_atomic
from training.dataset import load_dataset


def main() -> None:
    args = _args()
    work = Path(args.workdir)
    started = time.perf_counter()
    results = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    if args.reuse and (work / "artifacts" / "manifest.json").is_file():
        results["training"] = reused_training(work)
    else:
        results["training"] = training(work, args.n)
    bundle_dir = work / "reference"
    results["reference_synth_s"] = _timed_cli("synth", "--out", bundle_dir, "--n", "1", "--duration", "120",
                                              "--size", "1280x720", "--seed", "7")
    bundle = load_dataset(bundle_dir).movies[0].bundle
    artifacts_dir = work / "artifacts"
    artifacts = load_artifacts(artifacts_dir)
    results["floor_ms"] = floor_ms(artifacts, bundle)
    results["authors_style_ms"] = authors_style_ms(artifacts, bundle)
    results["service"] = service(artifacts_dir, bundle, args.requests)
    p50 = results["service"]["latency_ms"]["p50"]
    results["ratios"] = {"p50_over_floor": p50 / results["floor_ms"]["total"],
                         "authors_over_p50": results["authors_style_ms"]["total"] / p50}
    if "motion" in artifacts.serving:
        results["service_without_motion"] = service(without_modality(artifacts_dir, "motion", work), bundle,
                                                     args.requests, throughput=False)
        results["ratios"]["p50_over_p50_without_motion"] = (
            p50 / results["service_without_motion"]["latency_ms"]["p50"])
    results["bench_wall_s"] = time.perf_counter() - started
    out = ROOT / "benchmarks" / "results" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    write_markdown(results, ROOT / "BENCHMARKS.md")
    print(json.dumps(results["ratios"], indent=2), f"\nwrote {out} and BENCHMARKS.md")


def training(work: Path, n: int) -> dict:
    data, artifacts, cache = work / "data", work / "artifacts", work / "cache"
    result = {"n_movies": n, "synth_s": _timed_cli("synth", "--out", data, "--n", str(n), "--seed", "0")}
    # the same seed makes the same files: a previous run's features would be read instead of extracted
    shutil.rmtree(cache, ignore_errors=True)
    start = time.perf_counter()
    result["train_peak_rss_mb"] = _cli("train", "--data", data, "--out", artifacts, "--cache", cache, "--device", "auto")
    result["train_s"] = time.perf_counter() - start
    manifest = json.loads((artifacts / "manifest.json").read_text())
    result["stages_s"] = manifest["timings_s"]
    result["evaluation"] = manifest["evaluation"]
    result["trailers_per_minute"] = _extraction_rate(manifest, n)
    start = time.perf_counter()
    _cli("train", "--data", data, "--out", work / "artifacts-cached", "--cache", cache, "--device", "auto")
    result["retrain_from_cache_s"] = time.perf_counter() - start
    result["refit_fusion_s"] = refit_fusion(data, artifacts, cache)
    result["evaluate_s"] = _timed_cli("evaluate", "--data", data, "--artifacts", artifacts, "--split", "test",
                                      "--out", work / "report", "--cache", cache, "--device", "auto")
    return result


def reused_training(work: Path) -> dict:
    """--reuse: report the stage timings recorded in an existing artifact; time only the fusion re-fit."""
    manifest = json.loads((work / "artifacts" / "manifest.json").read_text())
    n = manifest["data"]["n_movies"]
    return {"n_movies": n, "reused": True, "stages_s": manifest["timings_s"], "evaluation": manifest["evaluation"],
            "trailers_per_minute": _extraction_rate(manifest, n),
            "refit_fusion_s": refit_fusion(work / "data", work / "artifacts", work / "cache")}


def refit_fusion(data: Path, artifacts_dir: Path, cache: Path) -> float:
    """Re-fit the learned fusion and thresholds from cached features alone (no decode, no CNN)."""
    from benchmarks.fusion_without import stacked_scores
    from models.fusion import LearnedFusion, tune_thresholds
    from training.features import FeatureCache

    start = time.perf_counter()
    artifacts = load_artifacts(artifacts_dir)
    val = load_dataset(data).split("val")
    stacked, y_val = stacked_scores(artifacts, val, FeatureCache(cache), artifacts.fusion.modalities)
    fusion = LearnedFusion(artifacts.fusion.modalities, artifacts.fusion.fallback, genres=artifacts.genres)
    tune_thresholds(fusion.fit(stacked, y_val).predict(stacked), y_val)
    return time.perf_counter() - start


def without_modality(artifacts: Path, modality: str, work: Path) -> Path:
    """A copy of the artifact that does not serve `modality`: the learned fusion's weighted mean over the
    rest (what it does for a movie lacking that input), the same models and thresholds otherwise."""
    copy = work / f"artifacts-without-{modality}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(artifacts, copy)
    fusion = json.loads((copy / FUSION).read_text())
    del fusion["serving_models"][modality]
    fusion["learned"]["modalities"].remove(modality)
    del fusion["learned"]["weights"][modality]
    write_json_atomic(copy / FUSION, fusion)
    manifest = json.loads((copy / MANIFEST).read_text())
    write_manifest(copy, {k: v for k, v in manifest.items() if k not in ("packages", "files")})
    return copy


def service(artifacts: Path, bundle, requests: int, throughput: bool = True) -> dict:
    port = 8765
    env = {**os.environ, "MOVIESCOPE_ARTIFACTS": str(artifacts), "MOVIESCOPE_LOG_LEVEL": "warning"}
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "-q", "serve", "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        files = _files(bundle)
        for _ in range(2):  # warm-up
            _post(url, files)
        timings = [_post(url, files) for _ in range(requests)]
        latency = [t["total_client_ms"] for t in timings]
        result = {
            "requests": requests,
            "latency_ms": {"p50": statistics.median(latency), "p95": _percentile(latency, 95)},
            "stages_ms_median": {k: statistics.median(t[k] for t in timings) for k in timings[0]},
            "throughput": ({c: _throughput(url, files, c, max(4, requests // 2)) for c in (1, 2, 4)}
                           if throughput else None),
            "peak_rss_mb": _peak_rss_mb(proc.pid),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return result


def _files(bundle) -> dict:
    return {"trailer": bundle.trailer.read_bytes(), "poster": bundle.poster.read_bytes() if bundle.poster else None,
            "plot": bundle.plot, "metadata": json.dumps(dict(bundle.metadata)) if bundle.metadata else None}


def _post(url: str, files: dict) -> dict:
    multipart = {"trailer": ("trailer.mp4", files["trailer"])}
    if files["poster"]:
        multipart["poster"] = ("poster.jpg", files["poster"])
    data = {k: files[k] for k in ("plot", "metadata") if files[k]}
    start = time.perf_counter()
    response = httpx.post(f"{url}/v1/predict", files=multipart, data=data, timeout=300)
    elapsed = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    return {**response.json()["timings_ms"], "total_client_ms": elapsed}


def _throughput(url: str, files: dict, clients: int, per_client: int) -> dict:
    def run_client(_):
        ok = errors = 0
        for _ in range(per_client):
            try:
                _post(url, files)
                ok += 1
            except httpx.HTTPError:
                errors += 1
        return ok, errors

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        outcomes = list(pool.map(run_client, range(clients)))
    minutes = (time.perf_counter() - start) / 60
    ok, errors = sum(o for o, _ in outcomes), sum(e for _, e in outcomes)
    return {"requests_per_minute": ok / minutes, "requests": ok + errors, "errors": errors}


def _extraction_rate(manifest: dict, n: int) -> float | None:
    seconds = manifest["timings_s"].get("model video")
    return 60 * n / seconds if seconds else None


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the service did not become ready")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _cli(*args) -> float:
    """Run a moviescope command; returns its peak RSS in MB (that process alone, from wait4)."""
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "-q", *map(str, args)])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args)
    return usage.ru_maxrss / 1024


def _timed_cli(*args) -> float:
    start = time.perf_counter()
    _cli(*args)
    return time.perf_counter() - start


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300, help="movies in the training benchmark")
    parser.add_argument("--requests", type=int, default=12, help="timed requests after warm-up")
    parser.add_argument("--workdir", default="runs/bench")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse WORKDIR/{data,artifacts,cache} (e.g. runs/demo) instead of synthesising and training")
    return parser.parse_args()


if __name__ == "__main__":
    main()
