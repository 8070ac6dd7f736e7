"""service/client.py against scripted answers (httpx.MockTransport): what is retried, how long it
waits, when it gives up, and what each failure says. No server and no real sleeping: the client's
`sleep` records the waits."""

import email.utils
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from models.bundle import Bundle
from service.cli.remote import ordered_map
from service.client import (
    AuthError,
    MoviescopeClient,
    Refused,
    RetryPolicy,
    ServerDown,
    Unreachable,
    bundle_form,
)

ANSWER = {"model_version": "v1", "genres": [], "modalities": {}, "used_modalities": [],
          "missing_modalities": [], "timings_ms": {}}


def scripted(*steps, policy: RetryPolicy | None = None) -> tuple[MoviescopeClient, list[float], list]:
    """A client whose requests get `steps` in turn (a Response, or an exception to raise); the last repeats."""
    waits: list[float] = []
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        request.read()
        step = steps[min(len(requests), len(steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step

    client = MoviescopeClient("http://moviescope.test", api_key="k", retry=policy,
                              transport=httpx.MockTransport(answer), sleep=waits.append)
    return client, waits, requests


def busy(retry_after: str | None = "2", status: int = 503) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, json={"detail": "too many requests in flight; retry shortly"}, headers=headers)


@pytest.fixture
def bundle(tmp_path) -> Bundle:
    trailer = tmp_path / "movie.mp4"
    trailer.write_bytes(b"\x00\x01 not really a video")
    return Bundle(id="m1", trailer=trailer, plot="A quiet town.", metadata={"year": 2001, "runtime_min": 90})


def test_busy_answers_wait_what_retry_after_asks_capped(bundle):
    in_a_minute = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    client, waits, requests = scripted(busy("3"), busy(in_a_minute, status=429), busy("7200"), busy(None),
                                       httpx.Response(200, json=ANSWER))
    assert client.predict(bundle) == ANSWER
    assert waits[0] == 3
    assert 25 <= waits[1] <= 30  # the date is a minute away; no wait is longer than max_delay_s (30)
    assert waits[2:] == [30, 4.0]  # Retry-After: 2 hours, capped; none given: doubling from 0.5 s
    assert len(requests) == 5 and all(r.headers["Authorization"] == "Bearer k" for r in requests)


def test_a_server_busy_for_too_long_stops_the_run(bundle):
    client, waits, _ = scripted(busy("2"), policy=RetryPolicy(busy_tries=5))
    with pytest.raises(ServerDown, match=r"too many requests in flight.*\(HTTP 503\), 5 times in a row"):
        client.predict(bundle)
    assert waits == [2, 2, 2, 2]


def test_a_dropped_connection_is_retried_then_the_movie_fails(bundle):
    drop = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    client, waits, _ = scripted(drop, httpx.ReadError("reset"), httpx.Response(200, json=ANSWER))
    assert client.predict(bundle) == ANSWER and waits == [0.5, 1.0]
    client, waits, requests = scripted(drop, policy=RetryPolicy(drop_tries=3))
    with pytest.raises(Unreachable, match=r"connection lost \(RemoteProtocolError: Server disconnected.*"
                                          r"gave up after 3 tries"):
        client.predict(bundle)
    assert waits == [0.5, 1.0] and len(requests) == 3
    assert all(bundle.trailer.read_bytes() in r.content for r in requests)  # the file is sent again each time


def test_a_server_that_is_down_is_polled_until_down_s(bundle):
    client, waits, _ = scripted(httpx.ConnectError("[Errno 111] Connection refused"),
                                policy=RetryPolicy(down_s=20, down_poll_s=5))
    with pytest.raises(ServerDown, match=r"cannot connect \(ConnectError: \[Errno 111\] Connection refused\), "
                                         r"for 22 s"):
        client.predict(bundle)
    assert waits == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_kinds_have_their_own_budgets(bundle):
    """A restart: the request in flight is dropped, the port is closed, then the models load."""
    steps = (httpx.ReadError("reset"), httpx.ConnectError("refused"), httpx.ConnectError("refused"),
             busy("5"), busy("5"), httpx.Response(200, json=ANSWER))
    client, waits, _ = scripted(*steps, policy=RetryPolicy(drop_tries=2, busy_tries=3))
    assert client.predict(bundle) == ANSWER
    assert waits == [0.5, 0.5, 1.0, 5, 5]


def test_refusals_say_why_and_are_not_retried(bundle):
    fastapi_422 = {"detail": [{"type": "missing", "loc": ["body", "trailer"], "msg": "Field required"}]}
    for answer, expected in (
            (httpx.Response(422, json=fastapi_422), "trailer: Field required (HTTP 422)"),
            (httpx.Response(415, json={"detail": "trailer.mp4: not a video"}), "trailer.mp4: not a video (HTTP 415)"),
            (httpx.Response(500, text="oops"), "oops (HTTP 500)")):
        client, waits, requests = scripted(answer)
        with pytest.raises(Refused) as refused:
            client.predict(bundle)
        assert str(refused.value) == expected and len(requests) == 1 and waits == []
    client, _, _ = scripted(httpx.Response(401, json={"detail": "missing or wrong API key"}))
    with pytest.raises(AuthError, match=r"missing or wrong API key \(HTTP 401\); give the server's key"):
        client.predict(bundle)
    client, _, _ = scripted(httpx.Response(200, text="<html>a proxy's page</html>"))
    with pytest.raises(ValueError, match="not a JSON object.*is this a moviescope server"):
        client.predict(bundle)


def test_the_form_carries_every_part_of_the_bundle(bundle, tmp_path):
    poster = tmp_path / "poster.png"
    poster.write_bytes(b"png bytes")
    full = Bundle(id="m1", trailer=bundle.trailer, poster=poster, plot="A quiet town.",
                  metadata={"year": 2001, "content_rating": "PG"})
    files, data = bundle_form(full)
    assert files == [("trailer", bundle.trailer), ("poster", poster)]
    assert data["plot"] == "A quiet town." and json.loads(data["metadata"]) == {"year": 2001, "content_rating": "PG"}
    client, _, requests = scripted(httpx.Response(200, json=ANSWER))
    client.explain(full, "Horror,Drama")
    body = requests[0].read()
    assert requests[0].url.path == "/v1/explain"
    for part in (b'name="trailer"; filename="movie.mp4"', bundle.trailer.read_bytes(), b'name="poster"',
                 b"png bytes", b'name="genres"\r\n\r\nHorror,Drama', b'"content_rating":"PG"'):
        assert part in body
    assert bundle_form(Bundle(id="m2", plot="")) == ([], {})  # an empty plot is an absent one, as locally


def test_a_file_over_the_servers_limit_is_not_sent(bundle):
    limits = {"max_in_flight": 2, "max_trailer_mb": 1e-5, "max_poster_mb": 1}
    client, _, requests = scripted(httpx.Response(200, json=limits))
    assert client.limits() == limits
    with pytest.raises(Refused, match=r"trailer: movie.mp4 is 0.0 MB, over the server's limit of 1e-05 MB "
                                      r"\(not sent\) \(HTTP 413\)"):
        client.predict(bundle)
    assert [r.url.path for r in requests] == ["/v1/limits"]
    client, _, _ = scripted(httpx.Response(404, json={"detail": "Not Found"}))
    assert client.limits() is None  # an older server: no limits to check against


def test_ordered_map_keeps_the_order_and_the_bound():
    lock, running, most = threading.Lock(), [0], [0]

    def slow_square(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.002 * ((n * 7) % 5))  # later items often finish first
        with lock:
            running[0] -= 1
        return n * n

    assert list(ordered_map(slow_square, range(40), in_flight=3)) == [n * n for n in range(40)]
    assert most[0] == 3


def test_no_request_for_a_missing_file(bundle, tmp_path):
    client, _, requests = scripted(httpx.Response(200, json=ANSWER))
    with pytest.raises(FileNotFoundError):
        client.predict(Bundle(id="m1", trailer=Path(tmp_path / "gone.mp4")))
    assert requests == []
