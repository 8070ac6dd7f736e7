"""`moviescope predict --server URL`: the same outputs as a local run, computed by a running service.

One bundle prints what POST /v1/predict answers (with --explain, writes what /v1/explain answers
as the local --explain does). With --data, every movie of the catalogue goes to the server and the
answers become the same resumable JSON lines as a local run (service/cli/batch.py's Catalogue and
JsonLines): `{"id": ..., <the server's answer>}`, or `{"id": ..., "error": ...}` for a rejected
row, a 4xx from the server (its detail) or a movie the server could not be reached for.

At most the server's `max_in_flight` requests (GET /v1/limits, or --max-in-flight) go at once;
answers are written in the catalogue's order as soon as those before them are in. Retries of busy
answers and dropped connections are service/client.py's.

`--report` needs the trained artifact here too (--artifacts): the report reads its fusion, its
thresholds and its training report. The run checks first that the server serves that very version.
"""

import json
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from models.bundle import Bundle
from service.cli.batch import Catalogue, Summary, check_catalogue_args, print_summary
from service.client import AuthError, MoviescopeClient, RemoteError, RetryPolicy, ServerDown

log = logging.getLogger(__name__)
API_KEY_VARIABLE = "MOVIESCOPE_API_KEY"
DEFAULT_IN_FLIGHT = 4  # the server's own default, for a server without GET /v1/limits
REORDER_WINDOW = 4  # answers of up to 4 x in-flight later movies may wait for an earlier, slower one
LOCAL_ONLY = {"--engine": "engine", "--ray-address": "ray_address", "--workers": "workers", "--device": "device"}


def predict_remote(args, retry: RetryPolicy | None = None) -> int:
    check_remote_args(args)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    with MoviescopeClient(args.server, _api_key(args), retry=retry) as client:
        if args.data is None:
            return _one_bundle(client, args)
        if args.explain or args.genres:
            raise ValueError("--explain and --genres explain one bundle (--trailer), not --data")
        check_catalogue_args(args)
        summary = predict_catalogue_remote(client, args.data, args.out, args.split, args.max_in_flight,
                                           args.artifacts, args.report)
    return print_summary(summary, args)


