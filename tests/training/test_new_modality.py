"""A sixth modality is its encoder class plus one entry in models/encoders.py: nothing else changes.

The toy modality below reads the trailer's shape (duration, aspect, frame rate) from its probe. It
is defined here and put into the encoder table for the test only; training, the feature cache,
the fusion, the report and the predictor take it up with no source file touched.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from models import encoders
from models.base import Encoder
from models.bundle import Bundle
from models.decode import Decode
from models.files import write_json_atomic
from models.genres import MOVIESCOPE
from service.predictor import Predictor
from training.config import load_config
from training.train import train

WEIGHTS = "shape.json"


class TrailerShape(Encoder):
    modality = "trailer_shape"
    source = "trailer"

    def __init__(self, seed: int = 0):
        self._store(seed=seed)

    def load_input(self, bundle: Bundle, decode: Decode | None = None):
        info = (decode or Decode()).probe(bundle.trailer)
        return [info.duration_s, info.width / info.height, info.fps]

    def embed(self, shape) -> np.ndarray:
        return np.asarray(shape, dtype=np.float32)

    def fit_features(self, X, Y, X_val=None, Y_val=None) -> "TrailerShape":
        self.share_ = np.asarray(Y, dtype=np.float64).mean(axis=0)  # a prior; what matters is the plumbing
        self.weight_ = float(1.0 / (1.0 + np.mean([x[0] for x in X])))
        return self

    def predict_features(self, X) -> np.ndarray:
        duration = np.array([[x[0]] for x in X], dtype=np.float64)
        return np.clip(self.share_[None] * (1 + self.weight_ * duration) / 2, 0, 1).astype(np.float32)

    def save_weights(self, directory: Path) -> None:
        write_json_atomic(Path(directory) / WEIGHTS, {"share": self.share_.tolist(), "weight": self.weight_})

    def load_weights(self, directory: Path) -> None:
        saved = json.loads((Path(directory) / WEIGHTS).read_text())
        self.share_, self.weight_ = np.array(saved["share"]), saved["weight"]


LIGHT_MODELS = {"text": {"params": {"calibration_folds": 2}}, "metadata": {"params": {"n_estimators": 10}},
                "trailer_shape": {"modality": "trailer_shape", "encoder": "trailer_shape"},
                **{name: None for name in ("video", "video_tempconv", "video_lstm", "video_bilstm", "motion", "audio",
                                           "poster", "text_title", "text_fasttext", "text_minilm", "text_conv1d",
                                           "metadata_rf")}}


@pytest.fixture
def toy_table(monkeypatch):
    monkeypatch.setitem(encoders.ENCODER_CLASSES, "trailer_shape", TrailerShape)


def test_a_toy_sixth_modality_is_trained_cached_fused_reported_and_served(toy_table, tiny_dataset, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"models": LIGHT_MODELS, "min_genre_positives": 0}))
    out, cache = tmp_path / "artifacts", tmp_path / "cache"
    train(tiny_dataset, out, load_config(config), "cpu", cache)

    assert len(list((cache / "trailer_shape").rglob("*.npy"))) == 24  # cached, keyed by the trailer's bytes
    fusion = json.loads((out / "fusion.json").read_text())
    assert fusion["serving_models"]["trailer_shape"] == "trailer_shape"
    report = json.loads((out / "report" / "report.json").read_text())
    rows = {row["name"]: row for row in report["rows"]}
    assert "trailer_shape" in rows and rows["all (learned)"]["modalities"][-1] == "trailer_shape"

    movie = json.loads((tiny_dataset / "movies.jsonl").read_text().splitlines()[0])
    bundle = Bundle(id="m", trailer=tiny_dataset / movie["trailer"], plot="A plot.")
    predictor = Predictor.from_dir(out, warm_up=False)
    answer = predictor.predict(bundle)
    toy = predictor.artifacts.encoders["trailer_shape"]
    expected = toy.predict_features([toy.features(bundle)])[0]
    assert answer["used_modalities"] == ["text", "trailer_shape"]
    assert list(answer["modalities"]["trailer_shape"].values()) == pytest.approx(expected.tolist(), abs=1e-6)
    assert len(expected) == len(MOVIESCOPE) and "trailer_shape" in answer["timings_ms"]
