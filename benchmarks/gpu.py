"""What benchmarks/gpu.sh measures once ffmpeg and the wheels are in place (run it through gpu.sh there).

Training time on a small synthetic set; /v1/predict on the reference bundle (the 120 s 1280x720 trailer of
benchmarks/run.py) with MOVIESCOPE_DEVICE set to the device, server and client time; /v1/explain (Grad-CAM
of frames and poster); the CNN+LSTM video model's explain pass on the device (cuDNN's LSTM has no backward
in eval mode, so the model turns cuDNN off for it); batch prediction throughput (`predict --data`).
Writes benchmarks/results/gpu.json (for --device cuda) or gpu-dryrun-cpu.json (--device cpu), then
BENCHMARKS.md. Nothing here is a test.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.gpu_report import RESULTS, summary
from benchmarks.machine import machine
from benchmarks.soak import SoakServer
from benchmarks.soak_media import bundle_upload

ROOT = Path(__file__).resolve().parent.parent


def without_minilm() -> dict:
    """A --config that leaves out every MiniLM model (plot; title + plot): its weights are not carried there."""
    from training.config import default_models

    return {"models": {name: None for name, spec in default_models("cpu").items() if spec.encoder == "text_minilm"}}


def main() -> None:
    args = _args()
    work = Path(args.work)
    started = time.perf_counter()
    device = _check_device(args.device)
    r = {"machine": machine(), "device": device, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
         "setup_s": args.setup_s, "n_movies": args.n, "load_avg": [os.getloadavg()[0]]}
    r["training"] = training(work, args.n, device)
    r["reference_synth_s"] = _timed("synth", "--out", work / "reference", "--n", "1", "--duration", "120",
                                    "--size", "1280x720", "--seed", "7")
    upload = _reference_upload(work / "reference")
    r["service"] = service(work, upload, device, args.requests)
    r["lstm_explain"] = lstm_explain(work, device)
    r["batch"] = batch(work, device)
    r["wall_s"] = time.perf_counter() - started + (args.setup_s or 0)
    r["load_avg"].append(os.getloadavg()[0])
    out = RESULTS / ("gpu.json" if device == "cuda" else f"gpu-dryrun-{device}.json")
    out.write_text(json.dumps(r, indent=2))
    from benchmarks.report import write_markdown

    write_markdown(json.loads((RESULTS / "latest.json").read_text()), ROOT / "BENCHMARKS.md")
    print(json.dumps(summary(r), indent=2), f"\nwrote {out} and BENCHMARKS.md")


def training(work: Path, n: int, device: str) -> dict:
    data, artifacts = work / "data", work / "artifacts"
    config = work / "no-minilm.json"
    config.write_text(json.dumps(without_minilm()))
    result = {"synth_s": _timed("synth", "--out", data, "--n", str(n), "--seed", "0")}
    result["train_s"] = _timed("train", "--data", data, "--out", artifacts, "--cache", work / "cache",
                               "--device", device, "--config", config)
    manifest = json.loads((artifacts / "manifest.json").read_text())
    result["stages_s"] = manifest["timings_s"]
    result["serving"] = json.loads((artifacts / "fusion.json").read_text())["serving_models"]
    return result


def service(work: Path, upload, device: str, requests: int) -> dict:
    server = SoakServer(work / "artifacts", _fresh(work / "serve"), port=8767, max_in_flight=4, device=device)
    try:
        server.wait_ready()
        url = f"{server.url}/v1/predict"
        for _ in range(2):  # warm-up: CUDA kernels, cuDNN's choices, the page cache
            _post(url, upload)
        predicts = [_post(url, upload) for _ in range(requests)]
        explains = [_post(f"{server.url}/v1/explain", upload) for _ in range(max(3, requests // 5))]
        rss = server.sample(0)["rss_mb"]
    finally:
        stop = server.stop()
    return {"requests": requests, "predict": _latency(predicts), "explain": _latency(explains),
            "rss_mb": rss, "stop_s": stop["stop_s"], "log_tracebacks": stop["log_tracebacks"]}


def lstm_explain(work: Path, device: str) -> dict:
    """The CNN+LSTM video model, trained with the others, explaining the reference trailer on the device."""
    from models.artifacts import load_artifacts
    from training.dataset import load_dataset

    artifacts = load_artifacts(work / "artifacts", device=device, all_models=True)
    lstm = artifacts.models.get("video_lstm")
    if lstm is None:
        return {"skipped": "no video_lstm model in the artifact"}
    sampled = lstm.load_input(load_dataset(work / "reference").movies[0].bundle)
    genres = list(artifacts.genres.names)[:3]  # those the small training set kept
    times = []
    for _ in range(4):
        start = time.perf_counter()
        explanation = lstm.explain(sampled, genres)
        times.append((time.perf_counter() - start) * 1000)
    return {"ms_median_of_3": statistics.median(times[1:]), "first_ms": times[0],
            "heatmaps": len(explanation["heatmaps"]), "frames": len(explanation["times_s"])}


def batch(work: Path, device: str) -> dict:
    workers = max(2, (os.cpu_count() or 2) // 2)
    out = work / "predictions.jsonl"
    out.unlink(missing_ok=True)
    seconds = _timed("predict", "--artifacts", work / "artifacts", "--data", work / "data", "--out", out,
                     "--device", device, "--workers", str(workers))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    return {"movies": len(lines), "errors": sum("error" in line for line in lines), "workers": workers,
            "seconds": seconds, "trailers_per_minute": 60 * len(lines) / seconds}


def _post(url: str, upload) -> dict:
    start = time.perf_counter()
    response = httpx.post(url, files=upload.files, data=upload.data, timeout=300)
    elapsed = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    return {**response.json()["timings_ms"], "client_ms": elapsed}


def _latency(timings: list[dict]) -> dict:
    def pct(key: str, q: float) -> float:
        values = sorted(t[key] for t in timings)
        return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]

    return {"n": len(timings), "server_p50_ms": pct("total", 50), "server_p95_ms": pct("total", 95),
            "client_p50_ms": pct("client_ms", 50), "client_p95_ms": pct("client_ms", 95),
            "stages_ms_median": {k: statistics.median(t[k] for t in timings) for k in timings[0] if k != "client_ms"}}


def _reference_upload(root: Path):
    from training.dataset import load_dataset

    bundle = load_dataset(root).movies[0].bundle
    return bundle_upload(bundle.id, bundle)


def _check_device(device: str) -> str:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu.py: --device cuda, but torch sees no CUDA device (torch "
                 f"{torch.__version__}, built for CUDA {torch.version.cuda})")
    return device


def _fresh(path: Path) -> Path:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _timed(*args) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "service.cli", "-q", *map(str, args)], check=True)
    return time.perf_counter() - start


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--work", default="/tmp/moviescope-gpu", help="scratch folder (datasets, artifacts)")
    parser.add_argument("--n", type=int, help="movies in the training set (default 60 on cuda, 24 on cpu)")
    parser.add_argument("--requests", type=int, help="timed /v1/predict requests after warm-up (20 on cuda, 6 on cpu)")
    parser.add_argument("--setup-s", type=float, help="gpu.sh's install time, for the report")
    args = parser.parse_args()
    args.n = args.n or (60 if args.device == "cuda" else 24)
    args.requests = args.requests or (20 if args.device == "cuda" else 6)
    return args


if __name__ == "__main__":
    main()
