"""The metadata schema: the catalogue fields a model reads, each with its kind and bounds.

Kinds: `number`, `category` (a string), `list` (of strings: keywords, cast, countries) and
`date` (ISO "YYYY-MM-DD" or "YYYY-MM"). A dataset's schema is read from its rows (`infer`):
each field's kind is that of its values, and a field whose kind changes between rows is an
error naming the field and the lines. The IMDB-5000 fields keep their names, kinds and bounds
(`IMDB_FIELDS`) whatever the data says. The trained artifact stores the schema, and answers
validate metadata against it: a wrong kind, a non-finite or absurd number, an over-long string
or list is an error naming the field; a field the schema does not know is returned as ignored.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

KINDS = ("number", "category", "list", "date")
MAX_ABS_NUMBER = 1e15  # beyond any real catalogue value: larger is a mistake, not a movie
MAX_STRING_CHARS = 200
MAX_LIST_ITEMS = 200
MAX_FIELDS = 200  # of one movie's metadata object
MAX_FIELD_NAME_CHARS = 64
_ISO_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


class MetadataError(ValueError):
    """Metadata that does not fit the schema; the message names each bad field."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    log_scale: bool = False  # encoded as log1p (counts, money): only for the IMDB fields
    max_length: int = MAX_STRING_CHARS  # of a category, or of each item of a list
    max_items: int = MAX_LIST_ITEMS

    def check(self, value: Any) -> Any:
        """The value as the model reads it (None: absent); ValueError saying what was expected."""
        if value is None:
            return None
        kind = value_kind(value)
        if kind == "date" and self.kind == "category":  # a string field whose value looks like a date
            kind = "category"
        if kind != self.kind:
            raise ValueError(f"expected {_EXPECTED[self.kind]}, got {_describe(value)}")
        if kind == "number":
            return self._number(float(value))
        if kind == "list":
            if len(value) > self.max_items:
                raise ValueError(f"a list of at most {self.max_items} items, got {len(value)}")
            for item in value:
                _check_length(item, self.max_length)
            return list(value)
        return _check_length(value, self.max_length)

    def _number(self, value: float) -> float | int:
        low = -MAX_ABS_NUMBER if self.minimum is None else self.minimum
        high = MAX_ABS_NUMBER if self.maximum is None else self.maximum
        if not low <= value <= high:
            raise ValueError(f"a number between {_plain(low)} and {_plain(high)}, got {_plain(value)}")
        if self.integer:
            if not value.is_integer():
                raise ValueError(f"a whole number, got {_plain(value)}")
            return int(value)
        return value


def _number_field(name: str, low: float, high: float, integer: bool = False, log_scale: bool = False) -> FieldSpec:
    return FieldSpec(name, "number", minimum=low, maximum=high, integer=integer, log_scale=log_scale)


_COUNT, _USD = 10**12, 1e13
# The IMDB-5000 fields, in the column order of the first metadata models (older artifacts rely on it)
IMDB_FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in (
    _number_field("year", 1870, 2100, integer=True),
    _number_field("runtime_min", 0, 1000),
    _number_field("imdb_score", 0, 10),
    _number_field("facenumber_in_poster", 0, 10_000, integer=True),
    _number_field("budget_usd", 0, _USD, log_scale=True),
    _number_field("gross_usd", 0, _USD, log_scale=True),
    *(_number_field(name, 0, _COUNT, integer=True, log_scale=True) for name in (
        "num_voted_users", "num_critic_for_reviews", "num_user_for_reviews", "movie_facebook_likes",
        "director_facebook_likes", "actor_1_facebook_likes", "actor_2_facebook_likes", "actor_3_facebook_likes")),
    FieldSpec("content_rating", "category", max_length=32),
    FieldSpec("language", "category", max_length=64),
    FieldSpec("country", "category", max_length=64),
)}


@dataclass(frozen=True)
class MetadataSchema:
    fields: tuple[FieldSpec, ...]

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.fields]

    def field(self, name: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.name == name)

    def validate(self, raw: Any, where: str = "metadata") -> tuple[dict[str, Any], list[str]]:
        """(the known fields' values, the names of the fields this schema does not know); MetadataError
        naming every bad field."""
        if not isinstance(raw, dict):
            raise MetadataError(f"{where}: expected a JSON object of catalogue fields, got {_describe(raw)}")
        if len(raw) > MAX_FIELDS:
            raise MetadataError(f"{where}: at most {MAX_FIELDS} fields, got {len(raw)}")
        known = {spec.name: spec for spec in self.fields}
        values, ignored, problems = {}, [], []
        for name, value in raw.items():
            if name not in known:
                ignored.append(name)
                continue
            try:
                values[name] = known[name].check(value)
            except ValueError as err:
                problems.append(f"{where}.{name}: {err}")
        if problems:
            raise MetadataError("; ".join(problems))
        return values, ignored

    def to_dict(self) -> dict:
        return {"fields": [asdict(spec) for spec in self.fields]}

    @classmethod
    def from_dict(cls, data: dict) -> "MetadataSchema":
        return cls(tuple(FieldSpec(**spec) for spec in data["fields"]))


