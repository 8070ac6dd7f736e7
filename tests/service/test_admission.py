"""Admission on a live server: clients that wait for each answer before the next request are never
refused while there are no more of them than MOVIESCOPE_MAX_IN_FLIGHT; one more than that is."""

import socket
import threading
import time

import httpx
import pytest
from media_fixtures import make_video

MAX_IN_FLIGHT = 4
REQUESTS_PER_CLIENT = 5
SPOOL_BYTES = 1 << 20  # Starlette keeps a smaller file part in memory; a larger one is closed in a thread


@pytest.fixture(scope="module")
def trailer(tmp_path_factory) -> bytes:
    """A valid trailer over the spool size: closing its form file after the answer yields to the event loop,
    which is when a client's next request used to find its own previous one still counted."""
    path = make_video(tmp_path_factory.mktemp("admission") / "big.mp4", duration=6, size=(640, 480), rate=25, gop=25)
    data = path.read_bytes()
    assert len(data) > SPOOL_BYTES
    return data


def loop_client(url: str, trailer: bytes, statuses: list[int], start: threading.Barrier) -> None:
    """One well-behaved client: a keep-alive connection, one request at a time."""
    with httpx.Client(base_url=url, timeout=120) as http:
        start.wait()
        for _ in range(REQUESTS_PER_CLIENT):
            statuses.append(http.post("/v1/predict", files={"trailer": ("t.mp4", trailer)}).status_code)


def run_clients(url: str, trailer: bytes, clients: int) -> list[int]:
    statuses: list[int] = []
    start = threading.Barrier(clients)
    threads = [threading.Thread(target=loop_client, args=(url, trailer, statuses, start)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return statuses


@pytest.fixture(scope="module")
def busy_server(start_module_server, tiny_artifacts):
    return start_module_server(tiny_artifacts, MOVIESCOPE_MAX_IN_FLIGHT=str(MAX_IN_FLIGHT)).wait_ready()


@pytest.mark.slow
def test_as_many_looping_clients_as_places_are_never_refused(busy_server, trailer):
    statuses = run_clients(busy_server.url, trailer, MAX_IN_FLIGHT)
    assert len(statuses) == MAX_IN_FLIGHT * REQUESTS_PER_CLIENT
    assert statuses.count(503) == 0, f"{statuses.count(503)} of {len(statuses)} refused"
    assert set(statuses) == {200} and busy_server.leftovers() == []


def test_a_request_beyond_the_places_is_refused_at_once_and_the_places_come_back(busy_server, trailer):
    """Hold every place with an upload that has sent its headers and part of its body, then ask once more."""
    head = ("POST /v1/predict HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {len(trailer) + 200}\r\n\r\n--x\r\n").encode()
    holders = [socket.create_connection(("127.0.0.1", busy_server.port), timeout=30) for _ in range(MAX_IN_FLIGHT)]
    try:
        for sock in holders:
            sock.sendall(head)
        _wait_in_flight(busy_server, MAX_IN_FLIGHT)
        refused = httpx.post(f"{busy_server.url}/v1/predict", files={"trailer": ("t.mp4", trailer)}, timeout=5)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
    finally:
        for sock in holders:
            sock.close()  # cut off half-way: their places come back
    _wait_in_flight(busy_server, 0)
    assert httpx.post(f"{busy_server.url}/v1/predict", files={"trailer": ("t.mp4", trailer)},
                      timeout=60).status_code == 200


def _wait_in_flight(server, wanted: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metrics = server.get("/metrics").text
        line = next(x for x in metrics.splitlines() if x.startswith("moviescope_predictions_in_flight"))
        if float(line.split()[-1]) == wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"in flight never reached {wanted}: {line}")
