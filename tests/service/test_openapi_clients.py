"""Clients generated from the service's own /openapi.json work, and GET /v1/limits tells what it accepts.

The generated-client test runs openapi-python-client (a dev dependency) offline on the document
the running server serves, imports the package it writes, and calls the server through it.
"""

import importlib
import json
import subprocess
import sys

import pytest
from fastapi import FastAPI, File, UploadFile

from service.openapi import describe_file_fields, mark_binary_strings

PACKAGE = "moviescope_generated_client"
PLOT = "A detective follows a killer through a corrupt city."
METADATA = {"year": 2012, "runtime_min": 118, "content_rating": "R"}


def file_schemas(node) -> list[dict]:
    """Every schema in the document that declares a content media type (FastAPI's file fields)."""
    if isinstance(node, dict):
        own = [node] if "contentMediaType" in node else []
        return own + [s for child in node.values() for s in file_schemas(child)]
    if isinstance(node, list):
        return [s for child in node for s in file_schemas(child)]
    return []


def test_every_file_field_is_binary_in_both_styles():
    """Any route's file fields, whatever their shape, without naming them."""
    app = FastAPI()

    @app.post("/upload")
    async def upload(required: UploadFile, optional: UploadFile | None = None,
                     many: list[UploadFile] = File(default_factory=list)) -> dict:  # noqa: B008
        return {}

    describe_file_fields(app)
    schema = app.openapi()
    fields = file_schemas(schema)
    assert len(fields) == 3
    assert all(f["format"] == "binary" and f["contentMediaType"] == "application/octet-stream" for f in fields)
    assert app.openapi() is schema  # generated and marked once
    base64_text = {"type": "string", "contentMediaType": "image/png", "contentEncoding": "base64"}
    assert mark_binary_strings(base64_text) == 0 and "format" not in base64_text  # text in JSON, not a file


@pytest.fixture(scope="module")
def generated(server, tmp_path_factory):
    """The package openapi-python-client writes from the server's /openapi.json, imported."""
    root = tmp_path_factory.mktemp("generated")
    document = server.get("/openapi.json").json()
    assert all(f.get("format") == "binary" for f in file_schemas(document))
    (root / "openapi.json").write_text(json.dumps(document))
    (root / "config.yaml").write_text("post_hooks: []\n")  # no formatter run over the generated code
    done = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", "openapi.json", "--meta", "none", "--config",
                           "config.yaml", "--output-path", PACKAGE, "--fail-on-warning"],
                          cwd=root, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.mark.slow
def test_a_generated_client_predicts_explains_and_reads_the_model(generated, server, media_dir):
    api = importlib.import_module(f"{PACKAGE}.api.model")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    key = server.headers["Authorization"].removeprefix("Bearer ")
    client = generated.AuthenticatedClient(base_url=server.url, token=key, raise_on_unexpected_status=True)
    direct = server.predict(media_dir / "good.mp4", media_dir / "poster.jpg", PLOT, json.dumps(METADATA)).json()

    def files() -> dict:
        return {"trailer": types.File(payload=(media_dir / "good.mp4").open("rb"), file_name="good.mp4"),
                "poster": types.File(payload=(media_dir / "poster.jpg").open("rb"), file_name="poster.jpg")}

    body = models.BodyPredictV1PredictPost(**files(), plot=PLOT, metadata=json.dumps(METADATA))
    answer = importlib.import_module(f"{api.__name__}.predict_v1_predict_post").sync_detailed(client=client, body=body)
    assert answer.status_code == 200, answer.content
    predicted = answer.parsed
    assert isinstance(predicted, models.PredictResponse)
    assert set(predicted.used_modalities) == {"video", "audio", "poster", "text", "metadata"}
    assert {g.genre: g.score for g in predicted.genres} == pytest.approx(
        {g["genre"]: g["score"] for g in direct["genres"]}, abs=1e-6)

    body = models.BodyExplainGenresV1ExplainPost(**files(), plot=PLOT, metadata=json.dumps(METADATA), genres="Horror")
    explained = importlib.import_module(f"{api.__name__}.explain_genres_v1_explain_post").sync(client=client, body=body)
    assert isinstance(explained, models.ExplainResponse)
    assert explained.explanation.genres == ["Horror"] and explained.explanation.poster.heatmaps

    model = importlib.import_module(f"{api.__name__}.model_info_v1_model_get").sync(client=client)
    assert isinstance(model, models.ModelInfo) and model.model_version == direct["model_version"]
    limits = importlib.import_module(f"{api.__name__}.server_limits_v1_limits_get").sync(client=client)
    assert isinstance(limits, models.ServerLimits) and limits.max_trailer_mb == 1


def test_limits_are_the_servers_settings(server):
    limits = server.get("/v1/limits").json()
    assert limits["max_in_flight"] == 4  # the default
    assert limits["max_trailer_mb"] == 1 and limits["max_poster_mb"] == 0.5
    assert (limits["max_width"], limits["max_height"], limits["max_duration_s"]) == (640, 480, 60)
    assert limits["max_body_bytes"] == int((1 + 0.5 + 1) * (1 << 20))
    assert server.get("/v1/limits", headers={}).status_code == 401
