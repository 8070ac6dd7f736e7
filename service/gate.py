"""The gate in front of /v1/*: who may send a body, decided from the headers alone.

FastAPI parses a multipart form before any dependency runs, so a check in a dependency comes
after the whole upload (up to the body limit) has been received and spooled to disk. This pure
ASGI middleware answers before a byte of the body is read:
- 401 without the API key (when one is set);
- 503 + Retry-After while the models load;
- 503 + Retry-After when `max_in_flight` requests to /v1/predict or /v1/explain are already admitted. A request
  holds its place from its headers to its answer, upload included, so at most `max_in_flight`
  uploads are in progress at once (disk: at most that many bodies), and a client that does not
  finish sending its body within `upload_timeout_s` gets 408 and gives its place back.

Only the event loop's thread touches the admission counter, so it needs no lock.
"""

import secrets
from collections.abc import Iterable

import anyio
from fastapi import HTTPException
from starlette.datastructures import Headers, State
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOADING_RETRY_AFTER_S = "5"
BUSY_RETRY_AFTER_S = "2"


class Gatekeeper:
    def __init__(self, app: ASGIApp, state: State, protected_prefixes: Iterable[str], admitted_paths: Iterable[str]):
        self.app = app
        self.state = state  # the app's: settings, predictor (None while loading), busy, metrics
        self.protected_prefixes = tuple(protected_prefixes)
        self.admitted_paths = frozenset(admitted_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.protected_prefixes):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(Headers(scope=scope), admitting=scope["path"] in self.admitted_paths)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if scope["path"] not in self.admitted_paths:
            await self.app(scope, receive, send)
            return
        self.state.busy += 1
        self.state.metrics.predictions_in_flight.inc()
        try:
            await self.app(scope, self._upload_deadline(receive), send)
        finally:
            self.state.busy -= 1
            self.state.metrics.predictions_in_flight.dec()

    def _refusal(self, headers: Headers, admitting: bool) -> JSONResponse | None:
        settings = self.state.settings
        if settings.api_key and not _has_key(headers, settings.api_key):
            return JSONResponse({"detail": "missing or wrong API key (send 'Authorization: Bearer <key>')"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if self.state.predictor is None:
            return JSONResponse({"detail": "models are still loading"}, status_code=503,
                                headers={"Retry-After": LOADING_RETRY_AFTER_S})
        if admitting and self.state.busy >= settings.max_in_flight:
            return JSONResponse({"detail": "too many requests in flight; retry shortly"}, status_code=503,
                                headers={"Retry-After": BUSY_RETRY_AFTER_S})
        return None

    def _upload_deadline(self, receive: Receive) -> Receive:
        """`receive`, failing with 408 when the body is not complete `upload_timeout_s` after the headers."""
        timeout = self.state.settings.upload_timeout_s
        deadline = anyio.current_time() + timeout
        body_complete = False

        async def receive_in_time() -> Message:
            nonlocal body_complete
            if body_complete:  # later calls only wait for a disconnect
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                body_complete = message["type"] != "http.request" or not message.get("more_body", False)
                return message
            raise HTTPException(408, f"the request body did not arrive within {timeout:g} s")

        return receive_in_time


def _has_key(headers: Headers, key: str) -> bool:
    scheme, _, given = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), key.encode())
