"""Engines: the local thread pool and Ray Data give the same results, in order; features land in the
same cache files whichever engine extracted them."""

import json
import threading
from pathlib import Path

import pytest

from service.cli.batch import predict_catalogue
from training.config import load_config
from training.dataset import load_dataset
from training.engines import LocalEngine, RayEngine, make_engine
from training.features import FeatureCache, extract_features


def double(state: dict, batch: list[int]) -> list[int]:
    state["batches"].append(list(batch))
    return [2 * x for x in batch]


def failing(state, batch):
    raise RuntimeError("boom")


def test_local_engine_maps_batches_in_order_with_one_setup():
    calls = []

    def setup():
        calls.append(threading.get_ident())
        return {"batches": []}

    results = list(LocalEngine(workers=3).map(setup, double, list(range(10)), batch_size=3))
    assert results == [2 * x for x in range(10)]
    assert len(calls) == 1


def test_local_engine_passes_errors_on():
    with pytest.raises(RuntimeError, match="boom"):
        list(LocalEngine().map(dict, failing, [1, 2, 3], batch_size=1))


def test_engine_choice_and_pool_size():
    assert isinstance(make_engine("local"), LocalEngine)
    assert make_engine("ray", workers=3, address="ray://head:10001").address == "ray://head:10001"
    assert RayEngine().pool_size(16) == (8, 2.0)  # one actor per 2 CPUs by default
    assert RayEngine(workers=2).pool_size(2) == (2, 1.0)
    with pytest.raises(ValueError, match="unknown engine"):
        make_engine("spark")


def cache_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.npy"))}


@pytest.mark.slow
def test_ray_features_are_the_local_cache_files(ray_session, tiny_dataset, tiny_config, tmp_path):
    config = load_config(tiny_config)
    bundles = [m.bundle for m in load_dataset(tiny_dataset).movies][:8]  # two batches per worker
    assert any(b.poster is None for b in bundles)
    for name in ("video", "audio", "poster"):
        for engine in ("local", "ray"):
            cache = FeatureCache(tmp_path / engine)
            # one Ray actor (each imports torch and builds its model: about 10 s); two in the test below
            extract_features(config.build(name), bundles, cache, engine=make_engine(engine, workers=1))
    local, ray = cache_files(tmp_path / "local"), cache_files(tmp_path / "ray")
    with_poster = sum(b.poster is not None for b in bundles)
    assert len(local) == 2 * len(bundles) + with_poster and local == ray  # same keys, same bytes


@pytest.mark.slow
def test_ray_predictions_equal_the_local_ones(ray_session, tiny_artifacts, tiny_dataset, tmp_path):
    for engine in ("local", "ray"):
        predict_catalogue(tiny_artifacts, tiny_dataset, tmp_path / f"{engine}.jsonl", "test",
                          make_engine(engine, workers=2))
    local, ray = ([json.loads(line) for line in (tmp_path / f"{e}.jsonl").read_text().splitlines()]
                  for e in ("local", "ray"))
    assert [line["id"] for line in ray] == [line["id"] for line in local] and local
    for a, b in zip(local, ray, strict=True):
        assert a["used_modalities"] == b["used_modalities"]
        for modality, scores in a["modalities"].items():
            assert b["modalities"][modality] == pytest.approx(scores, abs=1e-6)
        fused = {g["genre"]: g["score"] for g in a["genres"]}
        assert {g["genre"]: g["score"] for g in b["genres"]} == pytest.approx(fused, abs=1e-6)
