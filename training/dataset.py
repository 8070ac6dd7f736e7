"""movies.jsonl (+ dataset.json) -> validated movies (bundle + labels + split).

Every row is validated; all problems are reported at once with their line numbers,
and no movie is silently dropped. A referenced media file that does not exist makes
that modality absent for the movie and is listed in `Dataset.missing_files`. Genres are
any names, unless dataset.json declares the list (then a name outside it, after its
aliases, is a problem); metadata is any catalogue fields (numbers, strings, lists of
strings, dates; the IMDB-5000 fields within their bounds), and a field whose kind changes
between rows is a problem naming the field and the lines (models.schema).
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.bundle import Bundle
from models.genres import MOVIESCOPE, GenreSet, in_default_order
from models.schema import check_value, infer
from training.dataset_info import DatasetInfo, read_info

SPLIT_SHARES = (("train", 0.7), ("val", 0.1), ("test", 0.2))  # of a dataset whose rows name no split
SPLITS = tuple(name for name, _ in SPLIT_SHARES)
MOVIES_FILE = "movies.jsonl"
MAX_TITLE_CHARS = 500


class DatasetError(ValueError):
    """The dataset cannot be used; `problems` lists every bad row."""

    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{path}: {len(problems)} problem(s):\n  {shown}{more}")


class MovieRow(BaseModel):
    """One line of movies.jsonl. The Moviescope release's names are accepted as aliases."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, strict=False)

    id: str | int
    title: str | None = Field(default=None, max_length=MAX_TITLE_CHARS)
    genres: list[str] = Field(validation_alias="genres")
    split: str | None = None
    plot: str | None = None
    trailer: str | None = None
    poster: str | None = None
    metadata: dict[str, Any] | None = None

    @field_validator("genres")
    @classmethod
    def _valid_genres(cls, names: list[str]) -> list[str]:
        if not names:
            raise ValueError("a movie needs at least one genre")
        return _check_genres(names)

    @field_validator("trailer", "poster")
    @classmethod
    def _inside_the_dataset(cls, rel: str | None) -> str | None:
        """Paths stay inside the dataset directory (symlinks there are followed: the owner made them)."""
        if not rel:
            return rel
        if "\0" in rel:
            raise ValueError("a path cannot contain a NUL character")
        path = PurePosixPath(rel)
        if path.is_absolute():
            raise ValueError(f"{rel!r} is absolute; paths are relative to the dataset directory")
        if ".." in path.parts:
            raise ValueError(f"{rel!r} leaves the dataset directory ('..' is not allowed)")
        return rel

    @field_validator("split")
    @classmethod
    def _known_split(cls, split: str | None) -> str | None:
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        return split


class CatalogueRow(MovieRow):
    """A row of a catalogue to predict: the genres (labels) are optional."""

    genres: list[str] = Field(default_factory=list)

    @field_validator("genres")
    @classmethod
    def _valid_genres(cls, names: list[str]) -> list[str]:
        return _check_genres(names)


