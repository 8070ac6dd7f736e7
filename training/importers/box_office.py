"""vega-datasets' movies.json (npm `vega-datasets`, data/movies.json): box-office figures of 3,201 films,
found by normalised title and release year.

The file is a teaching set with known errors: some release dates are a century late (Gone with the Wind
is "Dec 15 2039"), so a year after LAST_RELEASE_YEAR is read as 100 years earlier. Its dates are US
releases, which often come a year after the film's year in MovieLens and IMDB (Casablanca), so a film is
looked up in its own year first, then in the next and the previous one. Several films with the same title
and release year: the one with the most IMDB votes is kept (the others are counted).
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path

from training.importers import ImportDataError
from training.importers.fields import BOX_OFFICE_FIELDS, json_value
from training.importers.titles import normalise_title

log = logging.getLogger(__name__)

YEAR_ORDER = (0, 1, -1)  # release year less the film's year, in the order tried
LAST_RELEASE_YEAR = 2011  # the file was compiled in 2011; later years are two-digit years in the wrong century
DATE_FORMAT = "%b %d %Y"  # "Jun 12 1998"
KEY_COLUMNS = ("Title", "Release Date", "IMDB Votes")


@dataclass
class BoxOffice:
    """Box-office metadata by (normalised title, release year)."""

    path: Path
    films: dict[tuple[str, int], dict] = field(default_factory=dict)
    n_rows: int = 0
    n_undated: int = 0  # no title or no readable release date
    n_century_fixed: int = 0
    n_ambiguous: int = 0  # rows dropped because another film had the same key and more votes

    def find(self, keys: list[str], year: int) -> dict | None:
        """The box office of the first (key, year) found, trying every key in a year before the next year."""
        for offset in YEAR_ORDER:
            for key in keys:
                found = self.films.get((key, year + offset))
                if found is not None:
                    return found
        return None


def load_box_office(path: Path) -> BoxOffice:
    import pandas as pd  # the `real` extra, imported only when an import runs

    try:
        table = pd.read_json(path, orient="records", dtype=False)  # values as written: ints stay ints
    except (ValueError, OSError) as err:
        raise ImportDataError(f"--box-office {path}: not a JSON list of films like vega-datasets' "
                              f"movies.json ({err})") from err
    missing = [c for c in (*KEY_COLUMNS, *(col for col, _ in BOX_OFFICE_FIELDS.values())) if c not in table]
    if missing:
        raise ImportDataError(f"--box-office {path}: no field(s) {', '.join(map(repr, missing))} "
                              "(expected vega-datasets' movies.json)")
    dates = pd.to_datetime(table["Release Date"], format=DATE_FORMAT, errors="coerce")
    box = BoxOffice(path=path, n_rows=len(table))
    dated = table.assign(month=dates.dt.month, year=dates.dt.year)[dates.notna() & table["Title"].notna()]
    box.n_undated = len(table) - len(dated)
    late = dated["year"] > LAST_RELEASE_YEAR
    box.n_century_fixed = int(late.sum())
    dated.loc[late, "year"] -= 100
    for row in dated.sort_values("IMDB Votes", ascending=False, na_position="last").to_dict("records"):
        key = (normalise_title(row["Title"]), int(row["year"]))
        if key in box.films:
            box.n_ambiguous += 1
            continue
        box.films[key] = {name: json_value(row[column], kind) for name, (column, kind) in BOX_OFFICE_FIELDS.items()}
        box.films[key]["release_month"] = int(row["month"])
    log.info("box office: %d films in %s; %d without a title or a readable release date, %d dates moved back "
             "a century, %d dropped as ambiguous (same title and year as a film with more IMDB votes)",
             box.n_rows, path.name, box.n_undated, box.n_century_fixed, box.n_ambiguous)
    return box
