"""`moviescope predict --data DIR --out predictions.jsonl`: every movie of a catalogue, resumably.

One line per movie: `{"id": ..., <the JSON /v1/predict answers for it>}`, or `{"id": ..., "error":
...}` for a movie that cannot be scored (a corrupt trailer, a row with bad metadata); the run goes
on. Lines are appended whole and synced one by one, so a killed run loses only the movies in
flight; a re-run drops a torn last line, skips the ids already written and appends the rest in
the same order, giving the file an uninterrupted run gives. The engine (training/engines.py)
decides where the work runs: threads here, or a Ray actor pool.
"""

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from models.bundle import Bundle
from training.dataset import Movie, Rejected, load_dataset
from training.engines import Engine, LocalEngine
from training.progress import progress

log = logging.getLogger(__name__)
BATCH_SIZE = 8  # movies per batch: their frames go through the CNN together


@dataclass
class Summary:
    movies: int  # in the selected split, all lines written by this run or an earlier one
    written: int  # by this run
    failed: int  # error lines among all the split's lines
    seconds: float

    def line(self, out: Path) -> str:
        rate = self.written / self.seconds * 60 if self.seconds > 0 else 0.0
        return (f"{self.movies} movies in {out}: {self.movies - self.failed} scored, {self.failed} failed; "
                f"this run wrote {self.written} lines in {self.seconds:.1f} s ({rate:.1f} movies/min)")


def predict_catalogue(artifacts: Path, data: Path, out: Path, split: str = "all", engine: Engine | None = None,
                      device: str = "cpu", report: Path | None = None, batch_size: int = BATCH_SIZE) -> Summary:
    """Score the split's movies into `out` (JSON lines); with `report`, write the Table-3 report of the batch."""
    import torch  # here, not above: `predict --server` reads catalogues through this module without models

    from service.batch_predictor import load_batch_predictor, predict_batch
    from service.predictor import check_artifact_dir

    check_artifact_dir(artifacts)
    catalogue = Catalogue.open(data, out, split)
    setup = partial(load_batch_predictor, Path(artifacts).resolve(), device, torch.get_num_threads())
    catalogue.write((engine or LocalEngine()).map(setup, predict_batch, catalogue.items, batch_size))
    return catalogue.finish(artifacts, report)


@dataclass
class Catalogue:
    """A run over a dataset's split: what is already in `out`, and the `items` this run has to write,
    in the dataset's order: (id, the movie's bundle, or why its row was rejected)."""

    data: Path
    split: str
    movies: list[Movie]
    rejected: list[Rejected]
    sink: "JsonLines"
    items: list[tuple[str, Bundle | str]]
    start: float = field(default_factory=time.perf_counter)

    @classmethod
    def open(cls, data: Path, out: Path, split: str) -> "Catalogue":
        dataset = load_dataset(data, catalogue=True)
        movies = [m for m in dataset.movies if split in ("all", m.split)]
        rejected = [r for r in dataset.rejected if split in ("all", r.split)]
        if not movies and not rejected:
            raise ValueError(f"{Path(data) / 'movies.jsonl'}: split {split!r} has no movie")
        sink = JsonLines(out)
        done = {line["id"] for line in sink.read()}
        items: list[tuple[str, Bundle | str]] = [(r.id, "; ".join(r.problems)) for r in rejected if r.id not in done]
        items += [(m.bundle.id, m.bundle) for m in movies if m.bundle.id not in done]
        if done:
            log.info("%s: %d movies already there, %d to go", out, len(done), len(items))
        return cls(Path(data), split, movies, rejected, sink, items)

    def write(self, lines: Iterable[dict]) -> None:
        """Append each line as it comes (one per item, in order), with a progress bar."""
        with progress(total=len(self.items), desc="predict", unit="movie", disable=not self.items) as bar:
            for line in lines:
                self.sink.append(line)
                bar.update()

    def finish(self, artifacts: Path | None, report: Path | None) -> Summary:
        """The run's summary; with `report`, the Table-3 report of the split's lines (needs `artifacts`)."""
        ids = {m.bundle.id for m in self.movies} | {r.id for r in self.rejected}
        lines = {line["id"]: line for line in self.sink.read() if line["id"] in ids}
        if report is not None:
            write_batch_report(artifacts, self.data, self.split, self.movies, lines, report)
        failed = sum("error" in line for line in lines.values())
        return Summary(len(lines), len(self.items), failed, time.perf_counter() - self.start)


class JsonLines:
    """An append-only JSON-lines file that a kill cannot corrupt: each line goes out whole in one
    write and is synced before the next; reading first cuts off a torn last line."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) < len(data):
            log.warning("%s: dropping a torn last line (%d bytes) left by an interrupted run",
                        self.path, len(data) - len(complete))
            os.truncate(self.path, len(complete))
        lines = []
        for number, text in enumerate(complete.splitlines(), start=1):
            try:
                line = json.loads(text)
            except (json.JSONDecodeError, UnicodeDecodeError):
                line = None
            if not isinstance(line, dict) or "id" not in line:
                raise ValueError(f"{self.path}: line {number} is not a prediction line; "
                                 "not an output of `moviescope predict --data`?")
            lines.append(line)
        return lines

    def append(self, line: dict) -> None:
        data = (json.dumps(line) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, data)
            while written < len(data):  # a short write (rare, e.g. a signal): the rest follows at once
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)


def write_batch_report(artifacts: Path, data: Path, split: str, movies: list[Movie], lines: dict[str, dict],
                       out: Path) -> None:
    from service.cli.batch_report import batch_report

    labelled = [m for m in movies if m.genres and "error" not in lines.get(m.bundle.id, {"error": ""})]
    if not labelled:
        raise ValueError(f"--report: no scored movie of split {split!r} has genres (labels) in "
                         f"{Path(data) / 'movies.jsonl'}")
    batch_report(artifacts, data, split, labelled, [lines[m.bundle.id] for m in labelled], out)


def predict_catalogue_cli(args, engine: Engine) -> int:
    """`moviescope predict --data`: exit status 0 when every movie was scored, 1 when some failed."""
    from models.device import resolve_device

    check_catalogue_args(args)
    summary = predict_catalogue(args.artifacts, args.data, args.out, args.split, engine,
                                resolve_device(args.device), args.report)
    return print_summary(summary, args)


def check_catalogue_args(args) -> None:
    if args.out is None:
        raise ValueError("--data needs --out, the JSON-lines file to write (or to resume)")
    if any(v is not None for v in (args.trailer, args.poster, args.plot, args.title, args.metadata)):
        raise ValueError("--data predicts a dataset; --trailer, --poster, --plot, --title and --metadata are for "
                         "one bundle")
    if args.out.is_dir():
        raise ValueError(f"--out: {args.out} is a directory")


def print_summary(summary: Summary, args) -> int:
    """Exit status 0 when every movie was scored, 1 when some failed."""
    print(summary.line(args.out))
    if args.report is not None:
        print(f"report: {args.report / 'report.md'}")
    return 1 if summary.failed else 0
