"""Files written whole or not at all: a temporary file beside the target, renamed over it on success.

Torch-free, so that light jobs (an importer, the CLI's argument checks) can use it.
"""

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, data: Any) -> None:
    write_bytes_atomic(path, json.dumps(data, indent=2, sort_keys=True).encode())


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


class atomic_path:
    """`with atomic_path(final) as tmp:` write to tmp; it replaces `final` only if the block succeeds.

    The file is private to its owner (mkstemp's 0o600) unless `mode` says otherwise."""

    def __init__(self, final: Path, mode: int | None = None):
        self.final = Path(final)
        self.mode = mode

    def __enter__(self) -> Path:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.final.name}.", suffix=".tmp", dir=self.final.parent)
        os.close(fd)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            if self.mode is not None:
                os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.final)
        else:
            self.tmp.unlink(missing_ok=True)
