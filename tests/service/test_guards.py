"""The app's guards, in process with a stub predictor, so timing-sensitive cases are deterministic:
readiness, admission control (503 + Retry-After), the API key, body limits, error mapping, cleanup."""

import threading
from pathlib import Path
from types import SimpleNamespace

import anyio
import httpx
import pytest

from models.genres import MOVIESCOPE
from models.media import InvalidMediaError, UnsupportedMediaError
from service.app import create_app
from service.settings import Settings

pytestmark = pytest.mark.anyio
RESULT = {"model_version": "stub", "genres": [{"genre": g, "score": 0.5, "predicted": True} for g in MOVIESCOPE],
          "modalities": {}, "used_modalities": [], "missing_modalities": ["video"],
          "timings_ms": {"total": 1.0}}


@pytest.fixture
def anyio_backend():
    return "asyncio"


class StubPredictor:
    """Records what it was given; blocks until `release` is set; then answers or raises `error`."""

    def __init__(self, error: Exception | None = None):
        self.error, self.staged, self.still_there = error, [], []
        self.release = threading.Event()
        self.release.set()

    artifacts = SimpleNamespace(genres=MOVIESCOPE)

    def read_metadata(self, raw):
        return raw, []

    def predict(self, bundle):
        self.staged.append(sorted(p.name for p in Path(bundle.trailer).parent.iterdir()))
        self.release.wait(timeout=30)
        self.still_there.append(Path(bundle.trailer).exists())
        if self.error:
            raise self.error
        return RESULT


@pytest.fixture
def make_app(tmp_path):
    def make(predictor=None, **settings):
        (tmp_path / "uploads").mkdir(exist_ok=True)
        app = create_app(Settings(artifacts=tmp_path, tmp_dir=tmp_path / "uploads", max_trailer_mb=0.01,
                                  max_poster_mb=0.01, **settings))
        app.state.predictor = predictor
        return app
    return make


def client(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)  # 500s come back as responses
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def upload(size: int = 100, name: str = "t.mp4") -> dict:
    return {"trailer": (name, b"\0" * size, "video/mp4")}


def leftovers(app) -> list[Path]:
    return list(app.state.settings.tmp_dir.iterdir())


async def test_not_ready_until_the_models_are_loaded(make_app):
    app = make_app(predictor=None)
    async with client(app) as c:
        assert (await c.get("/healthz")).status_code == 200
        r = await c.get("/readyz")
        assert r.status_code == 503 and r.json() == {"ready": False}
        r = await c.post("/v1/predict", files=upload())
        assert r.status_code == 503 and r.headers["Retry-After"] and "loading" in r.json()["detail"]


async def test_the_staged_upload_is_removed_after_success(make_app):
    stub = StubPredictor()
    app = make_app(stub)
    async with client(app) as c:
        poster = {"poster": ("p.png", b"png", "image/png")}
        r = await c.post("/v1/predict", files={**upload(name="clip.MOV"), **poster},
                         data={"plot": "p", "metadata": '{"year": 2000}'})
    assert r.status_code == 200 and r.json()["model_version"] == "stub"
    assert stub.staged == [["poster.png", "trailer.mov"]] and leftovers(app) == []


async def test_too_many_in_flight_gets_503_at_once(make_app):
    stub = StubPredictor()
    stub.release.clear()
    app = make_app(stub, max_in_flight=1)
    async with client(app) as c, anyio.create_task_group() as tg:
        statuses = []

        async def first():
            statuses.append((await c.post("/v1/predict", files=upload())).status_code)

        tg.start_soon(first)
        with anyio.fail_after(10):
            while app.state.busy < 1:
                await anyio.sleep(0.01)
        r = await c.post("/v1/predict", files=upload())
        assert r.status_code == 503 and r.headers["Retry-After"] == "2" and "in flight" in r.json()["detail"]
        stub.release.set()
    assert statuses == [200] and app.state.busy == 0 and leftovers(app) == []


@pytest.mark.parametrize("route", ["/v1/predict", "/v1/explain"])
async def test_zero_in_flight_refuses_everything(make_app, route):
    app = make_app(StubPredictor(), max_in_flight=0)
    async with client(app) as c:
        r = await c.post(route, files=upload())
    assert r.status_code == 503 and r.headers["Retry-After"]


async def test_cancelled_request_cleans_up_after_the_prediction_ends(make_app):
    stub = StubPredictor()
    stub.release.clear()
    app = make_app(stub)
    async with client(app) as c, anyio.create_task_group() as tg:
        async def request():
            await c.post("/v1/predict", files=upload())

        tg.start_soon(request)
        with anyio.fail_after(10):
            while not stub.staged:
                await anyio.sleep(0.01)
        threading.Timer(0.3, stub.release.set).start()  # the prediction ends after the cancellation
        tg.cancel_scope.cancel()  # like a client that disconnects
    assert stub.still_there == [True]  # no file vanished under a running prediction
    assert app.state.busy == 0 and leftovers(app) == []