def check_remote_args(args) -> None:
    try:
        url = httpx.URL(args.server)
    except httpx.InvalidURL as err:
        raise ValueError(f"--server: not a URL ({err}): {args.server!r}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"--server: expected a URL like http://host:8000, got {args.server!r}")
    given = [flag for flag, name in LOCAL_ONLY.items() if getattr(args, name, None) is not None]
    if given:
        raise ValueError(f"--server predicts on the server; {', '.join(given)} choose how a local run goes")
    if args.artifacts is not None and args.report is None:
        raise ValueError("--artifacts goes with --server only for --report (the report reads the artifact); "
                         "the server has its own")
    if args.report is not None and args.artifacts is None:
        raise ValueError("--report with --server needs --artifacts: the artifact the server serves, here too "
                         "(the report reads its fusion and thresholds)")
    if args.max_in_flight is not None and args.max_in_flight < 1:
        raise ValueError(f"--max-in-flight: must be at least 1, got {args.max_in_flight}")


def predict_catalogue_remote(client: MoviescopeClient, data: Path, out: Path, split: str = "all",
                             max_in_flight: int | None = None, artifacts: Path | None = None,
                             report: Path | None = None) -> Summary:
    """The local `predict_catalogue`'s file (and report), from the server's answers."""
    catalogue = Catalogue.open(data, out, split)
    in_flight = _in_flight(client, max_in_flight)
    if artifacts is not None:
        _check_same_model(client, artifacts)
    log.info("%s: %d movies to predict, %d requests at a time", client.url, len(catalogue.items), in_flight)
    try:
        catalogue.write(ordered_map(partial(remote_line, client), catalogue.items, in_flight))
    except (AuthError, ServerDown) as err:
        raise RemoteError(f"{err}; stopped, {out} keeps the lines written so far: re-run the same command "
                          "to resume") from None
    return catalogue.finish(artifacts, report)


def remote_line(client: MoviescopeClient, item: tuple[str, Bundle | str]) -> dict:
    """The output line of one catalogue item: the server's answer, or why there is none."""
    movie_id, bundle = item
    if isinstance(bundle, str):  # a rejected row: the reason, as a local run writes it
        return {"id": movie_id, "error": bundle}
    try:
        return {"id": movie_id, **client.predict(bundle)}
    except (AuthError, ServerDown):
        raise  # not this movie's fault, and no other movie would fare better: the run stops
    except RemoteError as err:
        return {"id": movie_id, "error": str(err)}
    except OSError as err:  # a file gone since the listing
        return {"id": movie_id, "error": f"{err.filename}: {err.strerror}" if err.filename else str(err)}


def ordered_map(fn: Callable[[Any], Any], items: Iterable, in_flight: int) -> Iterator:
    """fn(item) for every item, at most `in_flight` at once, the results in the order of the items."""
    pool = ThreadPoolExecutor(in_flight, thread_name_prefix="remote")
    pending: deque = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= REORDER_WINDOW * in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_flight(client: MoviescopeClient, max_in_flight: int | None) -> int:
    """--max-in-flight, else the server's limit; reading the limits also checks the URL and the key."""
    limits = client.limits()
    if max_in_flight is not None:
        return max_in_flight
    if limits is None:
        log.warning("%s has no /v1/limits; sending %d requests at a time (--max-in-flight to choose)",
                    client.url, DEFAULT_IN_FLIGHT)
        return DEFAULT_IN_FLIGHT
    admitted = limits.get("max_in_flight")
    if not isinstance(admitted, int) or admitted < 1:
        raise RemoteError(f"{client.url}/v1/limits: max_in_flight is {admitted!r}, so no prediction would be "
                          "admitted (or this is not a moviescope server)")
    return admitted


def _check_same_model(client: MoviescopeClient, artifacts: Path) -> None:
    manifest = Path(artifacts) / "manifest.json"
    if not manifest.is_file():
        raise ValueError(f"--artifacts: {artifacts}: no manifest.json; not a trained artifact directory")
    local = json.loads(manifest.read_text())["model_version"]
    served = client.model()["model_version"]
    if served != local:
        raise ValueError(f"--artifacts: {artifacts} is model {local}, the server serves {served}; the report "
                         "needs the artifact that scored the movies")


def _api_key(args) -> str | None:
    return args.api_key or os.environ.get(API_KEY_VARIABLE) or None


def _one_bundle(client: MoviescopeClient, args) -> int:
    from service.predictor import cli_bundle

    _check_one_bundle_args(args)
    bundle = cli_bundle(args)
    client.limits()  # checks the URL and the key, and a file over an upload limit is refused unsent
    if args.explain:
        _write_explanation(client.explain(bundle, args.genres), args.out)
    else:
        print(json.dumps(client.predict(bundle), indent=2))
    return 0


def _check_one_bundle_args(args) -> None:
    if args.trailer is None:
        raise ValueError("give --trailer (one bundle) or --data (every movie of a dataset)")
    if args.report is not None or args.max_in_flight is not None:
        raise ValueError("--report and --max-in-flight go with --data")
    if not args.explain:
        if args.genres:
            raise ValueError("--genres goes with --explain")
        if args.out is not None:
            raise ValueError("--out goes with --data or --explain; one bundle's JSON goes to standard output")
    elif args.out is None:
        raise ValueError("--explain needs --out DIR, where the JSON and the images go")
    elif args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out: {args.out} exists and is not a directory")


def _write_explanation(result: dict, out: Path) -> None:
    """As the local `predict --explain`: DIR/explanation.json, each heatmap as two PNGs beside it."""
    from models.files import write_bytes_atomic
    from service.explain import write_images

    out.mkdir(parents=True, exist_ok=True)
    write_images(result["explanation"], out)
    text = json.dumps(result, indent=2)
    write_bytes_atomic(out / "explanation.json", (text + "\n").encode("utf-8"))
    print(text)
