"""SHA-256 of files: artifact manifests, pinned pretrained weights and feature-cache keys all use it."""

import hashlib
from functools import cache
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_file_cached(path: Path) -> str:
    """The same, computed once per process for a file whose size and modification time are unchanged."""
    stat = Path(path).stat()
    return _cached(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@cache
def _cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(Path(path))