@pytest.mark.parametrize(("error", "status"), [(UnsupportedMediaError("trailer.mp4: not a video"), 415),
                                               (InvalidMediaError("trailer.mp4: truncated"), 422),
                                               (RuntimeError("a bug"), 500)])
async def test_errors_map_to_json_statuses(make_app, error, status):
    app = make_app(StubPredictor(error))
    async with client(app) as c:
        r = await c.post("/v1/predict", files=upload())
    assert r.status_code == status and isinstance(r.json()["detail"], str)
    assert "a bug" not in r.text and leftovers(app) == []


@pytest.mark.parametrize("route", ["/v1/predict", "/v1/explain"])
async def test_body_limits(make_app, route):
    app = make_app(StubPredictor())
    async with client(app) as c:
        r = await c.post(route, files=upload(size=11 * 1024))  # over the trailer's 0.01 MB
        assert r.status_code == 413 and r.json()["detail"].startswith("trailer: upload exceeds")
        r = await c.post(route, files=upload(size=2 << 20))  # declared length over the total
        assert r.status_code == 413 and "request body exceeds" in r.json()["detail"]

        async def chunked():  # no Content-Length: stopped while streaming
            yield b"--x\r\nContent-Disposition: form-data; name=\"trailer\"; filename=\"t.mp4\"\r\n\r\n"
            for _ in range(40):
                yield b"\0" * 65536

        r = await c.post(route, content=chunked(),
                         headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert r.status_code == 413 and r.json()["detail"]
    assert leftovers(app) == []


@pytest.mark.parametrize(("key", "headers", "status"), [
    (None, {}, 200), ("", {}, 200), ("k", {}, 401), ("k", {"Authorization": "Bearer nope"}, 401),
    ("k", {"Authorization": "Basic k"}, 401), ("k", {"Authorization": "Bearer k"}, 200)])
async def test_api_key(make_app, key, headers, status):
    app = make_app(StubPredictor(), api_key=key)
    async with client(app) as c:
        assert (await c.post("/v1/predict", files=upload(), headers=headers)).status_code == status
        assert (await c.get("/healthz")).status_code == 200
        assert (await c.get("/readyz")).status_code == 200


async def call_without_body(app, headers: dict[str, str], path: str = "/v1/predict") -> tuple[int, dict[str, str], bool]:
    """POST `path` declaring 50 MB and never sending them: (status, headers, whether the body was asked for)."""
    asked = False

    async def receive():
        nonlocal asked
        asked = True
        await anyio.sleep_forever()

    sent = []

    async def send(message):
        sent.append(message)

    raw = {"content-type": "multipart/form-data; boundary=x", "content-length": "50000000", **headers}
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "server": ("t", 80), "client": ("c", 1),
             "headers": [(k.encode(), v.encode()) for k, v in raw.items()]}
    with anyio.fail_after(5):
        await app(scope, receive, send)
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, asked


@pytest.mark.parametrize(("settings", "ready", "busy", "headers", "status"), [
    ({"api_key": "k"}, True, 0, {}, 401),
    ({"api_key": "k"}, True, 0, {"authorization": "Bearer wrong"}, 401),
    ({"api_key": "k"}, False, 0, {"authorization": "Bearer k"}, 503),
    ({}, False, 0, {}, 503),
    ({"max_in_flight": 2}, True, 2, {}, 503),
], ids=["no key", "wrong key", "loading", "loading, no key needed", "busy"])
@pytest.mark.parametrize("path", ["/v1/predict", "/v1/explain"])
async def test_refused_from_the_headers_before_the_body_is_read(make_app, settings, ready, busy, headers, status, path):
    app = make_app(StubPredictor() if ready else None, **settings)
    app.state.busy = busy
    code, answer_headers, asked = await call_without_body(app, headers, path)
    assert code == status and not asked
    assert ("www-authenticate" in answer_headers) if status == 401 else answer_headers["retry-after"]
    assert app.state.busy == busy and leftovers(app) == []


async def test_an_upload_that_does_not_arrive_in_time_gets_408_and_frees_its_place(make_app):
    app = make_app(StubPredictor(), upload_timeout_s=0.5, max_in_flight=1)

    async def trickle():
        yield b"--x\r\nContent-Disposition: form-data; name=\"trailer\"; filename=\"t.mp4\"\r\n\r\n"
        await anyio.sleep(30)
        yield b"never\r\n--x--\r\n"

    async with client(app) as c:
        with anyio.fail_after(10):
            r = await c.post("/v1/predict", content=trickle(),
                             headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert r.status_code == 408 and "within 0.5 s" in r.json()["detail"]
        assert app.state.busy == 0
        assert (await c.post("/v1/predict", files=upload())).status_code == 200
    assert leftovers(app) == []
