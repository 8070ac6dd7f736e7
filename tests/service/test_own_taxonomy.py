"""A catalogue with its own genres and fields, end to end: it trains, evaluates, serves and explains, and
every answer speaks its genres, in its order, and validates its metadata against its own schema."""

import json
import shutil

import pytest

from training.config import load_config
from training.evaluate import run_evaluation
from training.train import train

pytestmark = pytest.mark.slow
# each of the catalogue's genres stands for some of the synthetic benchmark's: its media carry their evidence
OWN = {"Western": ("Action", "Crime"), "Drama": ("Drama", "Romance", "Biography"),
       "Chiller": ("Horror", "Thriller", "Mystery"), "Comedy": ("Comedy", "Family", "Animation"),
       "Documentary": ("Sci-Fi",), "Fantasy": ("Fantasy",)}
ORDER = ["Western", "Drama", "Chiller", "Comedy", "Documentary", "Fantasy"]
MODELS = {"video": {"params": {"frame_size": 32, "n_frames": 4, "epochs": 5}},
          "audio": {"params": {"n_mels": 16, "clip_seconds": 1.0, "n_clips": 2, "epochs": 2}},
          "text_title": {"params": {}}, "metadata": {"params": {"n_estimators": 10}},
          **{name: None for name in ("video_tempconv", "video_lstm", "video_bilstm", "motion", "poster", "text",
                                     "text_fasttext", "text_minilm", "text_conv1d", "metadata_rf")}}


def own_row(row: dict) -> dict:
    genres = [own for own, parts in OWN.items() if set(parts) & set(row["genres"])] or ["Drama"]
    metadata = {k: v for k, v in (row.get("metadata") or {}).items() if k in ("year", "runtime_min")}
    metadata["keywords"] = [g.lower() for g in genres] + ["film"]  # a list field that carries the genres
    return {**row, "genres": genres, "metadata": metadata, "title": f"{row['title']} ({genres[0]})"}


@pytest.fixture(scope="module")
def own_artifacts(tiny_dataset, tiny_artifacts, tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    shutil.copytree(tiny_artifacts.parent / "cache", root / "cache")  # the same media's features: decoded once
    data = root / "data"
    data.mkdir()
    for media in ("trailers", "posters"):
        (data / media).symlink_to(tiny_dataset / media)
    rows = [json.loads(line) for line in (tiny_dataset / "movies.jsonl").read_text().splitlines()]
    (data / "movies.jsonl").write_text("".join(json.dumps(own_row(r)) + "\n" for r in rows))
    (data / "dataset.json").write_text(json.dumps({"genres": ORDER, "description": "a catalogue of its own"}))
    config = root / "config.json"
    config.write_text(json.dumps({"models": MODELS, "min_genre_positives": 1}))
    manifest = train(data, root / "artifacts", load_config(config), "cpu", root / "cache")
    return data, root / "artifacts", manifest


@pytest.fixture(scope="module")
def own_server(own_artifacts, start_module_server):
    return start_module_server(own_artifacts[1]).wait_ready()


def test_the_artifact_and_the_report_speak_its_genres_in_its_order(own_artifacts, tmp_path):
    data, artifacts, manifest = own_artifacts
    kept = [g for g in ORDER if g not in manifest["left_out_genres"]]
    assert manifest["genres"] == kept and len(kept) >= 4
    assert [f["name"] for f in manifest["metadata_schema"]["fields"]] == ["year", "runtime_min", "keywords"]
    report = run_evaluation(data, artifacts, "test", tmp_path / "report", artifacts.parent / "cache")
    assert report["genres"] == kept and list(report["rows"][0]["per_genre_ap"]) == kept
    assert "| model | Western | Drama |" in (tmp_path / "report" / "report.md").read_text()


def test_it_serves_and_explains_its_own_genres(own_server, own_artifacts, media_dir):
    genres = own_artifacts[2]["genres"]
    model = own_server.get("/v1/model").json()
    assert model["genres"] == genres and model["reads"] == ["trailer", "plot", "title", "metadata"]
    assert [f["name"] for f in model["metadata_fields"]] == ["year", "runtime_min", "keywords"]
    meta = json.dumps({"year": 2001, "keywords": ["western", "film"]})
    answer = own_server.predict(media_dir / "good.mp4", media_dir / "poster.jpg", metadata=meta, title="A ride").json()
    assert sorted(g["genre"] for g in answer["genres"]) == sorted(genres)
    assert all(list(scores) == genres for scores in answer["modalities"].values())
    assert answer["used_modalities"] == ["video", "audio", "text", "metadata"]
    assert answer["ignored_parts"] == ["poster"] and answer["ignored_fields"] == []
    explained = own_server.predict(media_dir / "good.mp4", title="A ride", route="/v1/explain", genres="western")
    assert explained.status_code == 200, explained.text
    assert explained.json()["explanation"]["genres"] == ["Western"]
    with_list = own_server.predict(title="A ride", metadata=meta, route="/v1/explain", genres="western")
    assert with_list.status_code == 200, with_list.text  # a list field's value in the explanation, as given
    fields = {c["field"]: c["value"] for c in with_list.json()["explanation"]["metadata"]["Western"]}
    # each field the trees use, with its value as sent (None: not sent); one they never use is left out
    assert fields["keywords"] == ["western", "film"] and all(v == json.loads(meta).get(f) for f, v in fields.items())
    refused = own_server.predict(media_dir / "good.mp4", route="/v1/explain", genres="Sci-Fi")
    assert refused.status_code == 422 and "Sci-Fi" in refused.text and ", ".join(genres) in refused.text


def test_its_metadata_schema_is_enforced_and_unknown_fields_are_listed(own_server):
    wrong = own_server.predict(metadata=json.dumps({"keywords": "western", "year": "soon"}))
    assert wrong.status_code == 422
    assert "metadata.keywords: expected a list of strings" in wrong.text and "metadata.year" in wrong.text
    answer = own_server.predict(metadata=json.dumps({"year": 1999, "director": "X", "studio": "Y"}))
    assert answer.status_code == 200, answer.text
    assert answer.json()["ignored_fields"] == ["director", "studio"]
    assert answer.json()["used_modalities"] == ["metadata"]


def test_bundles_without_a_trailer_and_an_empty_one(own_server, media_dir):
    title_only = own_server.predict(title="The Long Ride West")
    assert title_only.status_code == 200, title_only.text
    assert title_only.json()["used_modalities"] == ["text"]
    poster_only = own_server.predict(poster=media_dir / "poster.jpg")
    assert poster_only.status_code == 422
    assert "this model reads trailer, plot, title or metadata; it has poster" in poster_only.text
    empty = own_server.predict()
    assert empty.status_code == 422 and "it is empty" in empty.text
    unknown_only = own_server.predict(metadata=json.dumps({"director": "X"}))
    assert unknown_only.status_code == 422 and "it is empty" in unknown_only.text


def test_the_design_cards_route_answers_as_v1(own_server):
    form = {"title": "The Long Ride West", "metadata": json.dumps({"year": 1960, "keywords": ["western"]})}
    v1, alias = (own_server.predict(route=route, **form) for route in ("/v1/predict", "/predict"))
    assert alias.status_code == v1.status_code == 200
    strip = lambda body: {k: v for k, v in body.items() if k != "timings_ms"}
    assert strip(alias.json()) == strip(v1.json())
    spec = own_server.get("/openapi.json").json()
    assert "/predict" in spec["paths"] and "/v1/predict" in spec["paths"]
