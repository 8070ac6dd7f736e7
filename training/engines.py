"""Engines: map a per-worker setup and a batch function over items, on this machine or on Ray.

    engine.map(setup, fn, items, batch_size) -> iterator over the results, in the order of `items`

`setup()` builds one worker's state (loads the encoders) once; `fn(state, batch)` turns a list of
items into as many results. Feature extraction in training (training/features.py) and batch
prediction (service/cli/batch.py) call it and never learn which engine ran. Both arguments are
picklable top-level callables, so Ray can ship them to other machines.

- `LocalEngine`: a thread pool in this process sharing one state (inference only reads the
  models), `workers` batches in flight: one batch waits on its ffmpeg children while another
  runs its forward passes.
- `RayEngine`: Ray Data. `ray.data.from_items` (one block per batch), then `map_batches` with an
  actor pool (each actor runs `setup` once), streamed back in order, so the caller writes results
  as they come. The setups run torch with the caller's thread count, so results are bit-identical
  to the local engine's on the same hardware. `RAY_ADDRESS` or `address` joins a cluster; otherwise a local Ray instance starts
  with this machine's cores. Items travel pickled, so media paths must be the same on every node
  (a shared volume).
"""

import logging
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)
ENGINES = ("local", "ray")
Setup = Callable[[], Any]
BatchFn = Callable[[Any, list], list]


class Engine(Protocol):
    name: str

    def map(self, setup: Setup, fn: BatchFn, items: Sequence, batch_size: int) -> Iterator[Any]: ...


def batches(items: Sequence, size: int) -> list[list]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


class LocalEngine:
    name = "local"

    def __init__(self, workers: int = 2):
        self.workers = max(1, workers)

    def map(self, setup: Setup, fn: BatchFn, items: Sequence, batch_size: int) -> Iterator[Any]:
        if not items:
            return
        state = setup()
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="engine")
        pending: deque = deque()
        try:
            for batch in batches(items, batch_size):
                pending.append(pool.submit(fn, state, batch))
                if len(pending) > self.workers:  # bounded: at most workers + 1 batches decoded at once
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class RayEngine:
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None):
        self.address, self.workers = address, workers

    def map(self, setup: Setup, fn: BatchFn, items: Sequence, batch_size: int) -> Iterator[Any]:
        if not items:
            return
        ray = connect(self.address)
        actors, cpus = self.pool_size(ray.cluster_resources().get("CPU", 1))
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # results are written in the order of the items
        context.enable_progress_bars = False  # the caller shows its own
        n_batches = -(-len(items) // batch_size)
        # Items and results travel as pickled bytes between this job's own processes (Ray pickles every
        # object it moves anyway); bytes keep Ray Data from turning them into Arrow columns. Nothing
        # unpickled here comes from outside the job: media are decoded from files, never unpickled.
        dataset = ray.data.from_items([{"item": pickle.dumps(item)} for item in items],
                                      override_num_blocks=n_batches)
        results = dataset.map_batches(RayWorker, fn_constructor_args=(setup, fn), batch_size=batch_size,
                                      batch_format="numpy", num_cpus=cpus,
                                      compute=ray.data.ActorPoolStrategy(size=actors))
        for row in results.iter_rows():
            yield pickle.loads(row["result"])

    def pool_size(self, cluster_cpus: float) -> tuple[int, float]:
        """(actors, CPUs reserved per actor): by default one actor per 2 CPUs."""
        actors = self.workers or max(1, int(cluster_cpus) // 2)
        return actors, max(1.0, float(int(cluster_cpus) // actors))


class RayWorker:
    """One actor of the pool: the state is made once, then every batch goes through `fn`."""

    def __init__(self, setup: Setup, fn: BatchFn):
        self.state, self.fn = setup(), fn

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = self.fn(self.state, [pickle.loads(item) for item in batch["item"]])
        return {"result": np.array([pickle.dumps(r) for r in results], dtype=object)}


def connect(address: str | None = None):
    """The ray module, connected: to `address` or RAY_ADDRESS, else a new local instance."""
    try:
        import ray
    except ImportError:
        raise ValueError("--engine ray needs Ray: pip install 'moviescope[ray]'") from None
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        log.info("starting Ray %s", f"(joining {address})" if address else "locally")
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True)
    return ray


def make_engine(name: str = "local", workers: int | None = None, address: str | None = None) -> Engine:
    if name == "local":
        return LocalEngine(workers or 2)
    if name == "ray":
        return RayEngine(address, workers)
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
