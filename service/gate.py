"""The gate in front of /v1/* and the admitted paths: who may send a body, decided from the headers alone.

FastAPI parses a multipart form before any dependency runs, so a check in a dependency comes
after the whole upload (up to the body limit) has been received and spooled to disk. This pure
ASGI middleware answers before a byte of the body is read:
- 401 without the API key (when one is set);
- 503 + Retry-After while the models load;
- 503 + Retry-After when `max_in_flight` requests to the admitted paths (/v1/predict, /v1/explain) already
  hold a place. A request holds its place from its headers until the last chunk of its answer is handed
  to the server (or until it ends without one: a disconnect, an error), upload included, so at most
  `max_in_flight` uploads are in progress at once (disk: at most that many bodies), and a client that
  does not finish sending its body within `upload_timeout_s` gets 408 and gives its place back.
  The place is not held through what runs after the answer (closing the form's files, in a worker
  thread): a client that sends its next request as soon as it has its answer would otherwise find its
  own previous request still counted, and be refused although it never had two in flight.
- 503 + Retry-After once the server is stopping (`refuse_uploads`), also for a body still arriving.

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
STOPPING_DETAIL = "the server is shutting down; send the request again once it is back"


class Gatekeeper:
    def __init__(self, app: ASGIApp, state: State, protected_prefixes: Iterable[str], admitted_paths: Iterable[str]):
        self.app = app
        self.state = state  # the app's: settings, predictor (None while loading), busy, metrics
        self.protected_prefixes = tuple(protected_prefixes)
        self.admitted_paths = frozenset(admitted_paths)
        self.stopping = False
        self._uploading: set[anyio.CancelScope] = set()  # the waits of bodies still arriving
        state.refuse_uploads = self.refuse_uploads  # for the server, when a stop signal comes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        admitting = path in self.admitted_paths
        if scope["type"] != "http" or not (admitting or path.startswith(self.protected_prefixes)):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(Headers(scope=scope), admitting=admitting)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if not admitting:
            await self.app(scope, receive, send)
            return
        place = _Place(self.state)

        async def send_then_release(message: Message) -> None:
            if _ends_the_answer(message):
                place.release()  # before handing it over: the client may send its next request at once
            await send(message)

        try:
            await self.app(scope, self._upload_deadline(receive), send_then_release)
        finally:
            place.release()

    def _refusal(self, headers: Headers, admitting: bool) -> JSONResponse | None:
        settings = self.state.settings
        if settings.api_key and not _has_key(headers, settings.api_key):
            return JSONResponse({"detail": "missing or wrong API key (send 'Authorization: Bearer <key>')"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if self.state.predictor is None:
            return JSONResponse({"detail": "models are still loading"}, status_code=503,
                                headers={"Retry-After": LOADING_RETRY_AFTER_S})
        if admitting and self.stopping:
            return JSONResponse({"detail": STOPPING_DETAIL}, status_code=503,
                                headers={"Retry-After": LOADING_RETRY_AFTER_S})
        if admitting and self.state.busy >= settings.max_in_flight:
            return JSONResponse({"detail": "too many requests in flight; retry shortly"}, status_code=503,
                                headers={"Retry-After": BUSY_RETRY_AFTER_S})
        return None

    def refuse_uploads(self) -> None:
        """The server is stopping: bodies still arriving, and requests still to come, get 503 at once, so that
        the graceful shutdown waits only for the predictions already running. Call it in the event loop."""
        self.stopping = True
        for waiting in list(self._uploading):
            waiting.cancel()

    def _upload_deadline(self, receive: Receive) -> Receive:
        """`receive`, failing with 408 when the body is not complete `upload_timeout_s` after the headers, and
        with 503 when the server stops before it is."""
        timeout = self.state.settings.upload_timeout_s
        deadline = anyio.current_time() + timeout
        body_complete = False

        async def receive_in_time() -> Message:
            nonlocal body_complete
            if body_complete:  # later calls only wait for a disconnect
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()) as waiting:
                self._uploading.add(waiting)
                try:
                    if not self.stopping:
                        message = await receive()
                        body_complete = message["type"] != "http.request" or not message.get("more_body")
                        return message
                finally:
                    self._uploading.discard(waiting)
            if self.stopping:
                raise HTTPException(503, STOPPING_DETAIL, headers={"Retry-After": LOADING_RETRY_AFTER_S})
            raise HTTPException(408, f"the request body did not arrive within {timeout:g} s")

        return receive_in_time


class _Place:
    """One admitted request's place in `state.busy`, given back once however often `release` is called."""

    def __init__(self, state: State):
        self.state, self.held = state, True
        state.busy += 1
        state.metrics.predictions_in_flight.inc()

    def release(self) -> None:
        if self.held:
            self.held = False
            self.state.busy -= 1
            self.state.metrics.predictions_in_flight.dec()


def _ends_the_answer(message: Message) -> bool:
    return ((message["type"] == "http.response.body" and not message.get("more_body", False))
            or message["type"] == "http.response.pathsend")


def _has_key(headers: Headers, key: str) -> bool:
    scheme, _, given = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), key.encode())
