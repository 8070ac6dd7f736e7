"""The dataset directory an import writes: movies.jsonl and dataset.json, each replaced atomically.

--out must be new, empty, or a dataset this importer wrote before (then it is replaced): an import never
writes over a directory that holds anything else, such as a dataset with media or a model's artifacts.
"""

import json
from contextlib import contextmanager
from pathlib import Path

from models.files import atomic_path
from training.dataset import MOVIES_FILE
from training.importers import ImportDataError

DATASET_FILE = "dataset.json"
FILE_MODE = 0o644  # a dataset is for reading by others (mkstemp makes its file 0o600)


def check_out_dir(out: Path, name: str) -> None:
    """Refuse an --out that is a file, or a directory holding anything but an earlier import called `name`."""
    if out.exists() and not out.is_dir():
        raise ImportDataError(f"--out {out}: exists and is not a directory")
    if not out.is_dir():
        return
    ours = {MOVIES_FILE, DATASET_FILE}
    entries = sorted(p.name for p in out.iterdir() if not _leftover_temporary(p.name))
    foreign = [e for e in entries if e not in ours]
    if foreign or (entries and _dataset_name(out / DATASET_FILE) != name):
        shown = ", ".join((foreign or entries)[:5])
        raise ImportDataError(f"--out {out}: holds {shown}, not a {name!r} dataset this importer wrote; "
                              "give a new or empty directory")


def _leftover_temporary(entry: str) -> bool:
    """What `_atomic_text` leaves behind when a run is killed mid-write (".movies.jsonl.abc123.tmp")."""
    return entry.endswith(".tmp") and any(entry.startswith(f".{f}.") for f in (MOVIES_FILE, DATASET_FILE))


def _dataset_name(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        return None


def write_dataset(out: Path, rows: list[dict], description: dict) -> Path:
    """movies.jsonl (one row a line), then dataset.json; NaN or infinity anywhere is an error, never written."""
    out.mkdir(parents=True, exist_ok=True)
    for path in out.iterdir():
        if _leftover_temporary(path.name):
            path.unlink()
    with _atomic_text(out / MOVIES_FILE) as lines:
        for row in rows:
            lines.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
    with _atomic_text(out / DATASET_FILE) as text:
        text.write(json.dumps(description, ensure_ascii=False, allow_nan=False, indent=2) + "\n")
    return out / MOVIES_FILE


@contextmanager
def _atomic_text(final: Path):
    """A text file (readable by others) that replaces `final` only when the block succeeds."""
    with atomic_path(final, mode=FILE_MODE) as tmp, tmp.open("w", encoding="utf-8") as file:
        yield file
