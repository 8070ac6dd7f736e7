"""What each command runs (imports are inside: `moviescope serve` need not load training code)."""

from pathlib import Path


def synth(args) -> None:
    from training.synth import synthesize

    path = synthesize(args.out, n=args.n, seed=args.seed, duration=args.duration, size=args.size)
    print(f"wrote {args.n} movies to {path}")


def import_movielens(args) -> None:
    from training.importers.movielens import import_movielens

    report = import_movielens(args.out, genres=args.genres, box_office=args.box_office, split_seed=args.split_seed,
                              audience=args.audience_factors)
    print(f"wrote {report.films} films to {args.out}")


def train(args) -> None:
    from training.config import load_config
    from training.train import train

    config = load_config(args.config, args.profile)
    if args.min_genre_positives is not None:
        if args.min_genre_positives < 0:
            raise ValueError(f"--min-genre-positives: must be at least 0, got {args.min_genre_positives}")
        config.min_genre_positives = args.min_genre_positives
    for flag, path in (("--out", args.out), ("--cache", args.cache)):  # found now, not after training
        if path is not None and path.exists() and not path.is_dir():
            raise ValueError(f"{flag}: {path} exists and is not a directory")
    manifest = train(args.data, args.out, config, args.device, args.cache, _engine(args))
    _print_summary(manifest["evaluation"])
    print(f"artifacts: {args.out} (version {manifest['model_version']}); report: {args.out / 'report' / 'report.md'}")


def evaluate(args) -> None:
    from models.device import resolve_device
    from training.evaluate import run_evaluation, summary

    report = run_evaluation(args.data, args.artifacts, args.split, args.out, args.cache, resolve_device(args.device))
    _print_summary({"split": report["split"], "n_movies": report["n_movies"], "rows": summary(report),
                    "prior": {k: report["prior"][k] for k in ("map", "micro_ap", "samples_ap")}})
    print(f"report: {args.out / 'report.md'}")


def serve(args) -> None:
    from service.server import serve

    serve(artifacts=args.artifacts, host=args.host, port=args.port)


def predict(args) -> int:
    if args.server is not None:
        from service.cli.remote import predict_remote

        return predict_remote(args)
    _local_predict(args)
    if args.data is None:
        from service.predictor import predict_cli

        if all(getattr(args, part) is None for part in ("trailer", "poster", "plot", "title", "metadata")):
            raise ValueError("give a bundle (--trailer, --poster, --plot, --title, --metadata) or --data "
                             "(every movie of a dataset)")
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
    from service.cli.batch import predict_catalogue_cli

    return predict_catalogue_cli(args, _engine(args))


def _local_predict(args) -> None:
    """Without --server: the artifact is needed and the flags for a server are not; the local defaults."""
    if args.artifacts is None:
        raise ValueError("give --artifacts (predict here) or --server URL (predict on a running service)")
    for flag, value in (("--api-key", args.api_key), ("--max-in-flight", args.max_in_flight)):
        if value is not None:
            raise ValueError(f"{flag} goes with --server")
    args.engine, args.device = args.engine or "local", args.device or "auto"


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


def demo(args) -> None:
    from service.cli.demo import run_demo

    workdir = args.workdir or Path("runs/real" if args.real else "runs/demo")
    run_demo(workdir, n=args.n, serve=not args.no_serve, port=args.port, real=args.real)


def _print_summary(evaluation: dict) -> None:
    print(f"\n{evaluation['split']} split, {evaluation['n_movies']} movies:  mAP   uAP   sAP")
    rows = {**evaluation["rows"], "prior": evaluation["prior"]}
    for name, m in rows.items():
        cells = "  ".join("   – " if m[k] is None else f"{m[k]:.3f}" for k in ("map", "micro_ap", "samples_ap"))
        print(f"  {name:<34} {cells}")
