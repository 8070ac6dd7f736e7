"""A Python client of a running moviescope service: a bundle in, the server's answer out.

A prediction has no side effects, so a bundle may be sent again; failures that are not the bundle's
are retried, each kind on its own budget, never sleeping longer than `RetryPolicy.max_delay_s`:
- no connection at all (refused, connect timeout: the server is down or restarting): polled every
  few seconds for up to `down_s`, then `ServerDown`;
- 503 (models loading, too many requests in flight) and 429: after the server's Retry-After, up to
  `busy_tries` times, then `ServerDown`;
- a connection lost in the middle of a request, a read timeout, a 408, 502 or 504: `drop_tries`
  tries with a doubling delay, then `Unreachable` (a bundle that crashes the server ends here).
Other errors: `Refused` (the server answered this bundle with a 4xx, or a 500: status and detail),
`AuthError` (401/403: no bundle can fix it). All are ValueErrors: the command line prints one line.
"""

import dataclasses
import email.utils
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import httpx

from models.bundle import Bundle

log = logging.getLogger(__name__)
MB = 1 << 20
BUSY = frozenset({429, 503})
TRANSIENT = frozenset({408, 502, 504})
UPLOAD_LIMITS = {"trailer": "max_trailer_mb", "poster": "max_poster_mb"}


class RemoteError(ValueError):
    """The server did not give an answer for this request."""


class Refused(RemoteError):
    def __init__(self, status: int, detail: str):
        super().__init__(f"{detail} (HTTP {status})")
        self.status, self.detail = status, detail


class Unreachable(RemoteError):
    """The connection kept dropping while this request was sent or answered."""


class ServerDown(RemoteError):
    """No answer for any request: the server is down, or busy, for longer than the policy waits."""


class AuthError(RemoteError):
    pass


@dataclass(frozen=True)
class RetryPolicy:
    down_s: float = 120.0  # no connection at all for this long (a restart takes less)
    busy_tries: int = 60  # 503 / 429 at the server's Retry-After (2 s busy, 5 s loading): a few minutes
    drop_tries: int = 4  # a connection lost mid-request: then this request fails
    first_delay_s: float = 0.5
    down_poll_s: float = 5.0
    max_delay_s: float = 30.0


class Tries:
    """One request's failed tries by kind ('down', 'busy', 'drop'): the wait before the next try,
    or the error once that kind's budget is spent."""

    def __init__(self, policy: RetryPolicy, what: str):
        self.policy, self.what = policy, what
        self.failed: Counter[str] = Counter()
        self.down_waited_s = 0.0

    def wait_s(self, kind: str, problem: str, retry_after: float | None = None) -> float:
        p, n = self.policy, self.failed[kind] + 1
        self.failed[kind] = n
        doubling = p.first_delay_s * 2 ** (n - 1)
        if kind == "down":
            if self.down_waited_s >= p.down_s:
                raise ServerDown(f"{self.what}: {problem}, for {self.down_waited_s:.0f} s")
            wait = min(doubling, p.down_poll_s)
            self.down_waited_s += wait
            return wait
        if kind == "busy":
            if n >= p.busy_tries:
                raise ServerDown(f"{self.what}: {problem}, {n} times in a row")
            return max(0.0, min(doubling if retry_after is None else retry_after, p.max_delay_s))
        if n >= p.drop_tries:
            raise Unreachable(f"{self.what}: {problem}; gave up after {n} tries")
        return min(doubling, p.max_delay_s)


