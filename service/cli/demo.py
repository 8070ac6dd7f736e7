"""The main job (`make demo`): synthesise the benchmark, train and evaluate, then serve.

Idempotent: an existing dataset with the same size is reused, finished artifacts are
reused, and an interrupted training resumes from its feature cache.
"""

import json
import logging
from pathlib import Path

from models.artifacts import MANIFEST
from training.config import load_config
from training.synth import synthesize
from training.train import train

log = logging.getLogger(__name__)
SEED = 0


def run_demo(workdir: Path, n: int = 300, serve: bool = True, port: int = 8000) -> Path:
    workdir = Path(workdir)
    data, artifacts = workdir / "data", workdir / "artifacts"
    _ensure_dataset(data, n)
    if _artifacts_match(artifacts, n):
        log.info("reusing trained artifacts in %s (delete the directory to retrain)", artifacts)
    else:
        train(data, artifacts, load_config(), device="auto", cache_dir=workdir / "cache")
    print((artifacts / "report" / "report.md").read_text())
    if serve:
        _serve(artifacts, port)
    return artifacts


def _ensure_dataset(data: Path, n: int) -> None:
    stamp = data / "synth.json"
    wanted = {"n": n, "seed": SEED}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted and (data / "movies.jsonl").is_file():
        log.info("reusing the synthetic dataset in %s", data)
        return
    synthesize(data, n=n, seed=SEED)
    stamp.write_text(json.dumps(wanted))


def _artifacts_match(artifacts: Path, n: int) -> bool:
    manifest = artifacts / MANIFEST
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("data", {}).get("n_movies") == n


def _serve(artifacts: Path, port: int) -> None:
    from service.server import serve

    data = artifacts.parent / "data"
    rows = [json.loads(line) for line in (data / "movies.jsonl").read_text().splitlines()]
    movie = next(r for r in rows if all(r.get(k) for k in ("trailer", "poster", "plot", "metadata")))
    print(
        "\nThe service is starting. In another terminal, try:\n\n"
        f"  curl -s http://127.0.0.1:{port}/v1/predict \\\n"
        f"    -F trailer=@{data / movie['trailer']} \\\n"
        f"    -F poster=@{data / movie['poster']} \\\n"
        f"    -F plot={json.dumps(movie['plot'][:80] + '...')} \\\n"
        f"    -F 'metadata={json.dumps(movie['metadata'])}'\n\n"
        f"or open http://127.0.0.1:{port}/ in a browser and upload the same files there.\n"
    )
    serve(artifacts=artifacts, port=port)