def _check_genres(names: list[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    if names:
        GenreSet(tuple(names))  # each a valid genre name (ValueError naming the bad one)
    return names


@dataclass(frozen=True)
class Rejected:
    """A catalogue row that names its movie but cannot be used (bad metadata, a bad path, ...)."""

    id: str
    split: str
    problems: list[str]


@dataclass(frozen=True)
class Movie:
    bundle: Bundle
    genres: tuple[str, ...]
    split: str
    title: str | None = None
    line: int = 0  # in movies.jsonl


@dataclass
class Dataset:
    root: Path
    movies: list[Movie]
    missing_files: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    info: DatasetInfo = field(default_factory=DatasetInfo)

    def split(self, name: str) -> list[Movie]:
        return [m for m in self.movies if m.split == name]

    @property
    def genres(self) -> GenreSet:
        """The label set dataset.json declares; else the 13 Moviescope genres when the movies name no other;
        else the genres the training split uses (the Moviescope ones in the paper's order, then the others A-Z)."""
        if self.info.genres is not None:
            return self.info.genre_set()
        if self.genres_named() <= set(MOVIESCOPE):
            return MOVIESCOPE
        return in_default_order(g for m in self.split("train") for g in m.genres)

    def genres_named(self) -> set[str]:
        """Every genre some movie carries, in any split."""
        return {g for m in self.movies for g in m.genres}


def labels(movies: list[Movie], genres: GenreSet) -> np.ndarray:
    """(n, len(genres)) multi-hot label matrix in `genres` order; names outside `genres` are left out
    (training names the genres it leaves out)."""
    return genres.matrix([g for g in m.genres if g in genres] for m in movies)


def default_split(movie_id: str, seed: int | None = None) -> str:
    """Deterministic split in SPLIT_SHARES proportions from a hash of the id, or of (seed, id) when a seed is
    given (stable across runs and machines; another seed, another split)."""
    key = movie_id if seed is None else f"{seed}:{movie_id}"
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100
    edge = 0
    for name, share in SPLIT_SHARES:
        edge += round(100 * share)
        if bucket < edge:
            return name
    return SPLITS[-1]


def load_dataset(root: Path | str, catalogue: bool = False) -> Dataset:
    """The validated dataset; every bad row is a problem. With `catalogue` (batch prediction), labels
    are optional and a bad row that still names its id is kept in `rejected` instead."""
    root = Path(root)
    path = root / MOVIES_FILE
    if not path.is_file():
        raise DatasetError(path, [f"{MOVIES_FILE} not found in {root}"])
    info = read_info(root)
    problems: list[str] = []
    missing: list[str] = []
    movies: list[Movie] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    with path.open("rb") as lines:
        for lineno, raw_line in enumerate(lines, start=1):
            line = _decode_line(raw_line, lineno, problems)
            if not line or not line.strip():
                continue
            first_problem = len(problems)
            row = _parse_line(line, lineno, problems, CatalogueRow if catalogue else MovieRow, info)
            if row is None and catalogue:
                row = _rejected(line, problems[first_problem:])
                if row is not None:
                    del problems[first_problem:]
            if row is None:
                continue
            movie_id = str(row.id)
            if movie_id in seen:
                problems.append(f"line {lineno}: duplicate id {movie_id!r} (first on line {seen[movie_id]})")
                continue
            seen[movie_id] = lineno
            if isinstance(row, Rejected):
                rejected.append(row)
            else:
                movies.append(_to_movie(row, movie_id, root, lineno, missing))
    problems += _mixed_metadata_kinds(movies)
    if problems:
        raise DatasetError(path, problems)
    if not movies and not rejected:
        raise DatasetError(path, ["no movies"])
    return Dataset(root=root, movies=movies, missing_files=missing, rejected=rejected, info=info)


def _mixed_metadata_kinds(movies: list[Movie]) -> list[str]:
    """A problem per metadata field whose kind changes between rows (naming the lines)."""
    try:
        infer((f"line {m.line}", m.bundle.metadata) for m in movies if m.bundle.metadata)
    except ValueError as err:
        return str(err).splitlines()
    return []


def _decode_line(raw_line: bytes, lineno: int, problems: list[str]) -> str | None:
    try:
        return raw_line.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as err:
        problems.append(f"line {lineno}: not UTF-8 text (byte 0x{raw_line[err.start]:02x} at column {err.start + 1})")
        return None


def _parse_line(line: str, lineno: int, problems: list[str], model: type[MovieRow],
                info: DatasetInfo) -> MovieRow | None:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as err:
        problems.append(f"line {lineno}: bad JSON ({err.msg} at column {err.colno})")
        return None
    except RecursionError:
        problems.append(f"line {lineno}: bad JSON (nested too deeply)")
        return None
    if not isinstance(raw, dict):
        problems.append(f"line {lineno}: expected a JSON object, got {type(raw).__name__}")
        return None
    raw = _apply_aliases(raw)
    try:
        row = model.model_validate(raw)
    except ValidationError as err:
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"]) or "row"
            problems.append(f"line {lineno}: field '{where}': {e['msg']}")
        return None
    found = _declared_genres(row, info) + _checked_metadata(row)
    problems += [f"line {lineno}: {problem}" for problem in found]
    return None if found else row


def _declared_genres(row: MovieRow, info: DatasetInfo) -> list[str]:
    """The row's genres through dataset.json's aliases; a problem for a name outside its declared list."""
    row.genres = list(dict.fromkeys(info.canonical(name) for name in row.genres))
    declared = info.genres
    unknown = [name for name in row.genres if declared is not None and name not in declared]
    if unknown:
        return [f"field 'genres': unknown genre(s) {unknown}; dataset.json declares: {', '.join(declared)}"]
    return []


def _checked_metadata(row: MovieRow) -> list[str]:
    """Each metadata value checked (models.schema.check_value), in place; a problem per bad field."""
    if row.metadata is None:
        return []
    problems, checked = [], {}
    for name, value in row.metadata.items():
        try:
            checked[name] = check_value(name, value)
        except ValueError as err:
            problems.append(f"field 'metadata.{name}': {err}")
    row.metadata = checked
    return problems


def _rejected(line: str, problems: list[str]) -> Rejected | None:
    """The row as a Rejected movie when it is a JSON object with a usable id (else None)."""
    try:
        raw = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None
    movie_id = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(movie_id, str | int) or isinstance(movie_id, bool) or not problems:
        return None
    split = raw.get("split") if raw.get("split") in SPLITS else default_split(str(movie_id))
    return Rejected(id=str(movie_id), split=split, problems=[p.split(": ", 1)[-1] for p in problems])


def _apply_aliases(raw: dict) -> dict:
    """The authors' release uses `label` for genres and `synopsis` for plot."""
    raw = dict(raw)
    if "genres" not in raw and "label" in raw:
        raw["genres"] = raw.pop("label")
    if "plot" not in raw and "synopsis" in raw:
        raw["plot"] = raw.pop("synopsis")
    return raw


def _to_movie(row: MovieRow, movie_id: str, root: Path, lineno: int, missing: list[str]) -> Movie:
    def media(field_name: str, rel: str | None) -> Path | None:
        if not rel:
            return None
        path = (root / rel).resolve()
        if not path.is_file():
            missing.append(f"line {lineno}: {field_name} file not found: {rel}")
            return None
        return path

    plot = row.plot.strip() if row.plot else None
    title = row.title.strip() if row.title else None
    bundle = Bundle(
        id=movie_id,
        trailer=media("trailer", row.trailer),
        poster=media("poster", row.poster),
        plot=plot or None,
        metadata=row.metadata,
        title=title or None,
    )
    return Movie(bundle=bundle, genres=tuple(row.genres), split=row.split or default_split(movie_id), title=row.title,
                 line=lineno)
