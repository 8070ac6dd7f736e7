"""`moviescope`: synth | train | evaluate | serve | predict | demo.

Errors a user can fix (bad dataset rows, bad config, unusable media) print one clear
message naming the file and field and exit with status 2; no traceback.
"""

import argparse
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from models.validation import describe

EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if not args.quiet else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        return args.run(args) or 0
    except (ValueError, OSError, ValidationError) as err:  # user errors: DatasetError, MediaError, a bad path, ...
        print(f"moviescope {args.command}: error: {_user_message(err)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"moviescope {args.command}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def _user_message(err: Exception) -> str:
    """What went wrong, naming the file or the key: never a traceback."""
    if isinstance(err, ValidationError):
        return describe(err)
    if isinstance(err, OSError) and err.filename is not None:  # e.g. "runs/x: Not a directory"
        return f"{err.filename}: {err.strerror}"
    return str(err)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moviescope", description="Multimodal movie-genre classification.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="write the synthetic trailer-bundle benchmark dataset")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=30.0, help="trailer length in seconds")
    p.add_argument("--size", type=_size, default=(320, 240), help="WIDTHxHEIGHT, e.g. 320x240")
    p.set_defaults(run=_synth)

    p = sub.add_parser("train", help="train every encoder and the fusion, then evaluate on the test split")
    p.add_argument("--data", type=Path, required=True, help="dataset directory with movies.jsonl")
    p.add_argument("--out", type=Path, required=True, help="artifact directory to write")
    p.add_argument("--config", type=Path, help="JSON overrides of the training profile")
    p.add_argument("--profile", choices=("cpu", "paper"), help="cpu (default) or paper (VGG16, suits a GPU)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--cache", type=Path, help="feature cache directory (default: beside --out)")
    _engine_arguments(p, "feature extraction")
    p.set_defaults(run=_train)

    p = sub.add_parser("evaluate", help="score a dataset split with trained artifacts; write the Table-3 report")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--artifacts", type=Path, required=True)
    p.add_argument("--split", choices=("train", "val", "test"), default="test")
    p.add_argument("--out", type=Path, required=True, help="report directory")
    p.add_argument("--cache", type=Path, help="feature cache directory (optional)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.set_defaults(run=_evaluate)

    p = sub.add_parser("serve", help="run the HTTP service")
    p.add_argument("--artifacts", type=Path, help="artifact directory (or MOVIESCOPE_ARTIFACTS)")
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.set_defaults(run=_serve)

    p = sub.add_parser("predict", help="predict genres for one bundle (prints the same JSON as POST /v1/predict), "
                                       "or with --data for every movie of a dataset (one JSON line each)")
    p.add_argument("--artifacts", type=Path, required=True)
    p.add_argument("--trailer", type=Path, help="the trailer of one bundle (or --data)")
    p.add_argument("--poster", type=Path)
    p.add_argument("--plot", help="plot text, or @FILE to read it from a file")
    p.add_argument("--metadata", help="metadata JSON object, or @FILE")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--explain", action="store_true",
                   help="one bundle: also explain the genres (as POST /v1/explain), JSON and PNGs into --out")
    p.add_argument("--genres", help="with --explain: comma-separated genres to explain (default: the top 3)")
    p.add_argument("--data", type=Path, help="a dataset directory (movies.jsonl; labels optional): predict every movie")
    p.add_argument("--split", choices=("all", "train", "val", "test"), default="all", help="with --data")
    p.add_argument("--out", type=Path, help="with --data: the JSON-lines output (a re-run resumes it); with "
                                            "--explain: the directory for explanation.json and the images")
    p.add_argument("--report", type=Path, help="with --data: also write the Table-3 report here (needs labels)")
    _engine_arguments(p, "batch prediction")
    p.set_defaults(run=_predict)

    p = sub.add_parser("demo", help="the main job: synthesise the benchmark, train, evaluate, then serve")
    p.add_argument("--workdir", type=Path, default=Path("runs/demo"))
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--no-serve", action="store_true", help="stop after training and the report")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(run=_demo)
    return parser


def _engine_arguments(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help=f"where {what} runs: threads here, or Ray (pip install 'moviescope[ray]')")
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


def _synth(args) -> None:
    from training.synth import synthesize

    path = synthesize(args.out, n=args.n, seed=args.seed, duration=args.duration, size=args.size)
    print(f"wrote {args.n} movies to {path}")


def _train(args) -> None:
    from training.config import load_config
    from training.train import train

    config = load_config(args.config, args.profile)
    for flag, path in (("--out", args.out), ("--cache", args.cache)):  # found now, not after training
        if path is not None and path.exists() and not path.is_dir():
            raise ValueError(f"{flag}: {path} exists and is not a directory")
    manifest = train(args.data, args.out, config, args.device, args.cache, _engine(args))
    _print_summary(manifest["evaluation"])
    print(f"artifacts: {args.out} (version {manifest['model_version']}); report: {args.out / 'report' / 'report.md'}")


def _evaluate(args) -> None:
    from models.device import resolve_device
    from training.evaluate import run_evaluation, summary

    report = run_evaluation(args.data, args.artifacts, args.split, args.out, args.cache, resolve_device(args.device))
    _print_summary({"split": report["split"], "n_movies": report["n_movies"], "rows": summary(report),
                    "prior": {k: report["prior"][k] for k in ("map", "micro_ap", "samples_ap")}})
    print(f"report: {args.out / 'report.md'}")


def _serve(args) -> None:
    from service.server import serve

    serve(artifacts=args.artifacts, host=args.host, port=args.port)


def _predict(args) -> int:
    if args.data is None:
        from service.predictor import predict_cli

        if args.trailer is None:
            raise ValueError("give --trailer (one bundle) or --data (every movie of a dataset)")
        if args.explain:
            return _explain(args)
        if args.genres:
            raise ValueError("--genres goes with --explain")
        if args.out or args.report:
            raise ValueError("--out and --report go with --data (or --out with --explain); one bundle's JSON goes "
                             "to standard output")
        return predict_cli(args)
    if args.explain or args.genres:
        raise ValueError("--explain and --genres explain one bundle (--trailer), not --data")
    from service.batch import predict_catalogue_cli

    return predict_catalogue_cli(args, _engine(args))


def _explain(args) -> None:
    from service.explain import explain_cli

    if args.out is None:
        raise ValueError("--explain needs --out DIR, where the JSON and the images go")
    if args.report:
        raise ValueError("--report goes with --data")
    explain_cli(args)


def _engine(args):
    from training.engines import make_engine

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers: must be at least 1, got {args.workers}")
    return make_engine(args.engine, args.workers, args.ray_address)


def _demo(args) -> None:
    from service.demo import run_demo

    run_demo(args.workdir, n=args.n, serve=not args.no_serve, port=args.port)


def _print_summary(evaluation: dict) -> None:
    print(f"\n{evaluation['split']} split, {evaluation['n_movies']} movies:  mAP   uAP   sAP")
    rows = {**evaluation["rows"], "prior": evaluation["prior"]}
    for name, m in rows.items():
        cells = "  ".join("   – " if m[k] is None else f"{m[k]:.3f}" for k in ("map", "micro_ap", "samples_ap"))
        print(f"  {name:<34} {cells}")


if __name__ == "__main__":
    sys.exit(main())
