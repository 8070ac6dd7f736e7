import json

import numpy as np
import pytest

from models.genres import MOVIESCOPE
from training.dataset import DatasetError, default_split, labels, load_dataset


def write_rows(root, rows):
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    (root / "movies.jsonl").write_text("\n".join(lines) + "\n")


def test_loads_full_and_partial_rows(tmp_path):
    (tmp_path / "trailers").mkdir()
    (tmp_path / "trailers" / "a.mp4").write_bytes(b"x")
    write_rows(tmp_path, [
        {"id": "a", "genres": ["Action", "Sci-Fi"], "split": "train", "plot": "A robot.",
         "trailer": "trailers/a.mp4", "metadata": {"year": 2012, "content_rating": "PG-13"}},
        {"id": 7, "label": ["Drama"], "synopsis": "A family."},  # the authors' field names
        {"id": "c", "genres": ["Comedy"], "trailer": None, "poster": "posters/missing.jpg"},
    ])
    data = load_dataset(tmp_path)
    a, b, c = data.movies
    assert a.bundle.trailer == (tmp_path / "trailers" / "a.mp4").resolve()
    assert a.bundle.metadata["year"] == 2012 and a.split == "train"
    assert b.bundle.id == "7" and b.genres == ("Drama",) and b.bundle.plot == "A family."
    assert b.split == default_split("7")
    assert c.bundle.poster is None and c.bundle.trailer is None
    assert data.missing_files == ["line 3: poster file not found: posters/missing.jpg"]
    y = labels(data.movies, MOVIESCOPE)
    assert y.shape == (3, len(MOVIESCOPE)) and y[0, MOVIESCOPE.index("Sci-Fi")] == 1 and y.sum() == 4


def test_reports_every_bad_row_with_its_line(tmp_path):
    write_rows(tmp_path, [
        {"id": "ok", "genres": ["Drama"]},
        "{not json",
        {"id": "g", "genres": ["Western, Spaghetti"]},  # no commas in a genre name
        {"id": "s", "genres": ["Drama"], "split": "holdout"},
        {"id": "t", "genres": "Drama"},
        {"id": "m", "genres": ["Drama"], "metadata": {"num_voted_users": -5}},
        {"id": "ok", "genres": ["Drama"]},
        ["not", "an", "object"],
    ])
    with pytest.raises(DatasetError) as err:
        load_dataset(tmp_path)
    problems = err.value.problems
    assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7, 8)]
    text = str(err.value)
    assert "Western" in text and "holdout" in text and "num_voted_users" in text and "duplicate id" in text


def test_missing_file_and_empty_dataset(tmp_path):
    with pytest.raises(DatasetError, match="movies.jsonl not found"):
        load_dataset(tmp_path)
    write_rows(tmp_path, [])
    with pytest.raises(DatasetError, match="no movies"):
        load_dataset(tmp_path)


def test_default_split_is_deterministic_and_roughly_70_10_20():
    splits = [default_split(f"tt{i:07d}") for i in range(4000)]
    assert splits == [default_split(f"tt{i:07d}") for i in range(4000)]
    share = {s: splits.count(s) / len(splits) for s in ("train", "val", "test")}
    assert abs(share["train"] - 0.7) < 0.03 and abs(share["val"] - 0.1) < 0.02 and abs(share["test"] - 0.2) < 0.03
    assert np.isclose(sum(share.values()), 1.0)


def test_paths_must_stay_inside_the_dataset(tmp_path):
    data = tmp_path / "data"
    (data / "trailers").mkdir(parents=True)
    (data / "trailers" / "own.mp4").write_bytes(b"x")
    elsewhere = tmp_path / "big-disk" / "linked.mp4"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"x")
    (data / "trailers" / "linked.mp4").symlink_to(elsewhere)  # the dataset's owner made it: followed
    good = [{"id": "own", "genres": ["Drama"], "trailer": "trailers/own.mp4"},
            {"id": "linked", "genres": ["Drama"], "trailer": "trailers/linked.mp4"}]
    write_rows(data, [
        good[0],
        {"id": "abs", "genres": ["Drama"], "trailer": "/etc/hostname"},
        {"id": "up", "genres": ["Drama"], "poster": "../../etc/passwd"},
        {"id": "mid", "genres": ["Drama"], "trailer": "trailers/../../big-disk/linked.mp4"},
        good[1],
        {"id": "nul", "genres": ["Drama"], "poster": "posters/a\u0000.jpg"},
    ])
    with pytest.raises(DatasetError) as err:
        load_dataset(data)
    problems = err.value.problems
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 6"]
    assert "field 'trailer'" in problems[0] and "absolute" in problems[0]
    assert "field 'poster'" in problems[1] and "'..'" in problems[1] and "'..'" in problems[2]
    write_rows(data, good)
    own, linked = load_dataset(data).movies
    assert own.bundle.trailer == (data / "trailers" / "own.mp4").resolve()
    assert linked.bundle.trailer == elsewhere.resolve()


def test_text_that_is_not_utf8_or_too_deep_is_reported_with_its_line(tmp_path):
    rows = [json.dumps({"id": "a", "genres": ["Drama"]}).encode(),
            b'{"id": "b", "genres": ["Drama"], "plot": "caf\xe9"}',
            b"[" * 100_000 + b"]" * 100_000,
            json.dumps({"id": "c", "genres": ["Drama"]}).encode()]
    (tmp_path / "movies.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\n".join(rows) + b"\n")  # with a BOM
    with pytest.raises(DatasetError) as err:
        load_dataset(tmp_path)
    assert err.value.problems == ["line 2: not UTF-8 text (byte 0xe9 at column 46)",
                                  "line 3: bad JSON (nested too deeply)"]


def test_catalogue_mode_keeps_rows_that_name_their_movie(tmp_path):
    rows = [
        {"id": "a", "plot": "No labels: fine in a catalogue."},
        {"id": "b", "genres": ["Drama"], "metadata": {"year": 3000}},
        {"id": "c", "genres": ["Drama"], "trailer": "../outside.mp4", "split": "test"},
        "not json",
    ]
    write_rows(tmp_path, rows)
    with pytest.raises(DatasetError, match="line 4: bad JSON"):  # no id to report the row under
        load_dataset(tmp_path, catalogue=True)
    write_rows(tmp_path, rows[:3])
    data = load_dataset(tmp_path, catalogue=True)
    assert [(m.bundle.id, m.genres) for m in data.movies] == [("a", ())]
    assert [(r.id, r.split) for r in data.rejected] == [("b", default_split("b")), ("c", "test")]
    assert data.rejected[0].problems[0].startswith("field 'metadata.year'")
    with pytest.raises(DatasetError) as err:  # training needs every row, with its labels
        load_dataset(tmp_path)
    assert len(err.value.problems) == 3
