"""Feature extraction with a content-keyed on-disk cache.

A cached item is keyed by the encoder's `feature_key()` (its preprocessing settings and
backbone weights) and a SHA-256 of the input file's bytes, so a changed trailer or a
changed setting never reuses stale features. Items are written atomically, so an
interrupted run leaves only complete items and the next run picks up where it stopped.
An engine (training/engines.py) does the extraction; decoding some movies overlaps with
embedding others, and the features land here, under the same keys, whichever engine ran.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from models.base import Encoder
from models.bundle import Bundle
from models.checksums import sha256_file_cached
from models.device import COMPUTE
from models.files import atomic_path
from models.media import MediaError
from training.engines import Engine, LocalEngine
from training.progress import progress

log = logging.getLogger(__name__)
NO_INPUT = "none"  # marker content for "this bundle turned out to have no such input" (e.g. no audio track)
BATCH_SIZE = 4  # movies decoded side by side by one worker


class FeatureCache:
    def __init__(self, root: Path | None):
        self.root = Path(root) if root else None

    def path(self, encoder: Encoder, bundle: Bundle) -> Path | None:
        source = encoder.source_file(bundle)
        if self.root is None or source is None:
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
                     desc: str | None = None, engine: Engine | None = None) -> list:
    """Features for each bundle (None where the modality is absent or undecodable).

    Cache misses go through `engine` (default: threads here) in batches: a batch's movies are decoded
    side by side, then embedded one by one (so a movie's features never depend on its batch). The
    cheap modalities (text, metadata: nothing to decode, nothing cached) always run here."""
    results: list = [None] * len(bundles)
    if not encoder.reads_file:
        return _embed_uncached(encoder, bundles, results)
    todo = []
    for i, bundle in enumerate(bundles):
        if not encoder.has_input(bundle):
            continue
        path = cache.path(encoder, bundle)
        features, hit = cache.load(path)
        if hit:
            results[i] = features
        else:
            todo.append((i, path))
    if not todo:
        return results
    engine = engine or LocalEngine()
    mapped = engine.map(EncoderSetup(encoder), embed_batch, [bundles[i] for i, _ in todo], BATCH_SIZE)
    with progress(total=len(todo), desc=desc or encoder.modality, unit="movie", leave=False,
                  disable=len(todo) < 5) as bar:
        for (i, path), features in zip(todo, mapped, strict=True):
            bar.update()
            if isinstance(features, Unusable):
                log.warning("%s: %s input unusable, modality left out: %s", bundles[i].id, encoder.modality,
                            features.reason)
                continue
            results[i] = features
            cache.store(path, features)
    return results


def _embed_uncached(encoder: Encoder, bundles: list[Bundle], results: list) -> list:
    """The cheap modalities (text, metadata: nothing to decode, nothing cached) in one `embed_many`,
    which lets a sentence encoder batch its plots."""
    present = [i for i, bundle in enumerate(bundles) if encoder.has_input(bundle)]
    for i, features in zip(present, encoder.embed_many([encoder.load_input(bundles[i]) for i in present]),
                           strict=True):
        results[i] = features
    return results


@dataclass(frozen=True)
class Unusable:
    """A movie whose input could not be decoded (the modality is left out for it), and why."""

    reason: str


class EncoderSetup:
    """The engine's setup for `embed_batch`: this process reuses `encoder` (its backbone is loaded);
    pickled for another process (a Ray actor), it rebuilds the encoder from its class and parameters,
    and runs torch with this process's thread count: some kernels round differently with another
    count, and the features must be the same bytes whichever engine made them."""

    def __init__(self, encoder: Encoder):
        self.encoder = encoder

    def __call__(self) -> Encoder:
        return self.encoder

    def __reduce__(self):
        encoder = self.encoder
        return _rebuilt, (type(encoder), encoder.get_params(), encoder.device, torch.get_num_threads(),
                          _blas_threads())


_BLAS_LIMITS = []  # the limits set in a rebuilt process (kept: letting them go would restore the old count)


def _rebuilt(cls: type[Encoder], params: dict, device: str, threads: int, blas_threads: int | None = None
             ) -> EncoderSetup:
    """Ray sets OMP_NUM_THREADS in its workers, so numpy's BLAS (librosa's mel filterbank) sums in another
    order than here unless its thread count is set back too."""
    torch.set_num_threads(threads)
    if blas_threads:
        from threadpoolctl import threadpool_limits

        _BLAS_LIMITS.append(threadpool_limits(limits=blas_threads, user_api="blas"))
    return EncoderSetup(cls(**params).to(device))


def _blas_threads() -> int | None:
    from threadpoolctl import threadpool_info

    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts) if counts else None


def embed_batch(encoder: Encoder, bundles: list[Bundle]) -> list:
    """Each bundle's features, or Unusable: decoded side by side, then embedded one at a time."""
    with ThreadPoolExecutor(max(1, len(bundles)), thread_name_prefix="decode") as pool:
        raws = list(pool.map(partial(_decode, encoder), bundles))
    with COMPUTE:
        return [raw if isinstance(raw, Unusable) else encoder.embed(raw) for raw in raws]


def _decode(encoder: Encoder, bundle: Bundle):
    try:
        return encoder.load_input(bundle)
    except MediaError as err:
        return Unusable(str(err))
