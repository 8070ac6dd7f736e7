"""A dataset's own genres: declared in dataset.json (with aliases) or found in its training split; genres
too rare to learn are left out and named."""

import json
import logging

import pytest

from models.genres import MOVIESCOPE, GenreSet, in_default_order
from training.dataset import DatasetError, load_dataset
from training.label_set import choose_genres


def write(root, rows, info=None):
    (root / "movies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if info is not None:
        (root / "dataset.json").write_text(json.dumps(info))


def test_declared_genres_keep_their_order_and_aliases_map_names(tmp_path):
    write(tmp_path, [{"id": "a", "genres": ["Science Fiction", "Western"], "split": "train"},
                     {"id": "b", "genres": ["Documentary"], "split": "test"}],
          {"genres": ["Western", "Sci-Fi", "Documentary"], "aliases": {"Science Fiction": "Sci-Fi"}})
    data = load_dataset(tmp_path)
    assert data.genres.names == ("Western", "Sci-Fi", "Documentary")
    assert data.movies[0].genres == ("Sci-Fi", "Western")


def test_a_genre_outside_the_declared_list_is_a_problem_on_its_line(tmp_path):
    write(tmp_path, [{"id": "a", "genres": ["Western"]}, {"id": "b", "genres": ["Musical"]}],
          {"genres": ["Western", "Drama"]})
    with pytest.raises(DatasetError) as err:
        load_dataset(tmp_path)
    assert err.value.problems == [("line 2: field 'genres': unknown genre(s) ['Musical']; "
                                   "dataset.json declares: Western, Drama")]


@pytest.mark.parametrize(("info", "problem"), [
    ({"genres": ["A", "A"]}, "duplicate genre"),
    ({"genres": ["A"], "aliases": {"x": "B"}}, "aliases point to genres that `genres` does not list"),
    ({"genre": ["A"]}, "genre: unknown key"),
])
def test_a_bad_dataset_json_names_the_file_and_the_problem(tmp_path, info, problem):
    write(tmp_path, [{"id": "a", "genres": ["A"]}], info)
    with pytest.raises(ValueError, match="dataset.json") as err:
        load_dataset(tmp_path)
    assert problem in str(err.value)


def test_without_dataset_json_the_genres_are_the_training_splits_in_default_order(tmp_path):
    write(tmp_path, [{"id": "a", "genres": ["Western", "Drama"], "split": "train"},
                     {"id": "b", "genres": ["Action", "Anime"], "split": "train"},
                     {"id": "c", "genres": ["Musical"], "split": "test"}])
    assert load_dataset(tmp_path).genres.names == ("Action", "Drama", "Anime", "Western")
    assert in_default_order(["b", "A", "Thriller"]).names == ("Thriller", "A", "b")


def test_a_moviescope_dataset_keeps_the_13_genres_in_the_papers_order(tmp_path):
    write(tmp_path, [{"id": "a", "genres": ["Thriller", "Action"], "split": "train"}])
    assert load_dataset(tmp_path).genres == MOVIESCOPE


def test_rare_genres_are_left_out_and_named(tmp_path, caplog):
    rows = [{"id": f"m{i}", "genres": ["Drama"] + (["Western"] if i < 2 else []), "split": "train"} for i in range(8)]
    rows.append({"id": "t", "genres": ["Noir"], "split": "test"})
    write(tmp_path, rows)
    with caplog.at_level(logging.WARNING):
        genres, left_out = choose_genres(load_dataset(tmp_path), min_positives=5)
    assert genres == GenreSet(("Drama",)) and left_out == {"Western": 2, "Noir": 0}
    assert "Western (2)" in caplog.text and "Noir (0)" in caplog.text
    assert choose_genres(load_dataset(tmp_path), min_positives=2)[0].names == ("Drama", "Western")
    with pytest.raises(DatasetError, match="no genre has at least 50"):
        choose_genres(load_dataset(tmp_path), min_positives=50)


def test_metadata_of_any_fields_is_checked_and_a_kind_change_names_the_lines(tmp_path):
    write(tmp_path, [{"id": "a", "genres": ["A"], "metadata": {"studio": "Acme", "keywords": ["x"]}},
                     {"id": "b", "genres": ["A"], "metadata": {"studio": 12}},
                     {"id": "c", "genres": ["A"], "metadata": {"year": 1500, "cast": [1]}}])
    with pytest.raises(DatasetError) as err:
        load_dataset(tmp_path)
    problems = err.value.problems
    assert problems[0].startswith("line 3: field 'metadata.year': a number between 1870 and 2100")
    assert problems[1].startswith("line 3: field 'metadata.cast': expected a list of strings")
    assert "'studio' changes kind between rows: a string on line 1; a number on line 2" in problems[2]
