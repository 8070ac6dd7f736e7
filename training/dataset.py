"""movies.jsonl -> validated movies (bundle + labels + split).

Every row is validated; all problems are reported at once with their line numbers,
and no movie is silently dropped. A referenced media file that does not exist makes
that modality absent for the movie and is listed in `Dataset.missing_files`.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.bundle import Bundle, Metadata
from models.genres import GENRE_INDEX, GENRES, multi_hot_matrix

SPLIT_SHARES = (("train", 0.7), ("val", 0.1), ("test", 0.2))  # of a dataset whose rows name no split
SPLITS = tuple(name for name, _ in SPLIT_SHARES)
MOVIES_FILE = "movies.jsonl"


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
    title: str | None = None
    genres: list[str] = Field(validation_alias="genres")
    split: str | None = None
    plot: str | None = None
    trailer: str | None = None
    poster: str | None = None
    metadata: Metadata | None = None

    @field_validator("genres")
    @classmethod
    def _known_genres(cls, names: list[str]) -> list[str]:
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
    def _known_genres(cls, names: list[str]) -> list[str]:
        return _check_genres(names)


def _check_genres(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in GENRE_INDEX]
    if unknown:
        raise ValueError(f"unknown genre(s) {unknown}; expected names from: {', '.join(GENRES)}")
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


@dataclass
class Dataset:
    root: Path
    movies: list[Movie]
    missing_files: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def split(self, name: str) -> list[Movie]:
        return [m for m in self.movies if m.split == name]


def labels(movies: list[Movie]) -> np.ndarray:
    """(n, 13) multi-hot label matrix in canonical genre order."""
    return multi_hot_matrix(m.genres for m in movies)


def default_split(movie_id: str) -> str:
    """Deterministic split in SPLIT_SHARES proportions from a hash of the id (stable across runs and machines)."""
    bucket = int(hashlib.sha256(movie_id.encode()).hexdigest()[:8], 16) % 100
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
            row = _parse_line(line, lineno, problems, CatalogueRow if catalogue else MovieRow)
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
    if problems:
        raise DatasetError(path, problems)
    if not movies and not rejected:
        raise DatasetError(path, ["no movies"])
    return Dataset(root=root, movies=movies, missing_files=missing, rejected=rejected)


def _decode_line(raw_line: bytes, lineno: int, problems: list[str]) -> str | None:
    try:
        return raw_line.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as err:
        problems.append(f"line {lineno}: not UTF-8 text (byte 0x{raw_line[err.start]:02x} at column {err.start + 1})")
        return None


def _parse_line(line: str, lineno: int, problems: list[str], model: type[MovieRow]) -> MovieRow | None:
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
        return model.model_validate(raw)
    except ValidationError as err:
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"]) or "row"
            problems.append(f"line {lineno}: field '{where}': {e['msg']}")
        return None


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
    bundle = Bundle(
        id=movie_id,
        trailer=media("trailer", row.trailer),
        poster=media("poster", row.poster),
        plot=plot or None,
        metadata=row.metadata,
    )
    return Movie(bundle=bundle, genres=tuple(row.genres), split=row.split or default_split(movie_id), title=row.title)
