"""The Gatekeeper alone, around a bare ASGI app that answers and then goes on working (as FastAPI does
when it closes the form's files after the answer): when a request's place comes back, and which paths
the gate guards."""

import anyio
import pytest
from starlette.datastructures import State

from service.gate import Gatekeeper
from service.metrics import Metrics
from service.settings import Settings

pytestmark = pytest.mark.anyio
ADMITTED = ["/v1/predict", "/predict"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


class AnswersThenCleansUp:
    """Answers 200 in two body chunks, then waits for `cleaned` before its call returns."""

    def __init__(self):
        self.cleaned = anyio.Event()
        self.answered = anyio.Event()

    async def __call__(self, scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        await send({"type": "http.response.body", "body": b"}"})
        self.answered.set()
        await self.cleaned.wait()


def make_gate(app, **settings) -> Gatekeeper:
    state = State()
    state.settings = Settings(**settings)
    state.metrics, state.predictor, state.busy = Metrics(), object(), 0
    return Gatekeeper(app, state, protected_prefixes=["/v1/"], admitted_paths=ADMITTED)


async def call(gate: Gatekeeper, path: str, headers: dict | None = None) -> list[dict]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path,
             "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()]}
    await gate(scope, receive, send)
    return sent


def status(sent: list[dict]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


async def test_the_place_comes_back_with_the_last_chunk_of_the_answer_not_after_the_clean_up():
    inner = AnswersThenCleansUp()
    gate = make_gate(inner, max_in_flight=1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(call, gate, "/v1/predict")
        with anyio.fail_after(5):
            await inner.answered.wait()
        assert gate.state.busy == 0  # answered, still cleaning up
        second = AnswersThenCleansUp()
        gate.app = second
        tg.start_soon(call, gate, "/v1/predict")
        with anyio.fail_after(5):
            await second.answered.wait()  # admitted, not refused with 503
        inner.cleaned.set()
        second.cleaned.set()
    assert gate.state.busy == 0


async def test_the_place_is_held_until_the_answer_ends():
    seen = []

    async def answers_in_two_chunks(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        seen.append((gate.state.busy, status(await call(gate, "/v1/predict"))))  # refused: no inner call
        await send({"type": "http.response.body", "body": b"}"})
        seen.append((gate.state.busy, None))

    gate = make_gate(answers_in_two_chunks, max_in_flight=1)
    await call(gate, "/v1/predict")
    assert seen == [(1, 503), (0, None)]


async def test_a_request_that_ends_without_an_answer_gives_its_place_back():
    async def fails(scope, receive, send):
        raise RuntimeError("a disconnect or a bug before the answer")

    gate = make_gate(fails, max_in_flight=1)
    with pytest.raises(RuntimeError):
        await call(gate, "/v1/predict")
    assert gate.state.busy == 0


@pytest.mark.parametrize(("path", "status_code"), [("/predict", 401), ("/v1/predict", 401), ("/v1/model", 401),
                                                  ("/healthz", 200), ("/predictions", 200)])
async def test_admitted_paths_are_guarded_wherever_they_are(path, status_code):
    inner = AnswersThenCleansUp()
    inner.cleaned.set()
    gate = make_gate(inner, api_key="k")
    assert status(await call(gate, path)) == status_code
    assert status(await call(gate, path, {"authorization": "Bearer k"})) == 200


async def test_once_stopping_a_body_still_arriving_and_a_new_request_get_503():
    from fastapi import HTTPException

    waiting = anyio.Event()

    async def reads_the_body(scope, receive, send):
        waiting.set()
        await receive()

    gate = make_gate(reads_the_body)
    never = anyio.Event()

    async def receive():  # a client that sent its headers and then nothing
        await never.wait()

    scope = {"type": "http", "method": "POST", "path": "/v1/predict", "headers": []}
    refused = []

    async def request():
        try:
            await gate(scope, receive, None)
        except HTTPException as err:  # FastAPI's handler makes it the JSON answer
            refused.append(err)

    async with anyio.create_task_group() as tg:
        tg.start_soon(request)
        with anyio.fail_after(5):
            await waiting.wait()
        gate.refuse_uploads()
    assert [e.status_code for e in refused] == [503] and "shutting down" in refused[0].detail
    assert gate.state.busy == 0
    assert status(await call(gate, "/v1/predict")) == 503
