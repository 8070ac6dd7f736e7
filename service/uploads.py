"""Streaming multipart uploads to a per-request temporary directory, with size limits.

The body is never held in memory: each file is copied chunk by chunk and refused (413)
as soon as it passes its limit. The directory is removed however the request ends.
"""

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import HTTPException, UploadFile

CHUNK = 1 << 20
MB = 1 << 20


@asynccontextmanager
async def request_dir(root: Path | None) -> AsyncIterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="moviescope-req-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def save_upload(upload: UploadFile, directory: Path, name: str, limit_mb: float) -> Path:
    """Copy `upload` to directory/name; 413 once it exceeds `limit_mb`. The suffix is kept for humans only."""
    suffix = Path(upload.filename or "").suffix.lower()[:8]
    target = directory / f"{name}{suffix}"
    limit, written = int(limit_mb * MB), 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise HTTPException(413, f"{name}: upload exceeds the limit of {limit_mb:g} MB")
            out.write(chunk)
    await upload.close()
    return target
