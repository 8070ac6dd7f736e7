"""Many bundles at once, each answered exactly as `POST /v1/predict` answers it alone.

The same steps as `Predictor.predict` (and its methods): admit each movie (its metadata against
the model's schema), decode its media, embed and score each present modality, fuse, threshold. What changes is only the grouping: the movies of a
batch are decoded side by side (their ffmpeg children run at once), and each modality's encoder
sees the whole batch, so the video CNN runs once over the frames of all its movies.

A movie that cannot be scored (a corrupt trailer, metadata of the wrong kind, nothing the model
reads, ...) gets `{"error": ...}`; the others go on.
`timings_ms` hold each movie's own decode time and its share of the batch's stage times.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.base import check_proba
from models.bundle import Bundle
from models.device import COMPUTE
from models.media import MediaError
from models.schema import MetadataError
from service.predictor import BundleError, Predictor, Scored


class BatchPredictor(Predictor):
    def predict_many(self, bundles: list[Bundle]) -> list[dict]:
        """Each bundle's answer (or {"error": message}), in order."""
        with ThreadPoolExecutor(max(1, len(bundles)), thread_name_prefix="decode") as pool:
            prepared = list(pool.map(self._prepare_or_error, bundles))
        good = [i for i, p in enumerate(prepared) if not isinstance(p, Exception)]
        answers: list[dict] = [{"error": str(p)} if isinstance(p, Exception) else {} for p in prepared]
        timings = [{"decode": prepared[i][2]} for i in good]
        admitted = [prepared[i][0] for i in good]
        with COMPUTE, torch.inference_mode():
            scores, judged = self._score_many([a[0] for a in admitted], [prepared[i][1] for i in good], timings)
            for k, i in enumerate(good):
                start = time.perf_counter()
                trusted = self.trust.fused(scores[k], judged[k])
                fused = self._fuse(trusted)
                timings[k]["fusion"] = (time.perf_counter() - start) * 1000
                timings[k]["total"] = sum(timings[k].values())
                bundle, ignored_fields, ignored_parts = admitted[k]
                scored = Scored(bundle, prepared[i][1], scores[k], fused, ignored_fields, ignored_parts, judged[k],
                                tuple(trusted))
                answers[i] = self.response(scored, timings[k])
        return answers

    def _prepare_or_error(self, bundle: Bundle) -> tuple[tuple, dict[str, Any], float] | Exception:
        """(the admitted bundle with what was set aside, its decoded media, the decode time in ms), or the error."""
        start = time.perf_counter()
        try:
            admitted = self.admit(bundle)
            return admitted, self._decode_media(admitted[0]), (time.perf_counter() - start) * 1000
        except (MediaError, MetadataError, BundleError, OSError) as err:  # a corrupt trailer, a file gone, ...
            return err

    def _score_many(self, bundles: list[Bundle], decoded: list[dict], timings: list[dict]) -> tuple[list, list]:
        """Each movie's {modality: (n_genres,) scores} and {modality: typicality}; its timings get each stage's
        time per movie in it, and its own typicality time."""
        scores: list[dict[str, np.ndarray]] = [{} for _ in bundles]
        features_of: list[dict] = [{} for _ in bundles]
        for modality, encoder in self.artifacts.encoders.items():
            if encoder.reads_file:
                present = [i for i, d in enumerate(decoded) if modality in d]
            else:
                present = [i for i, b in enumerate(bundles) if encoder.has_input(b)]
            if not present:
                continue
            start = time.perf_counter()
            raws = [decoded[i][modality] if modality in decoded[i] else encoder.load_input(bundles[i])
                    for i in present]
            for i, features in zip(present, encoder.embed_many(raws), strict=True):
                if features is not None:  # each head sees one movie, as in `predict`: the same float rounding
                    scores[i][modality] = check_proba(encoder.predict_features([features]), len(encoder.genres_))[0]
                    features_of[i][modality] = features
            share = (time.perf_counter() - start) * 1000 / len(present)
            for i in present:
                timings[i][modality] = share
        return scores, [self._judge(f, t) for f, t in zip(features_of, timings, strict=True)]


def load_batch_predictor(artifacts: Path, device: str = "cpu", threads: int | None = None) -> BatchPredictor:
    """A worker's state (the engine's setup): the artifacts, loaded once per worker. `threads`: torch's
    thread count of the process that asked (some kernels round differently with another count)."""
    if threads is not None and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    return BatchPredictor.from_dir(artifacts, device=device, warm_up=False)


def predict_batch(predictor: BatchPredictor, items: list[tuple[str, Bundle | str]]) -> list[dict]:
    """The engine's batch function: (id, bundle, or the reason the row was rejected) -> one output line each."""
    bundles = [(k, item) for k, (_, item) in enumerate(items) if isinstance(item, Bundle)]
    answers = dict(zip((k for k, _ in bundles), predictor.predict_many([b for _, b in bundles]), strict=True))
    return [{"id": movie_id, **answers[k]} if k in answers else {"id": movie_id, "error": item}
            for k, (movie_id, item) in enumerate(items)]
