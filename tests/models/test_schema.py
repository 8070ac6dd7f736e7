"""The metadata schema: kinds read from the rows, values checked against it, unknown fields set aside."""

import pytest

from models.schema import IMDB_FIELDS, LEGACY_SCHEMA, MetadataError, MetadataSchema, check_value, infer


def rows(*metadata: dict) -> list[tuple[str, dict]]:
    return [(f"line {i + 1}", m) for i, m in enumerate(metadata)]


def test_kinds_come_from_the_values_imdb_fields_first_then_the_others_a_to_z():
    schema = infer(rows(
        {"director": "A. Smith", "keywords": ["heist", "vault"], "release": "2012-05-04", "year": 2012},
        {"director": None, "keywords": [], "release": "2013-07", "runtime_min": 101.5, "budget_usd": 1e6},
    ))
    assert schema.names == ["year", "runtime_min", "budget_usd", "director", "keywords", "release"]
    kinds = {spec.name: spec.kind for spec in schema.fields}
    assert kinds == {"year": "number", "runtime_min": "number", "budget_usd": "number", "director": "category",
                     "keywords": "list", "release": "date"}
    assert schema.field("year") == IMDB_FIELDS["year"]  # the IMDB fields keep their bounds


def test_a_field_whose_kind_changes_between_rows_names_the_field_and_the_lines():
    with pytest.raises(ValueError) as err:
        infer(rows({"studio": "Acme"}, {"studio": 7}, {"studio": "Other"}, {"studio": ["a"]}))
    text = str(err.value)
    assert "'studio'" in text and "a string on line 1, line 3" in text and "a number on line 2" in text
    assert "a list of strings on line 4" in text


def test_strings_that_sometimes_look_like_dates_are_strings():
    schema = infer(rows({"code": "2012-05"}, {"code": "B-12"}))
    assert schema.field("code").kind == "category"
    assert schema.validate({"code": "2014-01"})[0] == {"code": "2014-01"}


@pytest.mark.parametrize(("raw", "problem"), [
    ({"year": "soon"}, "metadata.year: expected a number, got a string"),
    ({"year": 2012.5}, "metadata.year: a whole number"),
    ({"year": 1200}, "metadata.year: a number between 1870 and 2100"),
    ({"runtime_min": float("nan")}, "metadata.runtime_min: expected a finite number"),
    ({"runtime_min": 10**400}, "metadata.runtime_min: a number between"),
    ({"director": 3}, "metadata.director: expected a string, got a number"),
    ({"director": "x" * 201}, "metadata.director: a string of at most 200 characters"),
    ({"keywords": "heist"}, "metadata.keywords: expected a list of strings, got a string"),
    ({"keywords": ["a", 1]}, "metadata.keywords: expected a list of strings, got an item that is a number"),
    ({"keywords": ["k"] * 201}, "metadata.keywords: a list of at most 200 items"),
    ({"release": "May 2012"}, "metadata.release: expected a date (YYYY-MM-DD or YYYY-MM), got a string"),
    ({"director": {"name": "x"}}, "metadata.director: expected a number, a string, a date or a list"),
    ({"score": True}, "metadata.score: expected a number, a string, a date or a list of strings, got a boolean"),
])
def test_a_bad_value_is_an_error_naming_the_field_and_what_was_expected(raw, problem):
    schema = infer(rows({"year": 2000, "runtime_min": 90.0, "director": "A", "keywords": ["k"],
                         "release": "2000-01-01", "score": 1.5}))
    with pytest.raises(MetadataError) as err:
        schema.validate(raw)
    assert problem in str(err.value)


def test_every_bad_field_is_named_at_once_and_unknown_fields_are_set_aside():
    with pytest.raises(MetadataError) as err:
        LEGACY_SCHEMA.validate({"num_voted_users": -1, "imdb_score": 11, "director": "X"})
    assert "metadata.num_voted_users" in str(err.value) and "metadata.imdb_score" in str(err.value)
    values, ignored = LEGACY_SCHEMA.validate({"year": 2001, "director": "X", "gross_usd": None})
    assert values == {"year": 2001, "gross_usd": None} and ignored == ["director"]
    with pytest.raises(MetadataError, match="expected a JSON object"):
        LEGACY_SCHEMA.validate(["year", 2001])


def test_dataset_values_are_checked_by_their_imdb_spec_or_generically():
    assert check_value("year", 2012.0) == 2012 and check_value("keywords", ["a"]) == ["a"]
    assert check_value("anything", None) is None
    for name, value in (("year", -5), ("studio", float("inf")), ("", 1), ("x" * 65, 1)):
        with pytest.raises(ValueError):
            check_value(name, value)


def test_the_schema_round_trips_through_json():
    schema = infer(rows({"year": 2000, "keywords": ["a"], "release": "2000-01"}))
    assert MetadataSchema.from_dict(schema.to_dict()) == schema
