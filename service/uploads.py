"""Uploads: size limits, and staging files in a per-request temporary directory.

The body is never held in memory. Three limits apply, from the cheapest:
- `RejectLargeBodies`: a Content-Length above the total limit gets 413 before a byte is read;
- the route's `max_body_size` (FastAPI) stops a body, chunked or not, once it passes the total;
- `save_upload` copies one file chunk by chunk and stops (413) once it passes that file's limit.
The request's directory is removed however the request ends (success, error, disconnect); one left
by a killed server is removed at the next start, once it is a day old.
"""

import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import HTTPException, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.settings import MB

CHUNK = 1 << 20
REQUEST_DIR_PREFIX = "moviescope-req-"
STALE_AFTER_S = 24 * 3600
log = logging.getLogger("moviescope.service")


@asynccontextmanager
async def request_dir(root: Path | None) -> AsyncIterator[Path]:
    with tempfile.TemporaryDirectory(prefix=REQUEST_DIR_PREFIX, dir=root, ignore_cleanup_errors=True) as path:
        yield Path(path)


def remove_stale_request_dirs(root: Path | None, max_age_s: float = STALE_AFTER_S) -> int:
    """Remove request directories older than `max_age_s` in `root` (where this service stages uploads;
    the system temp dir when None): only ours by name and owner, never what a symlink points to."""
    root = Path(root or tempfile.gettempdir())
    cutoff = time.time() - max_age_s
    removed = 0
    for entry in root.glob(f"{REQUEST_DIR_PREFIX}*"):
        info = entry.lstat()
        if entry.is_symlink() or not entry.is_dir() or info.st_uid != os.getuid() or info.st_mtime > cutoff:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    if removed:
        log.info("removed %d request directories left by an earlier run in %s", removed, root)
    return removed


async def save_upload(upload: UploadFile, directory: Path, name: str, limit_mb: float) -> Path:
    """Copy `upload` to directory/name(.suffix); 413 as soon as it passes `limit_mb`.

    The directory is the request's own, so a fixed name is unique, and error messages say
    "trailer.mp4: ..." rather than a random temporary name. The suffix is for humans only:
    decoding trusts the content, never the name.
    """
    suffix = Path(upload.filename or "").suffix.lower()
    target = directory / f"{name}{suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ''}"
    limit, written = int(limit_mb * MB), 0
    try:
        with target.open("xb") as out:
            while chunk := await upload.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise HTTPException(413, f"{name}: upload exceeds the limit of {limit_mb:g} MB")
                await run_in_threadpool(out.write, chunk)
    finally:
        await upload.close()
    return target


class RejectLargeBodies:
    """ASGI middleware: 413 at once when the declared Content-Length is above `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, paths: Iterable[str]):
        self.app = app
        self.max_bytes = max_bytes
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths and self._too_large(scope):
            detail = f"request body exceeds the limit of {self.max_bytes / MB:g} MB"
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _too_large(self, scope: Scope) -> bool:
        declared = Headers(scope=scope).get("content-length", "")
        return declared.isdigit() and int(declared) > self.max_bytes
