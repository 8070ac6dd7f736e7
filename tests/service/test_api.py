"""The real service over HTTP: good bundles, every missing part, and bad input that must not hurt it."""

import json

import httpx
import pytest

from models.genres import GENRES

META = {"year": 2012, "runtime_min": 118, "content_rating": "PG-13", "num_voted_users": 1200}
PLOT = "A haunted house, a scream in the night and a ghost that will not leave the family alone."


def post(server, trailer=None, poster=None, plot=None, metadata=None, headers=None, trailer_name=None):
    files = {}
    if trailer is not None:
        files["trailer"] = (trailer_name or trailer.name, trailer.read_bytes(), "application/octet-stream")
    if poster is not None:
        files["poster"] = (poster.name, poster.read_bytes(), "application/octet-stream")
    data = {k: v for k, v in {"plot": plot, "metadata": metadata}.items() if v is not None}
    return httpx.post(f"{server.url}/v1/predict", files=files, data=data, headers=headers, timeout=60)


def assert_valid(body, used):
    assert [g["genre"] for g in body["genres"]] != [] and {g["genre"] for g in body["genres"]} == set(GENRES)
    scores = [g["score"] for g in body["genres"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert body["used_modalities"] == used
    assert set(body["modalities"]) == set(used)
    assert set(body["used_modalities"]) | set(body["missing_modalities"]) == {"video", "audio", "poster", "text", "metadata"}
    assert body["timings_ms"]["total"] > 0 and "decode" in body["timings_ms"]


def test_full_bundle(server, media_dir):
    r = post(server, media_dir / "good.mp4", media_dir / "poster.jpg", PLOT, json.dumps(META))
    assert r.status_code == 200, r.text
    assert_valid(r.json(), ["video", "audio", "poster", "text", "metadata"])


@pytest.mark.parametrize("drop", ["poster", "plot", "metadata", "all"])
def test_missing_parts(server, media_dir, drop):
    parts = {"poster": media_dir / "poster.png", "plot": PLOT, "metadata": json.dumps(META)}
    parts = {} if drop == "all" else {k: v for k, v in parts.items() if k != drop}
    r = post(server, media_dir / "good.mp4", **parts)
    assert r.status_code == 200, r.text
    used = ["video", "audio"] + [m for m, k in (("poster", "poster"), ("text", "plot"), ("metadata", "metadata"))
                                 if k in parts]
    assert_valid(r.json(), used)


def test_trailer_without_audio_and_other_containers(server, media_dir):
    r = post(server, media_dir / "silent.mp4", plot=PLOT)
    assert r.status_code == 200, r.text
    assert_valid(r.json(), ["video", "text"])
    assert "audio" in r.json()["missing_modalities"]
    assert post(server, media_dir / "good.mkv").status_code == 200


BAD = [
    ("empty.mp4", {}, 415, "empty"),
    ("text.mp4", {}, 415, "not a video"),
    ("truncated.mp4", {}, 415, None),
    ("audio.m4a", {}, 415, "audio-only"),
    ("playlist.mp4", {}, 415, None),
    ("concat.mp4", {}, 415, None),
    ("good.mp4", {"poster": "text.mp4"}, 415, "poster"),
    ("good.mp4", {"poster": "poster.gif"}, 415, None),
    ("good.mp4", {"metadata": "{not json"}, 422, "metadata"),
    ("good.mp4", {"metadata": '{"year": "last year"}'}, 422, "metadata.year"),
    ("good.mp4", {"metadata": '{"num_voted_users": -5}'}, 422, "metadata.num_voted_users"),
    ("good.mp4", {"metadata": "[1, 2]"}, 422, "metadata"),
]


@pytest.mark.parametrize(("trailer", "extra", "status", "needle"), BAD)
def test_bad_input_gets_a_clear_4xx_and_the_service_stays_up(server, media_dir, trailer, extra, status, needle):
    kwargs = {k: (media_dir / v if k == "poster" else v) for k, v in extra.items()}
    r = post(server, media_dir / trailer, **kwargs)
    assert r.status_code in (status, 422 if status == 415 else status), r.text
    detail = r.json()["detail"]
    if needle:
        assert needle in str(detail)
    assert post(server, media_dir / "good.mp4").status_code == 200
    assert list(server.tmp_dir.iterdir()) == []


def test_missing_trailer_and_oversized_uploads(server, media_dir, tmp_path):
    assert post(server, poster=media_dir / "poster.jpg").status_code == 422
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (1024 * 1024 + 10))
    r = post(server, big)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    big_poster = tmp_path / "big.jpg"
    big_poster.write_bytes(b"\xff" * (600 * 1024))
    assert post(server, media_dir / "good.mp4", big_poster).status_code == 413
    assert post(server, media_dir / "good.mp4").status_code == 200
    assert list(server.tmp_dir.iterdir()) == []


def test_health_model_metrics_and_docs(server):
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert httpx.get(f"{server.url}/readyz").json() == {"ready": True}
    model = httpx.get(f"{server.url}/v1/model").json()
    assert model["genres"] == list(GENRES) and set(model["thresholds"]) == set(GENRES)
    assert "all (learned)" in model["evaluation"]["rows"]
    assert sum(model["contributions"].values()) == pytest.approx(1.0)
    text = httpx.get(f"{server.url}/metrics").text
    assert 'moviescope_requests_total{route="/v1/predict"' in text
    assert "moviescope_stage_seconds_bucket" in text and "moviescope_model_info" in text
    schema = httpx.get(f"{server.url}/openapi.json").json()
    body = json.dumps(schema)
    assert all(field in body for field in ("trailer", "poster", "plot", "metadata"))
    assert httpx.get(f"{server.url}/docs").status_code == 200
