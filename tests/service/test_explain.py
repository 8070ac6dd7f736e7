"""POST /v1/explain and `moviescope predict --explain` on the real service: the explanation's contract."""

import base64
import io
import json

import pytest
from PIL import Image

from models.schema import IMDB_FIELDS
from models.text import normalise_text
from service.cli import main

EXPLAIN = "/v1/explain"
META = {"year": 2012, "runtime_min": 118, "content_rating": "PG-13", "num_voted_users": 1200}
PLOT = "A haunted house, a scream in the night and a ghost that will not leave the family alone."
FRAME_SIZE = 32  # the tiny video model's decoded frames (tests/conftest.py)


def png(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data, validate=True)))


@pytest.fixture(scope="module")
def full(server, media_dir) -> dict:
    r = server.predict(media_dir / "good.mp4", media_dir / "poster.jpg", PLOT, json.dumps(META), route=EXPLAIN)
    assert r.status_code == 200, r.text
    return r.json()


def test_explain_answers_what_predict_answers(server, media_dir, full):
    predicted = server.predict(media_dir / "good.mp4", media_dir / "poster.jpg", PLOT, json.dumps(META)).json()
    assert [g["genre"] for g in full["genres"]] == [g["genre"] for g in predicted["genres"]]
    assert [g["score"] for g in full["genres"]] == pytest.approx([g["score"] for g in predicted["genres"]], abs=1e-6)
    assert list(full["modalities"]) == list(predicted["modalities"])
    for modality, scores in full["modalities"].items():
        assert scores == pytest.approx(predicted["modalities"][modality], abs=1e-6)
    assert full["used_modalities"] == ["video", "audio", "poster", "text", "metadata"]
    assert {f"explain_{m}" for m in full["used_modalities"]} <= set(full["timings_ms"])


def test_fusion_shares_sum_to_one_and_rebuild_the_score(full):
    explanation = full["explanation"]
    assert explanation["genres"] == [g["genre"] for g in full["genres"][:3]]  # the top 3 by default
    score = {g["genre"]: g["score"] for g in full["genres"]}
    for genre in explanation["genres"]:
        part = explanation["fusion"][genre]
        assert list(part["shares"]) == full["used_modalities"]
        assert sum(part["shares"].values()) == pytest.approx(1.0) and min(part["shares"].values()) >= 0
        assert part["score"] == pytest.approx(score[genre], abs=1e-6)
        assert part["scores"] == pytest.approx({m: full["modalities"][m][genre] for m in full["used_modalities"]})


def test_masks_have_their_images_size(full):
    video, poster = full["explanation"]["video"], full["explanation"]["poster"]
    genres = full["explanation"]["genres"]
    assert len(video["times_s"]) == 4 and all(len(video["importance"][g]) == 4 for g in genres)
    assert [h["genre"] for h in video["heatmaps"]] == [g for g in genres for _ in range(3)]
    for h in video["heatmaps"]:
        assert png(h["mask_png"]).size == (FRAME_SIZE, FRAME_SIZE) and png(h["mask_png"]).mode == "L"
        assert png(h["overlay_png"]).size == (96, 64)  # the trailer's own aspect (96x64)
        assert h["time_s"] == pytest.approx(video["times_s"][h["frame"]])
    assert (poster["width"], poster["height"]) == (40, 60)  # the uploaded poster's own size
    assert [h["genre"] for h in poster["heatmaps"]] == genres
    assert all(png(h["mask_png"]).size == (40, 60) and "time_s" not in h for h in poster["heatmaps"])


def test_tokens_come_from_the_plot_and_fields_are_real(full):
    explanation = full["explanation"]
    words = set(normalise_text(PLOT).split())
    for genre in explanation["genres"]:
        tokens = explanation["text"][genre]
        assert tokens and all(set(t["token"].split()) <= words for t in tokens)
        assert [abs(t["weight"]) for t in tokens] == sorted((abs(t["weight"]) for t in tokens), reverse=True)
        for row in explanation["metadata"][genre]:
            assert row["field"] in IMDB_FIELDS and row["value"] == META.get(row["field"])
        audio = explanation["audio"]
        assert len(audio["importance"][genre]) == len(audio["times_s"]) and audio["window_s"] > 0


