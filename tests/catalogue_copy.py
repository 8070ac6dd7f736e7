"""A few rows of a dataset with their media copied beside them, for tests that then damage some of them.
Import it as `catalogue_copy` (pytest puts tests/ on sys.path)."""

import json
import shutil
from pathlib import Path


def copied_rows(dataset: Path, out: Path, n: int) -> list[dict]:
    """The first `n` rows of `dataset`'s movies.jsonl, their trailers and posters copied under `out`."""
    rows = [json.loads(line) for line in (dataset / "movies.jsonl").read_text().splitlines()][:n]
    for row in rows:
        for part in ("trailer", "poster"):
            if row.get(part):
                (out / row[part]).parent.mkdir(exist_ok=True)
                shutil.copy(dataset / row[part], out / row[part])
    return rows