LEGACY_SCHEMA = MetadataSchema(tuple(IMDB_FIELDS.values()))  # what artifacts without a stored schema read


def value_kind(value: Any) -> str:
    """The kind of one JSON value; ValueError for what no field can hold."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | list):
        # a user's value, not a programming error: the callers report ValueErrors as bad input
        raise ValueError(f"expected a number, a string, a date or a list of strings, got {_describe(value)}")  # noqa: TRY004
    if isinstance(value, int | float):
        if isinstance(value, int) and abs(value) > MAX_ABS_NUMBER:  # float() of a 400-digit int overflows
            raise ValueError(f"a number between {-MAX_ABS_NUMBER:g} and {MAX_ABS_NUMBER:g}, got a {len(str(value))}-digit one")
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return "number"
    if isinstance(value, list):
        bad = [item for item in value if not isinstance(item, str)]
        if bad:
            raise ValueError(f"expected a list of strings, got an item that is {_describe(bad[0])}")
        return "list"
    return "date" if is_iso_date(value) else "category"


def is_iso_date(text: str) -> bool:
    if not _ISO_DATE.match(text):
        return False
    try:
        date.fromisoformat(text if len(text) == 10 else text + "-01")
    except ValueError:
        return False
    return True


def check_field_name(name: str) -> None:
    if not name or len(name) > MAX_FIELD_NAME_CHARS or not name.isprintable():
        raise ValueError(f"a field name is printable text of 1 to {MAX_FIELD_NAME_CHARS} characters, "
                         f"got {name[:MAX_FIELD_NAME_CHARS + 10]!r}")


def infer(rows: Iterable[tuple[str, dict[str, Any]]]) -> MetadataSchema:
    """The schema of `rows` ((where, metadata) pairs: `where` names the row, e.g. "line 7"): the IMDB fields
    first, in their order, then the others A-Z. Values are assumed checked (`check_value`); ValueError
    naming the field and the rows when a field's kind changes between rows."""
    seen: dict[str, dict[str, list[str]]] = {}  # field -> kind -> rows
    for where, metadata in rows:
        for name, value in metadata.items():
            if value is not None:
                seen.setdefault(name, {}).setdefault(IMDB_FIELDS[name].kind if name in IMDB_FIELDS
                                                     else value_kind(value), []).append(where)
    for kinds in seen.values():  # strings some of which look like dates are strings
        if set(kinds) == {"category", "date"}:
            kinds["category"] += kinds.pop("date")
    mixed = [f"metadata field {name!r} changes kind between rows: " + "; ".join(
        f"{_EXPECTED[kind]} on {_rows(wheres)}" for kind, wheres in kinds.items())
        for name, kinds in seen.items() if len(kinds) > 1]
    if mixed:
        raise ValueError("\n".join(mixed))
    order = [n for n in IMDB_FIELDS if n in seen] + sorted(set(seen) - set(IMDB_FIELDS))
    return MetadataSchema(tuple(IMDB_FIELDS.get(name) or FieldSpec(name, next(iter(seen[name]))) for name in order))


def check_value(name: str, value: Any) -> Any:
    """One value of a dataset row, checked against its IMDB field's spec, or else generically."""
    check_field_name(name)
    if name in IMDB_FIELDS:
        return IMDB_FIELDS[name].check(value)
    return None if value is None else FieldSpec(name, value_kind(value)).check(value)


def _rows(wheres: list[str]) -> str:
    shown = ", ".join(wheres[:5])
    return shown + (f" and {len(wheres) - 5} more" if len(wheres) > 5 else "")


def _check_length(text: str, limit: int) -> str:
    if len(text) > limit:
        raise ValueError(f"a string of at most {limit} characters, got {len(text)}")
    return text


def _describe(value: Any) -> str:
    kinds = {bool: "a boolean", str: "a string", list: "a list", dict: "an object", int: "a number",
             float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _plain(value: float) -> str:
    return f"{value:g}"


_EXPECTED = {"number": "a number", "category": "a string", "list": "a list of strings",
             "date": "a date (YYYY-MM-DD or YYYY-MM)"}
