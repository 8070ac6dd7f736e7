"""`moviescope predict` agrees with the endpoint; API key and admission control."""

import json
import subprocess
import sys

import httpx
import pytest
from conftest import Server

META = {"year": 1999, "runtime_min": 95, "content_rating": "R", "num_voted_users": 5000}
PLOT = "A detective follows the clues of a murder through a corrupt city."


def test_cli_predict_matches_the_endpoint(server, media_dir):
    files = {"trailer": ("good.mp4", (media_dir / "good.mp4").read_bytes()),
             "poster": ("poster.jpg", (media_dir / "poster.jpg").read_bytes())}
    http = httpx.post(f"{server.url}/v1/predict", files=files, data={"plot": PLOT, "metadata": json.dumps(META)},
                      timeout=60).json()
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "-q", "predict", "--artifacts", str(server.artifacts),
         "--trailer", str(media_dir / "good.mp4"), "--poster", str(media_dir / "poster.jpg"),
         "--plot", PLOT, "--metadata", json.dumps(META), "--device", "cpu"],
        capture_output=True, text=True, timeout=180, check=True,
    )
    cli = json.loads(result.stdout)
    assert cli["used_modalities"] == http["used_modalities"]
    for a, b in zip(cli["genres"], http["genres"], strict=True):
        assert a["genre"] == b["genre"] and a["score"] == pytest.approx(b["score"], abs=1e-6)
    for modality, scores in http["modalities"].items():
        assert cli["modalities"][modality] == pytest.approx(scores, abs=1e-6)


def test_cli_bad_metadata_names_the_field(server, media_dir):
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "-q", "predict", "--artifacts", str(server.artifacts),
         "--trailer", str(media_dir / "good.mp4"), "--metadata", '{"imdb_score": "great"}'],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 2 and "imdb_score" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def guarded(tiny_artifacts, tmp_path_factory):
    srv = Server(tiny_artifacts, tmp_path_factory.mktemp("guarded"), MOVIESCOPE_API_KEY="s3cret",
                 MOVIESCOPE_MAX_IN_FLIGHT="0")
    yield srv
    srv.stop()


def test_api_key_required_but_health_stays_open(guarded, media_dir):
    assert httpx.get(f"{guarded.url}/healthz").status_code == 200
    assert httpx.get(f"{guarded.url}/readyz").status_code == 200
    files = {"trailer": ("good.mp4", (media_dir / "good.mp4").read_bytes())}
    assert httpx.post(f"{guarded.url}/v1/predict", files=files).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.get(f"{guarded.url}/v1/model", headers=wrong).status_code == 401
    assert httpx.get(f"{guarded.url}/v1/model", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_too_many_in_flight_gets_503_with_retry_after(guarded, media_dir):
    files = {"trailer": ("good.mp4", (media_dir / "good.mp4").read_bytes())}
    r = httpx.post(f"{guarded.url}/v1/predict", files=files, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 503 and r.headers["Retry-After"]
    assert list(guarded.tmp_dir.iterdir()) == []
