"""The live server against an attacker and a careless user: refusals before the body, files that lie,
extreme metadata. Each answer is a 4xx naming the problem, in bounded time and memory."""

import json
import socket
import time
from pathlib import Path

import pytest


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def first_line_after_headers(port: int, request: bytes, timeout: float) -> tuple[bytes, float]:
    """Send `request` (headers only) and return the status line and how long it took to come."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    return answer.split(b"\r\n")[0], time.monotonic() - start


@pytest.mark.parametrize("declared", [50_000_000, 2_000_000], ids=["50 MB", "under the body limit"])
def test_no_key_gets_401_before_the_body_is_sent(server, declared):
    request = ("POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {declared}\r\n\r\n")
    status, seconds = first_line_after_headers(server.port, request.encode(), timeout=10)
    assert status.startswith(b"HTTP/1.1 401") and seconds < 1


def test_a_file_listing_millions_of_samples_is_refused_in_bounded_time_and_memory(server, hostile_media):
    before = peak_rss_mb(server.process.pid)
    start = time.monotonic()
    r = server.predict(hostile_media["many_samples"])
    seconds = time.monotonic() - start
    grown = peak_rss_mb(server.process.pid) - before
    assert r.status_code == 422 and "lists 2000000 video frames" in r.json()["detail"], r.text
    assert seconds < 30 and grown < 300, (seconds, grown)
    assert server.leftovers() == []


def test_frames_larger_than_the_limit_are_refused(server, hostile_media):
    r = server.predict(hostile_media["growing_frames"])  # the server's limit is 640x480
    assert r.status_code == 422 and "1920x1080" in r.json()["detail"], r.text


def test_a_truncated_trailer_is_refused(server, hostile_media):
    r = server.predict(hostile_media["cut_short"])
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("trailer.mp4: ") and "data ends at 1." in r.json()["detail"]


EXTREME_METADATA = {
    "num_voted_users": '{"num_voted_users": 1%s}' % ("0" * 400),
    "budget_usd": '{"budget_usd": 1e400}',
    "gross_usd": '{"gross_usd": NaN}',
    "imdb_score": '{"imdb_score": -Infinity}',
    "year": '{"year": 1e400}',
    "actor_1_facebook_likes": '{"actor_1_facebook_likes": 1e300}',
    "runtime_min": '{"runtime_min": 1e308}',
    "facenumber_in_poster": '{"facenumber_in_poster": 99999999999999999999}',
}


@pytest.mark.parametrize(("field", "metadata"), EXTREME_METADATA.items(), ids=EXTREME_METADATA.keys())
def test_extreme_metadata_gets_a_422_naming_the_field(server, media_dir, field, metadata):
    r = server.predict(media_dir / "good.mp4", metadata=metadata)
    assert r.status_code == 422 and f"metadata.{field}" in r.json()["detail"], r.text


def test_still_serving_after_the_hostile_files(server, media_dir):
    r = server.predict(media_dir / "good.mp4", metadata=json.dumps({"num_voted_users": 10**12}))
    assert r.status_code == 200, r.text
    metrics = server.get("/metrics").text
    assert 'status="500"' not in metrics and server.leftovers() == []