def test_a_trailer_without_soundtrack_or_poster_has_no_such_parts(server, media_dir):
    r = server.predict(media_dir / "silent.mp4", plot=PLOT, route=EXPLAIN, genres="horror, Sci-Fi")
    assert r.status_code == 200, r.text
    explanation = r.json()["explanation"]
    assert set(explanation) == {"genres", "fusion", "video", "text"}  # absent, not null
    assert explanation["genres"] == ["Horror", "Sci-Fi"]
    assert all(list(explanation["fusion"][g]["shares"]) == ["video", "text"] for g in ("Horror", "Sci-Fi"))


def test_an_unknown_genre_is_a_422_before_any_work(server, media_dir):
    r = server.predict(media_dir / "good.mp4", route=EXPLAIN, genres="Horror,Western")
    assert r.status_code == 422 and "'Western'" in r.json()["detail"] and "Sci-Fi" in r.json()["detail"]
    assert server.leftovers() == []


def test_openapi_documents_the_explanation(server):
    schema = server.get("/openapi.json").json()
    operation = schema["paths"][EXPLAIN]["post"]
    assert {"200", "401", "413", "415", "422", "503"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].split("/")[-1]
    assert set(schema["components"]["schemas"][body]["properties"]) == {"trailer", "poster", "plot", "title",
                                                                        "metadata", "genres"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    explanation = schema["components"]["schemas"][answer]["properties"]["explanation"]
    parts = schema["components"]["schemas"][explanation["$ref"].split("/")[-1]]["properties"]
    assert set(parts) == {"genres", "fusion", "video", "motion", "audio", "poster", "text",
                         "metadata"}
    heatmap = schema["components"]["schemas"]["Heatmap"]["properties"]
    assert {"genre", "time_s", "overlay_png", "mask_png", "width", "height"} <= set(heatmap)


def test_cli_writes_the_json_and_the_images(tiny_artifacts, media_dir, tmp_path, capsys):
    out = tmp_path / "why"
    code = main(["-q", "predict", "--artifacts", str(tiny_artifacts), "--trailer", str(media_dir / "good.mp4"),
                 "--poster", str(media_dir / "poster.png"), "--plot", PLOT, "--explain", "--genres", "Drama",
                 "--out", str(out), "--device", "cpu"])
    assert code == 0
    result = json.loads((out / "explanation.json").read_text())
    assert json.loads(capsys.readouterr().out) == result
    assert result["explanation"]["genres"] == ["Drama"] and set(result["genres"][0]) == {"genre", "score", "predicted"}
    heatmaps = result["explanation"]["video"]["heatmaps"] + result["explanation"]["poster"]["heatmaps"]
    assert len(heatmaps) == 4 and not any("mask_png" in h or "overlay_png" in h for h in heatmaps)
    for h in heatmaps:
        assert Image.open(out / h["mask_file"]).size == (h["width"], h["height"])
        assert Image.open(out / h["overlay_file"]).format == "PNG"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["explanation.json", *(h["mask_file"] for h in heatmaps), *(h["overlay_file"] for h in heatmaps)])


@pytest.mark.parametrize(("flags", "message"), [
    (["--explain"], "--explain needs --out"), (["--genres", "Drama"], "--genres goes with --explain"),
    (["--explain", "--out", "{tmp}/x", "--genres", "Drama,Western"], "unknown genre 'Western'")])
def test_cli_explain_usage_errors(tiny_artifacts, media_dir, tmp_path, capsys, flags, message):
    flags = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    code = main(["predict", "--artifacts", str(tiny_artifacts), "--trailer", str(media_dir / "good.mp4"), *flags])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()

