"""The soak benchmark's clients: each sends one request at a time, of a kind drawn at random, until the end.

Kinds: `valid` (a whole bundle), `clip` (a real clip, trailer only), `hostile` (a file that lies or is
broken: a 4xx is the right answer), `slow` (a valid bundle sent in pieces over a few seconds), `cut_off`
(headers and half the body, then the client closes), `cancelled` (the whole request, then the client
closes before the answer). A connection the client cuts on purpose is counted as `cut`, not as an error.
"""

import random
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from benchmarks.soak_media import Upload

WEIGHTS = {"valid": 45, "clip": 10, "hostile": 20, "slow": 9, "cut_off": 8, "cancelled": 8}
SLOW_PIECES, SLOW_PAUSE_S = 8, 0.4  # a slow upload takes about 3 s
CANCEL_AFTER_S = 0.3  # the cancelled request's client waits this long after sending, then closes
TIMEOUT_S = 300


@dataclass
class Outcome:
    kind: str
    upload: str
    status: int | None  # None: no answer (cut on purpose, or a transport error)
    seconds: float
    started: float  # since the start of the run
    error: str | None = None  # a transport error: the client wanted an answer and got none
    cut: bool = False  # the client cut the connection on purpose


class SoakClient(threading.Thread):
    def __init__(self, url: str, uploads: dict[str, list[Upload]], end: float, seed: int, t0: float):
        super().__init__(daemon=True)
        self.url, self.uploads, self.end, self.t0 = url, uploads, end, t0
        self.rng = random.Random(seed)
        self.kinds = [k for k in WEIGHTS if self.uploads.get(_source(k))]
        self.outcomes: list[Outcome] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=TIMEOUT_S) as http:
            while time.monotonic() < self.end:
                kind = self.rng.choices(self.kinds, weights=[WEIGHTS[k] for k in self.kinds])[0]
                upload = self.rng.choice(self.uploads[_source(kind)])
                self.outcomes.append(self.send(http, kind, upload))

    def send(self, http: httpx.Client, kind: str, upload: Upload) -> Outcome:
        start = time.monotonic()
        status, error, cut = None, None, kind in ("cut_off", "cancelled")
        try:
            if kind == "cut_off":
                _cut_off(self.url, upload)
            elif kind == "cancelled":
                _cancelled(self.url, upload)
            elif kind == "slow":
                status = _slow(http, upload)
            else:
                status = http.post("/v1/predict", files=upload.files, data=upload.data).status_code
        except ConnectionRefusedError as err:  # the server is gone: never on purpose
            error, cut = repr(err), False
        except (httpx.TransportError, OSError) as err:
            if not cut:
                error = repr(err)
        return Outcome(kind, upload.name, status, time.monotonic() - start, start - self.t0, error, cut)


def _source(kind: str) -> str:
    return {"clip": "clip", "hostile": "hostile"}.get(kind, "valid")


def encoded(upload: Upload, url: str) -> httpx.Request:
    """The multipart request httpx would send, with its body read, so that it can be sent in pieces."""
    request = httpx.Request("POST", f"{url}/v1/predict", files=upload.files, data=upload.data)
    request.read()
    return request


def _slow(http: httpx.Client, upload: Upload) -> int:
    request = encoded(upload, str(http.base_url).rstrip("/"))
    body = request.content
    piece = -(-len(body) // SLOW_PIECES)

    def pieces():
        for offset in range(0, len(body), piece):
            yield body[offset:offset + piece]
            time.sleep(SLOW_PAUSE_S)

    headers = {"Content-Type": request.headers["Content-Type"], "Content-Length": str(len(body))}
    return http.post("/v1/predict", content=pieces(), headers=headers).status_code


def _raw_request(url: str, upload: Upload) -> tuple[socket.socket, bytes, bytes]:
    """A connected socket, the request's head, and its body."""
    request = encoded(upload, url)
    host = urlsplit(url)
    head = (f"POST /v1/predict HTTP/1.1\r\nHost: {host.netloc}\r\nContent-Type: {request.headers['Content-Type']}"
            f"\r\nContent-Length: {len(request.content)}\r\n\r\n").encode()
    return socket.create_connection((host.hostname, host.port), timeout=30), head, request.content


def _cut_off(url: str, upload: Upload) -> None:
    sock, head, body = _raw_request(url, upload)
    with sock:
        sock.sendall(head + body[: len(body) // 2])


def _cancelled(url: str, upload: Upload) -> None:
    sock, head, body = _raw_request(url, upload)
    with sock:
        sock.sendall(head + body)
        time.sleep(CANCEL_AFTER_S)
