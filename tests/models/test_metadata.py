"""MetadataEncoder on tiny made-up catalogues where fields decide the labels."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from models.bundle import Bundle
from models.genres import MOVIESCOPE
from models.metadata import MetadataEncoder, with_absent_copies
from models.metadata_forest import MetadataForestEncoder


def catalogue(n: int, seed: int) -> tuple[list[Bundle], np.ndarray]:
    """Action: long and expensive; Comedy: rated PG; Drama: French; every movie is Thriller."""
    rng = np.random.default_rng(seed)
    bundles, genres = [], []
    for i in range(n):
        action, comedy, drama = rng.random(3) < 0.4
        meta = {
            "year": int(rng.integers(1980, 2020)),
            "runtime_min": float(140 if action else 95) + rng.normal(0, 5),
            "budget_usd": float(1e8 if action else 1e7) * rng.uniform(0.5, 2),
            "content_rating": "PG" if comedy else str(rng.choice(["R", "PG-13"])),
            "language": "French" if drama else "English",
            "country": "Narnia" if i == 0 else "USA",  # seen once: below the vocabulary's minimum count
            "imdb_score": None if i % 7 == 0 else float(rng.uniform(4, 8)),
            "num_voted_users": int(rng.integers(100, 10**6)),
        }
        bundles.append(Bundle(id=f"m{i}", metadata=meta))
        genres.append([g for g, on in (("Action", action), ("Comedy", comedy), ("Drama", drama)) if on]
                      + ["Thriller"])
    return bundles, MOVIESCOPE.matrix(genres)


@pytest.fixture(scope="module")
def data():
    return catalogue(80, seed=0), catalogue(30, seed=1), catalogue(40, seed=2)


@pytest.fixture(scope="module")
def fitted(data):
    (bundles, y), (val, y_val), _ = data
    encoder = MetadataEncoder(n_estimators=40, early_stopping_rounds=10)
    assert encoder.fit(bundles, y, val, y_val) is encoder
    return encoder


def test_has_input():
    assert not MetadataEncoder().has_input(Bundle(id="none"))
    assert not MetadataEncoder().has_input(Bundle(id="empty", metadata={"year": None}))  # nothing to read
    assert MetadataEncoder().has_input(Bundle(id="one", metadata={"year": None, "studio": "A"}))


def test_it_learns_the_planted_fields(fitted, data):
    *_, (test, y_test) = data
    proba = fitted.predict_proba(test)
    for genre in ("Action", "Comedy", "Drama"):
        j = MOVIESCOPE.index(genre)
        assert proba[y_test[:, j] == 1, j].mean() > proba[y_test[:, j] == 0, j].mean() + 0.3


def test_constant_genres_score_their_training_prior(fitted, data):
    *_, (test, _) = data
    proba = fitted.predict_proba(test)
    unseen = [j for j, g in enumerate(MOVIESCOPE) if g not in ("Action", "Comedy", "Drama", "Thriller")]
    assert (proba[:, unseen] == 0).all()
    assert (proba[:, MOVIESCOPE.index("Thriller")] == 1).all()
    assert set(fitted.boosters_) == {"Action", "Comedy", "Drama"}


def test_vocabulary_keeps_frequent_values_only(fitted):
    assert fitted.categories_["country"] == ["USA"]
    assert set(fitted.categories_["content_rating"]) == {"PG", "PG-13", "R"}


def test_missing_and_unknown_fields_still_predict(fitted):
    odd = [Bundle(id="empty", metadata={}),
           Bundle(id="new", metadata={"content_rating": "NC-17", "language": "Klingon", "country": "Mars"})]
    proba = fitted.predict_proba(odd)
    assert proba.shape == (2, len(MOVIESCOPE)) and np.isfinite(proba).all()


def test_boosters_are_saved_as_xgboost_json(fitted, tmp_path):
    fitted.save(tmp_path / "metadata")
    saved = list((tmp_path / "metadata").glob("xgb-*.json"))
    assert len(saved) == len(fitted.boosters_)
    for path in saved:
        json.loads(path.read_text())  # XGBoost's own JSON, no pickle


def test_early_stopping_keeps_only_the_used_rounds(fitted):
    assert all(b.num_boosted_rounds() <= 40 for b in fitted.boosters_.values())


def test_fit_without_validation(data):
    (bundles, y), *_ = data
    encoder = MetadataEncoder(n_estimators=5).fit(bundles, y)
    assert all(b.num_boosted_rounds() == 5 for b in encoder.boosters_.values())


def keyword_catalogue(n: int, seed: int) -> tuple[list[Bundle], np.ndarray]:
    """Crime movies carry the keyword "heist" among noise keywords; Horror ones were released in October."""
    rng = np.random.default_rng(seed)
    noise = ["love", "city", "friendship", "road", "family", "war"]
    bundles, y = [], np.zeros((n, 2), dtype=np.float32)
    for i in range(n):
        crime, horror = rng.random(2) < 0.4
        keywords = list(rng.choice(noise, 2, replace=False)) + (["heist"] if crime and rng.random() < 0.9 else [])
        month = 10 if horror else int(rng.integers(1, 10))
        bundles.append(Bundle(id=f"k{i}", metadata={"keywords": keywords, "release": f"2010-{month:02d}-15",
                                                    "studio": str(rng.choice(["A", "B"]))}))
        y[i] = crime, horror
    return bundles, y


def test_list_and_date_fields_are_learned_where_they_carry_evidence(tmp_path):
    bundles, y = keyword_catalogue(200, seed=1)
    encoder = MetadataEncoder(n_estimators=50).set_genres(["Crime", "Horror"]).fit(bundles, y)
    assert [f.kind for f in encoder.schema_.fields] == ["list", "date", "category"]
    assert "heist" in encoder.categories_["keywords"]
    with_heist = Bundle(id="a", metadata={"keywords": ["road", "heist"], "release": "2010-03-01"})
    without = Bundle(id="b", metadata={"keywords": ["road", "love"], "release": "2010-03-01"})
    october = Bundle(id="c", metadata={"keywords": ["road"], "release": "2010-10-20"})
    proba = encoder.predict_proba([with_heist, without, october])
    assert proba[0, 0] > proba[1, 0] + 0.4  # Crime follows the keyword
    assert proba[2, 1] > proba[1, 1] + 0.4  # Horror follows the release month
    held_out, y_test = keyword_catalogue(200, seed=2)
    from sklearn.metrics import average_precision_score

    assert average_precision_score(y_test[:, 0], encoder.predict_proba(held_out)[:, 0]) > 0.9
    top = encoder.explain(dict(with_heist.metadata), ["Crime"])["Crime"][0]
    assert top["field"] == "keywords" and top["value"] == ["road", "heist"]
    encoder.save(tmp_path / "m")
    again = MetadataEncoder.load(tmp_path / "m")
    assert again.schema_ == encoder.schema_ and again.genres_.names == ("Crime", "Horror")
    assert np.array_equal(again.predict_proba([with_heist, october]), encoder.predict_proba([with_heist, october]))


def test_an_artifact_saved_before_schemas_reads_the_imdb_fields_in_their_old_order(tmp_path):
    """Older artifacts' metadata models have no schema in their state and name each genre's file after the
    genre: they load as LEGACY_SCHEMA and score exactly as the model saved today does."""
    from models.schema import IMDB_FIELDS, LEGACY_SCHEMA

    rng = np.random.default_rng(3)
    bundles = [Bundle(id=f"m{i}", metadata={name: (str(rng.choice(["a", "b"])) if spec.kind == "category" else
                                                   float(rng.integers(0, 10) + spec.minimum))
                                            for name, spec in IMDB_FIELDS.items()}) for i in range(80)]
    y = (rng.random((80, len(MOVIESCOPE))) < 0.4).astype(np.float32)
    encoder = MetadataEncoder(n_estimators=10, min_category_count=1).fit(bundles, y)
    assert encoder.schema_ == LEGACY_SCHEMA
    encoder.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    for genre, name in config["state"].pop("files").items():
        (tmp_path / "m" / name).rename(tmp_path / "m" / f"xgb-{genre.lower()}.json")
    del config["state"]["schema"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    old = MetadataEncoder.load(tmp_path / "m")
    assert old.schema_ == LEGACY_SCHEMA
    assert np.array_equal(old.predict_proba(bundles), encoder.predict_proba(bundles))


def test_absent_copies_drop_whole_field_groups():
    X = [{"year": 2000, "audience_1": 0.1, "audience_2": 0.2, "rating_share_1": 5.0, "genre_flag": "x"}] * 40
    Y = np.ones((40, 2))
    rows, labels = with_absent_copies(X, Y, copies=2, seed=0)
    assert rows[:40] == X and len(rows) == 120 and labels.shape == (120, 2)
    copies = rows[40:]
    assert all(("audience_1" in r) == ("audience_2" in r) for r in copies)  # numbered fields travel together
    assert any("year" not in r for r in copies) and any("year" in r for r in copies)
    assert with_absent_copies(X, Y, copies=0, seed=0) == (X, Y)


def test_a_model_trained_with_absent_copies_does_not_rely_on_one_field_being_sent():
    """Action follows the runtime and the budget alike; trees without copies split on the runtime and, asked
    with the budget only, guess (AP 0.45 when written); with copies they learned the budget too."""
    (bundles, y), (val, y_val), (test, y_test) = catalogue(200, seed=3), catalogue(60, seed=4), catalogue(80, seed=5)
    from sklearn.metrics import average_precision_score

    budget_only = [Bundle(id=b.id, metadata={"budget_usd": b.metadata["budget_usd"]}) for b in test]
    action = MOVIESCOPE.index("Action")
    aps = {}
    for copies in (0, 1):
        encoder = MetadataEncoder(n_estimators=40, absent_copies=copies).fit(bundles, y, val, y_val)
        aps[copies] = average_precision_score(y_test[:, action], encoder.predict_proba(budget_only)[:, action])
    assert aps[1] > 0.9 > aps[0]


ABSENT_COPIES = """
import json, numpy as np
from models.metadata import with_absent_copies
rows = [{"budget": 1.0, "year": 2000, "rating_share_1": 0.1, "rating_share_2": 0.2, "mpaa": "R", "votes": 9.0}] * 20
copies, _ = with_absent_copies(rows, np.zeros((20, 2)), copies=2, seed=0)
print(json.dumps(copies))
"""


def test_absent_copies_do_not_depend_on_the_processes_string_hashes():
    # training the same data with the same seed must give the same model in every process
    root = Path(__file__).resolve().parents[2]
    outputs = {subprocess.run([sys.executable, "-c", ABSENT_COPIES], cwd=root, capture_output=True, text=True,
                              check=True, timeout=60, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2", "3")}
    assert len(outputs) == 1


# ---- the RandomForest row: the boosted model's fields and format, a forest's trees
@pytest.fixture(scope="module")
def forest():
    bundles, y = catalogue(80, seed=0)
    val, y_val = catalogue(30, seed=1)
    return MetadataForestEncoder(n_trees=30, seed=0).set_genres(MOVIESCOPE).fit(bundles, y, val, y_val)


def test_the_forest_learns_the_planted_fields(forest):
    test, y_test = catalogue(40, seed=2)
    proba = forest.predict_proba(test)
    assert proba.shape == (40, len(MOVIESCOPE)) and np.isfinite(proba).all()
    for genre in ("Action", "Comedy", "Drama"):
        j = MOVIESCOPE.index(genre)
        assert proba[y_test[:, j] == 1, j].mean() > proba[y_test[:, j] == 0, j].mean() + 0.3


def test_each_genre_is_one_round_of_parallel_trees(forest):
    for booster in forest.boosters_.values():
        config = json.loads(booster.save_config())
        assert booster.num_boosted_rounds() == 1
        assert config["learner"]["gradient_booster"]["gbtree_model_param"]["num_parallel_tree"] == "30"


def test_the_forest_is_saved_as_xgboost_json_and_loads_to_the_same_scores(forest, tmp_path):
    test, _ = catalogue(10, seed=3)
    forest.save(tmp_path / "forest")
    for path in (tmp_path / "forest").glob("xgb-*.json"):
        json.loads(path.read_text())
    loaded = MetadataForestEncoder.load(tmp_path / "forest")
    np.testing.assert_array_equal(loaded.predict_proba(test), forest.predict_proba(test))


def test_the_forests_contributions_sum_to_its_log_odds(forest):
    test, _ = catalogue(3, seed=4)
    j = MOVIESCOPE.index("Action")
    explained = forest.explain(forest.load_input(test[0]), ["Action"])["Action"]
    total = sum(item["contribution"] for item in explained)
    matrix = xgb.DMatrix(forest._matrix([test[0].metadata]), missing=np.nan)
    margin = forest.boosters_["Action"].predict(matrix, output_margin=True)[0]
    bias = forest.boosters_["Action"].predict(matrix, pred_contribs=True)[0, -1]
    assert total == pytest.approx(margin - bias, abs=1e-3)
    assert forest.predict_proba(test)[0, j] == pytest.approx(1 / (1 + np.exp(-margin)), abs=1e-5)
