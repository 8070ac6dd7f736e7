"""Feature extraction with a content-keyed on-disk cache.

A cached item is keyed by the encoder's `feature_key()` (its preprocessing settings and
backbone weights) and a SHA-256 of the input file's bytes, so a changed trailer or a
changed setting never reuses stale features. Items are written atomically, so an
interrupted run leaves only complete items and the next run picks up where it stopped.
Decoding the next movie overlaps with embedding the current one.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from models.base import Encoder, atomic_path
from models.bundle import Bundle
from models.checksums import sha256_file_cached
from models.media import MediaError

log = logging.getLogger(__name__)
NO_INPUT = "none"  # marker content for "this bundle turned out to have no such input" (e.g. no audio track)


class FeatureCache:
    def __init__(self, root: Path | None):
        self.root = Path(root) if root else None

    def path(self, encoder: Encoder, bundle: Bundle) -> Path | None:
        if self.root is None or not encoder.cache_features:
            return None
        source = bundle.trailer if encoder.modality in ("video", "audio") else bundle.poster
        if source is None:
            return None
        key = f"{encoder.feature_key()}-{self._hash(Path(source))}"
        return self.root / encoder.modality / key[:2] / f"{key}.npy"

    def load(self, path: Path | None):
        if path is None or not path.exists():
            return None, False
        if path.stat().st_size == len(NO_INPUT) and path.read_bytes() == NO_INPUT.encode():
            return None, True
        return np.load(path, allow_pickle=False), True

    def store(self, path: Path | None, features) -> None:
        if path is None:
            return
        with atomic_path(path) as tmp:
            if features is None:
                tmp.write_bytes(NO_INPUT.encode())
            else:
                with tmp.open("wb") as f:
                    np.save(f, np.asarray(features), allow_pickle=False)

    def _hash(self, path: Path) -> str:
        return sha256_file_cached(path)[:24]


def extract_features(encoder: Encoder, bundles: list[Bundle], cache: FeatureCache,
                     desc: str | None = None) -> list:
    """Features for each bundle (None where the modality is absent or undecodable)."""
    results: list = [None] * len(bundles)
    todo = []
    for i, bundle in enumerate(bundles):
        if not encoder.has_input(bundle):
            continue
        path = cache.path(encoder, bundle)
        features, hit = cache.load(path)
        if hit:
            results[i] = features
        else:
            todo.append((i, bundle, path))
    if not todo:
        return results
    progress = tqdm(total=len(todo), desc=desc or encoder.modality, unit="movie", leave=False, disable=len(todo) < 5)
    with ThreadPoolExecutor(max_workers=1) as decoder, progress:
        for (i, _, path), raw in zip(todo, _prefetch(decoder, encoder, [b for _, b, _ in todo]), strict=True):
            progress.update()
            if raw is _FAILED:
                continue
            results[i] = encoder.embed(raw)
            cache.store(path, results[i])
    return results


def _prefetch(decoder: ThreadPoolExecutor, encoder: Encoder, bundles: list[Bundle], ahead: int = 2):
    """Decoded inputs in order, decoding up to `ahead` bundles in advance (bounded memory)."""
    futures = [decoder.submit(_decode, encoder, b) for b in bundles[:ahead]]
    for k in range(len(bundles)):
        if k + ahead < len(bundles):
            futures.append(decoder.submit(_decode, encoder, bundles[k + ahead]))
        yield futures[k].result()
        futures[k] = None


_FAILED = object()


def _decode(encoder: Encoder, bundle: Bundle):
    try:
        return encoder.load_input(bundle)
    except MediaError as err:
        log.warning("%s: %s input unusable, modality left out: %s", bundle.id, encoder.modality, err)
        return _FAILED
