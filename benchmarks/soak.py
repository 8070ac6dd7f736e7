"""Soak benchmark: K clients (default 4) for a given time (default 10 minutes) against one server it starts,
mixing valid bundles, real clips, hostile files, slow uploads, uploads cut off half-way and cancelled
requests (benchmarks/soak_clients.py). Watches the server's memory and file descriptors and the request
directories it leaves. Writes benchmarks/results/soak.json and rewrites BENCHMARKS.md. Nothing here is a test.

    .venv/bin/python -m benchmarks.soak [--minutes 10] [--clients 4] [--artifacts runs/demo/artifacts]

Targets: no 5xx and no transport errors; RSS at the end within 200 MB of the RSS after the first minute;
no request directory left; as many file descriptors at the end as after the warm-up.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: `python benchmarks/soak.py`
    sys.path.insert(0, str(ROOT))

import httpx

from benchmarks.machine import machine
from benchmarks.soak_clients import SoakClient
from benchmarks.soak_media import clip_uploads, hostile_uploads, real_clips, valid_uploads
from benchmarks.soak_report import summarise

DEFAULT_ARTIFACTS = Path("runs/demo/artifacts")
RESULTS = ROOT / "benchmarks" / "results" / "soak.json"
SAMPLE_EVERY_S = 5
SETTLE_S = 5  # after the clients stop, before the end's figures: abandoned predictions finish


def main() -> None:
    args = _args()
    artifacts = _artifacts(Path(args.artifacts))
    with tempfile.TemporaryDirectory(prefix="moviescope-soak-") as scratch:
        scratch = Path(scratch)
        clips = real_clips()
        uploads = {"valid": valid_uploads(artifacts, scratch), "clip": clip_uploads(clips),
                   "hostile": hostile_uploads(scratch)}
        server = SoakServer(artifacts, scratch, port=args.port, max_in_flight=2 * args.clients, device=args.device)
        try:
            results = run(server, uploads, args.clients, args.minutes * 60)
        finally:
            stop = server.stop()
    version = json.loads((artifacts / "manifest.json").read_text())["model_version"]
    results.update(stop=stop, clips=[c.name for c in clips], model_version=version,
                   uploads={k: [u.name for u in v] for k, v in uploads.items()})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    if out.resolve() == RESULTS:
        from benchmarks.report import write_markdown

        write_markdown(json.loads((RESULTS.parent / "latest.json").read_text()), ROOT / "BENCHMARKS.md")
    print(json.dumps({k: results[k] for k in ("targets", "statuses", "latency_ms", "rss_mb", "fds")}, indent=2),
          f"\nwrote {out}")


def run(server: "SoakServer", uploads: dict, clients: int, seconds: float) -> dict:
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    load_before = os.getloadavg()[0]
    server.wait_ready()
    ready = server.sample(0)
    warm_up = httpx.post(f"{server.url}/v1/predict", files=uploads["valid"][0].files, data=uploads["valid"][0].data,
                         timeout=300)
    warm_up.raise_for_status()
    t0 = time.monotonic()
    samples = [server.sample(0)]
    monitor = threading.Thread(target=_watch, args=(server, samples, t0, t0 + seconds), daemon=True)
    monitor.start()
    workers = [SoakClient(server.url, uploads, t0 + seconds, seed=i, t0=t0) for i in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - t0
    monitor.join()
    time.sleep(SETTLE_S)
    end = server.sample(time.monotonic() - t0)
    outcomes = [o for w in workers for o in w.outcomes]
    return {"machine": machine(), "started": started, "clients": clients, "seconds": elapsed,
            "max_in_flight": server.max_in_flight, "load_avg": [load_before, os.getloadavg()[0]],
            "ready": ready, "samples": samples, "end": end,
            **summarise(outcomes, elapsed, samples, end, server.leftovers())}


def _watch(server: "SoakServer", samples: list, t0: float, until: float) -> None:
    while (now := time.monotonic()) < until:
        time.sleep(min(SAMPLE_EVERY_S, max(0.0, until - now)))
        samples.append(server.sample(time.monotonic() - t0))


class SoakServer:
    """`moviescope serve` on the artifact, its uploads staged in a directory of its own."""

    def __init__(self, artifacts: Path, scratch: Path, port: int, max_in_flight: int, device: str):
        self.url, self.max_in_flight = f"http://127.0.0.1:{port}", max_in_flight
        self.tmp_dir = scratch / "uploads"
        self.tmp_dir.mkdir()
        self.log = scratch / "server.log"
        env = {**os.environ, "MOVIESCOPE_ARTIFACTS": str(artifacts), "MOVIESCOPE_TMP_DIR": str(self.tmp_dir),
               "MOVIESCOPE_MAX_IN_FLIGHT": str(max_in_flight), "MOVIESCOPE_DEVICE": device,
               "MOVIESCOPE_LOG_LEVEL": "warning"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "service.cli", "-q", "serve", "--port", str(port)],
                                            env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the service did not become ready:\n{self.log.read_text()[-3000:]}")

    def sample(self, t: float) -> dict:
        pid = self.process.pid
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        return {"t_s": round(t, 1), "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
                "fds": len(os.listdir(f"/proc/{pid}/fd")), "threads": int(status["Threads"])}

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.tmp_dir.iterdir())

    def stop(self) -> dict:
        """Ctrl-C, as a person would stop it: how long it took, and what it left."""
        start = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        log = self.log.read_text(errors="replace")
        return {"stop_s": time.monotonic() - start, "returncode": self.process.returncode,
                "log_tracebacks": log.count("Traceback"), "leftovers_after_stop": self.leftovers(),
                "log_tail": log[-2000:]}


def _artifacts(path: Path) -> Path:
    """The trained artifact; the default one (the demo's) is made when missing, as `make demo` makes it."""
    if (path / "manifest.json").is_file():
        return path.resolve()
    if path != DEFAULT_ARTIFACTS:
        raise SystemExit(f"soak: {path} is not a trained artifact directory (no manifest.json)")
    subprocess.run([sys.executable, "-m", "service.cli", "demo", "--workdir", str(path.parent), "--no-serve"],
                   check=True)
    return path.resolve()


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="how long the clients run (hours are fine)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients, one request at a time each")
    parser.add_argument("--artifacts", default=str(DEFAULT_ARTIFACTS), help="trained artifact directory")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--out", default=str(RESULTS), help="results JSON (BENCHMARKS.md is rewritten only for the default)")
    return parser.parse_args()


if __name__ == "__main__":
    main()