class MoviescopeClient:
    """`url`: the service's base URL, e.g. http://gpu-host:8000; `api_key`: its MOVIESCOPE_API_KEY."""

    def __init__(self, url: str, api_key: str | None = None, retry: RetryPolicy | None = None,
                 timeout_s: float = 900.0, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=url, headers=headers, transport=transport,
                                 timeout=httpx.Timeout(timeout_s, connect=10.0),
                                 limits=httpx.Limits(max_connections=None))  # the caller bounds its requests
        self.url, self.retry, self.sleep = url.rstrip("/"), retry or RetryPolicy(), sleep
        self.server_limits: dict | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def limits(self) -> dict | None:
        """GET /v1/limits (None from a server without it); predict() then skips files over the upload limits."""
        response = self._send("GET", "/v1/limits", allow={404})
        self.server_limits = None if response.status_code == 404 else _json(response)
        return self.server_limits

    def model(self) -> dict:
        return _json(self._send("GET", "/v1/model"))

    def predict(self, bundle: Bundle) -> dict:
        """What POST /v1/predict answers for the bundle."""
        return _json(self._send("POST", "/v1/predict", bundle))

    def explain(self, bundle: Bundle, genres: str | None = None) -> dict:
        """What POST /v1/explain answers; `genres` as the form field (comma-separated names)."""
        return _json(self._send("POST", "/v1/explain", bundle, {"genres": genres} if genres else {}))

    def _send(self, method: str, path: str, bundle: Bundle | None = None, extra: dict | None = None,
              allow: frozenset[int] | set[int] = frozenset()) -> httpx.Response:
        """The first answer that is not worth retrying; raises a RemoteError for any failure."""
        files, data = bundle_form(bundle) if bundle is not None else ([], {})
        data.update(extra or {})
        self._check_sizes(files)
        tries = Tries(self.retry, f"{method} {self.url}{path}")
        while True:
            try:
                response = self._request(method, path, files, data)
            except (httpx.ConnectError, httpx.ConnectTimeout) as err:
                kind, problem, retry_after = "down", f"cannot connect ({_describe(err)})", None
            except httpx.TransportError as err:
                kind, problem, retry_after = "drop", f"connection lost ({_describe(err)})", None
            else:
                kind, problem, retry_after = _retry_kind(response)
                if kind is None:
                    return _checked(response, allow)
            wait = tries.wait_s(kind, problem, retry_after)
            first = tries.failed[kind] == 1  # later tries of the same kind only in the debug log
            log.log(logging.WARNING if first else logging.DEBUG, "%s %s: %s; retrying in %.1f s",
                    method, path, problem, wait)
            self.sleep(wait)

    def _request(self, method: str, path: str, files: list[tuple[str, Path]], data: dict) -> httpx.Response:
        with ExitStack() as stack:  # the files are opened again for every try, and streamed
            upload = {field: (p.name, stack.enter_context(p.open("rb")), "application/octet-stream")
                      for field, p in files}
            return self.http.request(method, path, files=upload or None, data=data or None)

    def _check_sizes(self, files: list[tuple[str, Path]]) -> None:
        """Refuse here what the server would refuse with a 413, rather than upload it to hear so."""
        for field, path in files:
            limit_mb = (self.server_limits or {}).get(UPLOAD_LIMITS.get(field, ""))
            if limit_mb is None:
                continue
            size = path.stat().st_size
            if size > limit_mb * MB:
                raise Refused(413, f"{field}: {path.name} is {size / MB:.1f} MB, over the server's limit of "
                                   f"{limit_mb:g} MB (not sent)")


def bundle_form(bundle: Bundle) -> tuple[list[tuple[str, Path]], dict[str, str]]:
    """The form fields of a bundle: its files as uploads, the rest as text (metadata as JSON)."""
    files, data = [], {}
    for field in dataclasses.fields(bundle):
        value = getattr(bundle, field.name)
        if field.name == "id" or value is None or value == "":
            continue
        if isinstance(value, Path):
            files.append((field.name, value))
        elif isinstance(value, Mapping | list):
            data[field.name] = json.dumps(dict(value) if isinstance(value, Mapping) else value, separators=(",", ":"))
        else:
            data[field.name] = str(value)
    return files, data


def _retry_kind(response: httpx.Response) -> tuple[str | None, str, float | None]:
    """('busy' or 'drop', what went wrong, the server's Retry-After) for an answer worth retrying;
    kind None for one that is not."""
    status = response.status_code
    kind = "busy" if status in BUSY else "drop" if status in TRANSIENT else None
    if kind is None:
        return None, "", None
    return kind, f"{_detail(response)} (HTTP {status})", _retry_after(response.headers.get("retry-after"))


def _checked(response: httpx.Response, allow: frozenset[int] | set[int]) -> httpx.Response:
    status = response.status_code
    if status < 400 or status in allow:
        return response
    if status in (401, 403):
        raise AuthError(f"{response.request.url}: {_detail(response)} (HTTP {status}); give the server's key "
                        "with --api-key or MOVIESCOPE_API_KEY")
    raise Refused(status, _detail(response))


def _json(response: httpx.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise RemoteError(f"{response.request.url}: the answer is not a JSON object (HTTP {response.status_code}, "
                          f"{response.headers.get('content-type')}); is this a moviescope server?")
    return answer


def _detail(response: httpx.Response) -> str:
    """The server's `detail`: FastAPI's list of field problems as 'field: message; ...'."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):
        return "; ".join(_field_problem(item) for item in detail)
    if isinstance(detail, str) and detail:
        return detail
    return response.text.strip()[:300] or response.reason_phrase


def _field_problem(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = [str(part) for part in item.get("loc", []) if part not in ("body", "query", "header")]
    return f"{'.'.join(where) or 'request'}: {item.get('msg', item)}"


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when.replace(tzinfo=when.tzinfo or UTC) - datetime.now(UTC)).total_seconds()
    return seconds if math.isfinite(seconds) else None


def _describe(err: httpx.TransportError) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
