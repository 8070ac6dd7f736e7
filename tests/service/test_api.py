"""The real service over HTTP: good bundles, every missing part, and bad input that must not hurt it."""

import json
import socket

import pytest

from models.backbones import LITE0_SHA256
from models.genres import MOVIESCOPE

MODALITIES = ["video", "audio", "poster", "text", "metadata"]
ROUTES = ["/v1/predict", "/v1/explain"]  # the same form, so the same answers to bad input
META = {"year": 2012, "runtime_min": 118, "content_rating": "PG-13", "num_voted_users": 1200}
PLOT = "A haunted house, a scream in the night and a ghost that will not leave the family alone."


def check_result(body: dict, used: list[str], thresholds: dict[str, float]) -> None:
    assert sorted(g["genre"] for g in body["genres"]) == sorted(MOVIESCOPE)
    scores = [g["score"] for g in body["genres"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert all(g["predicted"] == (g["score"] >= thresholds[g["genre"]]) for g in body["genres"])
    assert body["used_modalities"] == used
    assert body["missing_modalities"] == [m for m in MODALITIES if m not in used]
    assert list(body["modalities"]) == used
    assert all(list(scores) == list(MOVIESCOPE) for scores in body["modalities"].values())
    assert set(body["timings_ms"]) == {"decode", "typicality", "fusion", "total", *used}
    assert body["timings_ms"]["total"] >= body["timings_ms"]["decode"] > 0


@pytest.fixture(scope="module")
def thresholds(server) -> dict[str, float]:
    return server.get("/v1/model").json()["thresholds"]


def test_full_bundle(server, media_dir, thresholds):
    r = server.predict(media_dir / "good.mp4", media_dir / "poster.jpg", PLOT, json.dumps(META))
    assert r.status_code == 200, r.text
    check_result(r.json(), MODALITIES, thresholds)
    assert r.json()["model_version"] == server.get("/v1/model").json()["model_version"]


@pytest.mark.parametrize("keep", [(), ("poster", "metadata"), ("plot", "metadata"), ("poster", "plot")],
                         ids=["trailer-only", "no-plot", "no-poster", "no-metadata"])
def test_missing_parts(server, media_dir, thresholds, keep):
    parts = {"poster": media_dir / "poster.png", "plot": PLOT, "metadata": json.dumps(META)}
    r = server.predict(media_dir / "good.mp4", **{k: v for k, v in parts.items() if k in keep})
    assert r.status_code == 200, r.text
    present = {"poster": "poster", "plot": "text", "metadata": "metadata"}
    used = ["video", "audio"] + [modality for part, modality in present.items() if part in keep]
    check_result(r.json(), used, thresholds)


def test_a_bundle_without_a_trailer(server, media_dir, thresholds):
    r = server.predict(poster=media_dir / "poster.jpg", metadata=json.dumps({**META, "director": "X"}))
    assert r.status_code == 200, r.text
    check_result(r.json(), ["poster", "metadata"], thresholds)
    assert r.json()["ignored_fields"] == ["director"] and r.json()["ignored_parts"] == []
    r = server.predict(metadata=json.dumps(META), title="The Title")
    assert r.status_code == 200, r.text
    reads_title = "title" in server.get("/v1/model").json()["reads"]
    check_result(r.json(), ["text", "metadata"] if reads_title else ["metadata"], thresholds)
    assert r.json()["ignored_parts"] == ([] if reads_title else ["title"])


def test_trailer_without_audio_has_no_audio_modality(server, media_dir, thresholds):
    r = server.predict(media_dir / "silent.mp4", plot=PLOT)
    assert r.status_code == 200, r.text
    check_result(r.json(), ["video", "text"], thresholds)


def test_another_container(server, media_dir, thresholds):
    r = server.predict(media_dir / "good.mkv")
    assert r.status_code == 200, r.text
    check_result(r.json(), ["video", "audio"], thresholds)


# (trailer, other parts, status, words the message must contain)
BAD = {
    "empty file": ("empty.mp4", {}, 415, "empty"),
    "text renamed .mp4": ("text.mp4", {}, 415, "not a video"),
    "truncated mp4": ("truncated.mp4", {}, (415, 422), "trailer.mp4: "),
    "audio only": ("audio.m4a", {}, 415, "audio-only"),
    "HLS playlist renamed .mp4": ("playlist.mp4", {}, 415, "trailer.mp4: "),
    "ffconcat list renamed .mp4": ("concat.mp4", {}, 415, "trailer.mp4: "),
    "too wide": ("@wide.mp4", {}, 422, "resolution 1280x64"),
    "too long": ("@long.mp4", {}, 422, "duration"),
    "trailer too large": ("@big.mp4", {}, 413, "trailer: upload exceeds the limit of 1 MB"),
    "poster too large": ("good.mp4", {"poster": "@big.png"}, 413, "poster: upload exceeds the limit of 0.5"),
    "poster not an image": ("good.mp4", {"poster": "text.mp4"}, 415, "not an image"),
    "poster empty": ("good.mp4", {"poster": "empty.mp4"}, 415, "poster"),
    "poster GIF": ("good.mp4", {"poster": "poster.gif"}, 415, "JPEG"),
    "metadata not JSON": ("good.mp4", {"metadata": "{not json"}, 422, "metadata: not valid JSON"),
    "metadata not an object": ("good.mp4", {"metadata": "[1, 2]"}, 422, "metadata:"),
    "metadata wrong type": ("good.mp4", {"metadata": '{"year": "last year"}'}, 422, "metadata.year"),
    "metadata negative count": ("good.mp4", {"metadata": '{"num_voted_users": -5}'}, 422,
                                "metadata.num_voted_users"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("trailer", "extra", "status", "needle"), BAD.values(), ids=BAD.keys())
def test_bad_input_gets_a_clear_4xx(server, media_dir, limit_media, trailer, extra, status, needle, route):
    def path(name):
        return limit_media / name[1:] if name.startswith("@") else media_dir / name

    parts = {k: path(v) if k == "poster" else v for k, v in extra.items()}
    r = server.predict(path(trailer), **parts, route=route)
    assert r.status_code in (status if isinstance(status, tuple) else (status,)), r.text
    assert needle in r.json()["detail"]
    assert server.leftovers() == []


@pytest.mark.parametrize("route", ROUTES)
def test_form_errors(server, media_dir, route):
    r = server.predict(route=route)  # every part is optional, but a bundle needs one the model reads
    reads = server.get("/v1/model").json()["reads"]
    assert r.status_code == 422 and r.json()["detail"].startswith("nothing to score: this model reads trailer, ")
    assert r.json()["detail"].endswith(f"{reads[-2]} or {reads[-1]}; it is empty")
    r = server.predict(media_dir / "good.mp4", plot="x" * 20_001, route=route)
    assert r.status_code == 422 and "plot" in r.json()["detail"]


@pytest.mark.parametrize("route", ROUTES)
def test_declared_body_far_above_the_limit_is_refused_before_it_is_read(server, route):
    request = (f"POST {route} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: {server.headers['Authorization']}\r\n"
               "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000000\r\n\r\n--x\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"exceeds the limit" not in answer and (chunk := sock.recv(4096)):  # the server closes after it
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413") and b"exceeds the limit of 2.5 MB" in answer


def test_still_serving_after_bad_input(server, media_dir, thresholds):
    """Runs after the bad-input tests: the same process answers, and nothing is left on disk."""
    r = server.predict(media_dir / "good.mp4", media_dir / "poster.jpg", PLOT, json.dumps(META))
    assert r.status_code == 200, r.text
    check_result(r.json(), MODALITIES, thresholds)
    assert server.process.poll() is None and server.leftovers() == []
    metrics = server.get("/metrics").text
    assert 'moviescope_requests_total{route="/v1/predict",status="500"}' not in metrics


def test_api_key(server, media_dir):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        for route in ROUTES:
            r = server.predict(media_dir / "good.mp4", headers=headers, route=route)
            assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
        assert server.get("/v1/model", headers=headers).status_code == 401
    for open_path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert server.get(open_path, headers={}).status_code == 200


def test_health_and_model(server, tiny_artifacts):
    assert server.get("/healthz").json() == {"status": "alive"}
    assert server.get("/readyz").json() == {"ready": True}
    model = server.get("/v1/model").json()
    manifest = json.loads((tiny_artifacts / "manifest.json").read_text())
    assert model["model_version"] == manifest["model_version"]
    assert model["genres"] == list(MOVIESCOPE) and list(model["thresholds"]) == list(MOVIESCOPE)
    assert model["evaluation"] == manifest["evaluation"]
    assert set(model["serving_models"]) == set(MODALITIES) == set(model["fusion_weights"])
    assert sum(model["contributions"].values()) == pytest.approx(1.0)
    for modality in ("video", "poster"):  # the backbone and the checksum of the weights it read
        backbone = model["features"][modality]["backbone"]
        assert backbone["name"] == "efficientnet_lite0" and backbone["weights_sha256"] == LITE0_SHA256


def test_metrics(server, media_dir):
    assert server.predict(media_dir / "good.mp4").status_code == 200
    text = server.get("/metrics").text
    version = server.get("/v1/model").json()["model_version"]
    assert 'moviescope_requests_total{route="/v1/predict",status="200"}' in text
    assert 'moviescope_request_seconds_bucket{le="0.5",route="/v1/predict"}' in text
    for stage in ("decode", "video", "audio", "fusion", "total"):
        assert f'moviescope_stage_seconds_count{{stage="{stage}"}}' in text
    assert "moviescope_requests_in_flight " in text and "moviescope_predictions_in_flight 0.0" in text
    assert f'moviescope_model_info{{device="cpu",version="{version}"}} 1.0' in text


def test_docs_describe_the_multipart_fields(server):
    schema = server.get("/openapi.json").json()
    body = schema["paths"]["/v1/predict"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    form = schema["components"]["schemas"][body["$ref"].split("/")[-1]]
    assert "required" not in form  # any part may be absent
    for field in ("trailer", "poster", "plot", "title", "metadata"):
        assert form["properties"][field]["description"]
    assert {"401", "413", "415", "422", "503"} <= set(schema["paths"]["/v1/predict"]["post"]["responses"])
    docs = server.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
