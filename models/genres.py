"""The label set: a model's genres, in order, and multi-hot helpers.

The 13 Moviescope genres in the paper's canonical order are the default. A dataset may declare
its own list (dataset.json), or its genres are those its training split uses; the trained
artifact records the set it learned, and every layer (encoders, fusion, report, API, page)
takes it from there, like scikit-learn's `classes_`.
"""

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

MOVIESCOPE_GENRES: tuple[str, ...] = (
    "Action", "Animation", "Biography", "Comedy", "Crime", "Drama", "Family",
    "Fantasy", "Horror", "Mystery", "Romance", "Sci-Fi", "Thriller",
)
MAX_NAME_CHARS = 64


class UnknownGenreError(ValueError):
    pass


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return f"{name!r} is not a genre name (a non-empty string)"
    if name != name.strip() or len(name) > MAX_NAME_CHARS:
        return f"{name!r}: a genre name has no surrounding spaces and at most {MAX_NAME_CHARS} characters"
    if any(unicodedata.category(c).startswith("C") for c in name) or "," in name:
        return f"{name!r}: a genre name has no control characters and no commas"
    return None


@dataclass(frozen=True)
class GenreSet:
    """An ordered set of genre names; column j of every score matrix is `names[j]`."""

    names: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(self.names)
        problems = [problem for name in names for problem in [_name_problem(name)] if problem]
        if not names or problems or len(set(names)) < len(names):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            why = problems or ([f"duplicate genre(s) {duplicates}"] if duplicates else ["no genre"])
            raise ValueError(f"not a valid genre list: {'; '.join(why)}")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(names)})

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __getitem__(self, j: int) -> str:
        return self.names[j]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    @property
    def is_moviescope(self) -> bool:
        return self.names == MOVIESCOPE_GENRES

    def index(self, name: str) -> int:
        if name not in self._index:
            raise UnknownGenreError(f"unknown genre {name!r}; the genres are {', '.join(self.names)}")
        return self._index[name]

    def multi_hot(self, names: Iterable[str]) -> np.ndarray:
        """A float32 vector with 1.0 for each named genre."""
        row = np.zeros(len(self), dtype=np.float32)
        for name in names:
            row[self.index(name)] = 1.0
        return row

    def matrix(self, rows: Iterable[Iterable[str]]) -> np.ndarray:
        """An (n, len(self)) float32 label matrix."""
        vectors = [self.multi_hot(names) for names in rows]
        return np.stack(vectors) if vectors else np.zeros((0, len(self)), dtype=np.float32)

    def as_dict(self, scores: Sequence[float]) -> dict[str, float]:
        """{genre: score} for one row of scores, in this set's order."""
        return {g: float(s) for g, s in zip(self.names, scores, strict=True)}

    def parse(self, text: str | None) -> list[str] | None:
        """Comma-separated names (any case) -> this set's names in the order given; None when empty."""
        asked = [name.strip() for name in (text or "").split(",") if name.strip()]
        if not asked:
            return None
        canonical = {g.lower(): g for g in self.names}
        unknown = [name for name in asked if name.lower() not in canonical]
        if unknown:
            raise UnknownGenreError(f"unknown genre {', '.join(map(repr, unknown))}; "
                                    f"this model's genres are {', '.join(self.names)}")
        return list(dict.fromkeys(canonical[name.lower()] for name in asked))

    def subset(self, keep: Iterable[str]) -> "GenreSet":
        """The genres of `keep`, in this set's order."""
        kept = set(keep)
        return GenreSet(tuple(g for g in self.names if g in kept))


MOVIESCOPE = GenreSet(MOVIESCOPE_GENRES)


def genre_set(names: Iterable[str] | GenreSet | None) -> GenreSet:
    """`names` as a GenreSet; None is the Moviescope default."""
    if names is None:
        return MOVIESCOPE
    return names if isinstance(names, GenreSet) else GenreSet(tuple(names))


def in_default_order(names: Iterable[str]) -> GenreSet:
    """Genres found in a dataset, ordered: the Moviescope ones in the paper's order, then the rest A-Z."""
    found = set(names)
    known = [g for g in MOVIESCOPE_GENRES if g in found]
    return GenreSet(tuple(known + sorted(found - set(known), key=str.lower)))
