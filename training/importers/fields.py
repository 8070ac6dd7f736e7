"""The metadata an import writes: each name, the source column it comes from, its JSON type, and the range
its values can have. Label columns (ggplot2movies' genre flags, vega-datasets' Major Genre) are
never listed here: genres are what the models learn to predict, not something they may read."""

import math
from collections import Counter

from models.schema import check_value
from training.importers.audience import AUDIENCE_FACTORS, audience_fields

# metadata name: (ggplot2movies column, type)
IMDB_FIELDS = {
    "runtime_min": ("length", int),
    "budget_usd": ("budget", int),
    "imdb_score": ("rating", float),
    "num_voted_users": ("votes", int),
    "content_rating": ("mpaa", str),
    **{f"rating_share_{star}": (f"r{star}", float) for star in range(1, 11)},  # % of voters giving that star
}
MOVIELENS_FIELDS = ("year", "movielens_ratings", "movielens_mean_rating")
# metadata name: (vega-datasets movies.json field, type); release_month comes from "Release Date"
BOX_OFFICE_FIELDS = {
    "gross_usd": ("US Gross", int),
    "worldwide_gross_usd": ("Worldwide Gross", int),
    "distributor": ("Distributor", str),
    "source": ("Source", str),
    "creative_type": ("Creative Type", str),
    "director": ("Director", str),
    "rotten_tomatoes": ("Rotten Tomatoes Rating", int),
}
METADATA_NAMES = (*MOVIELENS_FIELDS, *IMDB_FIELDS, *BOX_OFFICE_FIELDS, "release_month")

# (low, high) of the fields the service knows no bounds for: what these sources' values can be
PLAUSIBLE = {"release_month": (1, 12), "rotten_tomatoes": (0, 100), "movielens_mean_rating": (0, 5),
             "movielens_ratings": (0, 1e12), **{f"rating_share_{star}": (0, 100) for star in range(1, 11)},
             **{name: (-1, 1) for name in audience_fields(AUDIENCE_FACTORS)}}


def json_value(value: object, kind: type) -> int | float | str | None:
    """`value` as a JSON-ready int, float or str; None for a missing one (None, NaN, an empty string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):  # pandas' missing value is NaN
        return None
    if kind is str:
        return str(value).strip() or None
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(number) if kind is int else number


def bounded(fields: dict[str, object], out_of_bounds: Counter) -> dict[str, object]:
    """`fields` without missing values, and without those the service would refuse or that cannot be (counted
    by name). The IMDB-5000 names (year, budget_usd, ...) are checked by the service's own rules."""
    kept = {}
    for name, value in fields.items():
        if value is None:
            continue
        low, high = PLAUSIBLE.get(name, (-math.inf, math.inf))
        try:
            check_value(name, value)
            plausible = isinstance(value, str) or low <= value <= high
        except ValueError:
            plausible = False
        if plausible:
            kept[name] = value
        else:
            out_of_bounds[name] += 1
    return kept
