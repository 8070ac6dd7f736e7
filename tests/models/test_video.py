"""The video encoder on tiny real trailers (features, poolings, older artifacts), and the shared torch
training loop (models.torch_fit). Shapes and save/load of every video model: test_encoder_contract.py."""

import base64
import io
import json

import numpy as np
import pytest
import torch
from media_fixtures import make_video
from PIL import Image
from torch import nn

from models import torch_fit, video
from models.bundle import Bundle
from models.decode import Decode
from models.genres import MOVIESCOPE
from models.torch_fit import FitSettings, fit_module, micro_ap, predict_proba
from models.video import VideoEncoder

TINY = {"frame_size": 32, "n_frames": 4, "epochs": 3, "hidden": (16, 8), "conv_channels": 8}
N_STATS = 30  # image_stats; what changes between frames is the motion stream's


def random_labels(n: int, seed: int = 0) -> np.ndarray:
    y = (np.random.default_rng(seed).random((n, len(MOVIESCOPE))) < 0.3).astype(np.float32)
    y[np.arange(n), np.arange(n) % len(MOVIESCOPE)] = 1.0  # every movie has a genre
    return y


@pytest.fixture(scope="module")
def trailers(tmp_path_factory) -> list[Bundle]:
    root = tmp_path_factory.mktemp("trailers")
    sizes = [(64, 48), (48, 64), (64, 64), (96, 48)]
    return [Bundle(id=f"t{i}", trailer=make_video(root / f"t{i}.mp4", duration=2, size=size, audio=False, rate=8))
            for i, size in enumerate(sizes)]


@pytest.fixture(scope="module")
def features(trailers) -> list[np.ndarray]:
    encoder = VideoEncoder(**TINY)
    return [encoder.features(b) for b in trailers]


def test_features_are_float16_frames_by_backbone_plus_stats(features):
    assert all(f.shape == (4, 1280 + N_STATS) and f.dtype == np.float16 for f in features)
    assert all(np.isfinite(f).all() for f in features)


def test_sampled_frames_carry_their_times_and_the_trailers_size(trailers):
    sampled = VideoEncoder(**TINY).load_input(trailers[0], Decode())
    assert sampled.frames.shape == (4, 32, 32, 3) and sampled.frames.dtype == np.uint8
    assert sampled.source_size == (64, 48) and np.all(np.diff(sampled.times_s) > 0)
    assert 0 <= sampled.times_s[0] and sampled.times_s[-1] < 2.0


def test_fitting_on_cached_features_needs_no_backbone_and_repeats(features):
    y = random_labels(len(features))
    first = VideoEncoder(**TINY, pooling="tempconv").fit_features(features, y)
    second = VideoEncoder(**TINY, pooling="tempconv").fit_features(features, y)
    assert first._backbone is None and second._backbone is None
    assert np.array_equal(first.predict_features(features), second.predict_features(features))


def test_unknown_pooling_is_refused(features):
    with pytest.raises(ValueError, match="pooling"):
        VideoEncoder(**TINY, pooling="gru").fit_features(features, random_labels(len(features)))


@pytest.mark.parametrize("pooling", list(video.POOLINGS))
def test_each_pooling_gives_its_width_and_reads_frame_order_or_not(pooling):
    pool = video.POOLINGS[pooling](12, VideoEncoder(**TINY, pooling=pooling)).eval()
    x = torch.randn(3, 5, 12)
    with torch.no_grad():
        out, reversed_out = pool(x), pool(x.flip(dims=[1]))
    assert out.shape == (3, pool.width)
    order_free = {"mean": True, "tempconv": False, "lstm": False, "bilstm": False}[pooling]
    assert torch.allclose(out, reversed_out, atol=1e-6) == order_free


def test_bilstm_learns_which_way_the_frames_run_and_round_trips(tmp_path):
    """Half the trailers have a feature rising over their frames, half falling: the same values, so the
    mean of the frames cannot tell them apart; the BiLSTM reads their order."""
    rng = np.random.default_rng(0)
    n, frames = 48, 6
    x = rng.normal(size=(n, frames, 4)).astype(np.float32)
    rising = np.arange(n) % 2 == 0
    ramp = np.linspace(-3.0, 3.0, frames)
    x[:, :, 0] += np.where(rising[:, None], ramp, ramp[::-1])
    y = np.zeros((n, len(MOVIESCOPE)), dtype=np.float32)
    y[:, 0], y[:, 1] = rising, ~rising
    features = list(x.astype(np.float16))
    train, test = features[:32], features[32:]
    params = {**TINY, "epochs": 40, "batch_size": 16, "lstm_hidden": 8, "dropout": 0.0, "lr": 2e-2}
    scores = {}
    for pooling in ("mean", "bilstm"):
        encoder = VideoEncoder(**params, pooling=pooling).fit_features(train, y[:32])
        scores[pooling] = micro_ap(y[32:, :2], encoder.predict_features(test)[:, :2])
    assert scores["bilstm"] > 0.9 and scores["mean"] < 0.75
    encoder.save(tmp_path / "bilstm")
    again = VideoEncoder.load(tmp_path / "bilstm")
    assert again.pooling == "bilstm" and np.array_equal(again.predict_features(test), encoder.predict_features(test))


def test_artifacts_from_before_the_pooling_table_still_load(features, tmp_path):
    """Earlier heads had the same parameter names (TempConv's conv at temporal.0), and their config.json
    had no lstm_hidden."""
    encoder = VideoEncoder(**TINY, pooling="tempconv").fit_features(features, random_labels(len(features)))
    assert {k for k in encoder.head_.state_dict() if k.startswith("temporal.")} == {"temporal.0.weight",
                                                                                     "temporal.0.bias"}
    assert not [k for k in VideoEncoder(**TINY).new_head(20).state_dict() if k.startswith("temporal.")]
    encoder.save(tmp_path / "video")
    config = json.loads((tmp_path / "video" / "config.json").read_text())
    del config["params"]["lstm_hidden"]
    (tmp_path / "video" / "config.json").write_text(json.dumps(config))
    again = VideoEncoder.load(tmp_path / "video")
    assert np.array_equal(again.predict_features(features), encoder.predict_features(features))


# ---- models.torch_fit -------------------------------------------------------------------
def separable(n: int, seed: int, flip: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    y = (x @ torch.randn(10, len(MOVIESCOPE), generator=torch.Generator().manual_seed(99)) > 0.5).float()
    return x, (1 - y if flip else y)


def test_fit_module_learns_separable_data():
    torch.manual_seed(0)
    x, y = separable(160, seed=1)
    x_val, y_val = separable(60, seed=2)
    module = fit_module(nn.Linear(10, len(MOVIESCOPE)), x, y, x_val, y_val, FitSettings(lr=0.05, epochs=40, patience=5))
    assert micro_ap(y_val, predict_proba(module, x_val)) > 0.9
    assert not module.training


def test_early_stopping_restores_the_best_epoch(monkeypatch):
    """Validation labels inverted: training makes validation worse, so it stops after `patience` epochs."""
    scores = []

    def recording(y_true, proba):
        scores.append(micro_ap(y_true, proba))
        return scores[-1]

    monkeypatch.setattr(torch_fit, "micro_ap", recording)
    torch.manual_seed(0)
    x, y = separable(160, seed=1)
    x_val, y_val = separable(60, seed=2, flip=True)
    settings = FitSettings(lr=0.05, epochs=50, patience=3)
    module = fit_module(nn.Linear(10, len(MOVIESCOPE)), x, y, x_val, y_val, settings)
    best = int(np.argmax(scores))
    assert len(scores) == best + 1 + settings.patience < settings.epochs
    assert micro_ap(y_val, predict_proba(module, x_val)) == pytest.approx(scores[best])


def test_without_validation_it_runs_every_epoch():
    calls = []
    module = nn.Linear(10, len(MOVIESCOPE))
    module.register_forward_hook(lambda m, i, o: calls.append(m.training))
    x, y = separable(50, seed=1)
    fit_module(module, x, y, settings=FitSettings(epochs=4, batch_size=16))
    assert sum(calls) == 4 * 4  # 4 epochs of ceil(50 / 16) batches


def test_variable_length_inputs_with_a_collate_function():
    class MeanPool(nn.Module):
        def __init__(self):
            super().__init__()
            self.out = nn.Linear(3, len(MOVIESCOPE))

        def forward(self, batch):  # (batch, frames, 3) zero-padded, plus the lengths in the last column
            lengths = batch[:, 0, 3:]
            return self.out(batch[:, :, :3].sum(dim=1) / lengths)

    def collate(items):
        padded = nn.utils.rnn.pad_sequence(items, batch_first=True)
        lengths = torch.tensor([len(i) for i in items], dtype=torch.float32)
        return torch.cat([padded, lengths[:, None, None].expand(-1, padded.shape[1], 1)], dim=2)

    g = torch.Generator().manual_seed(0)
    items = [torch.randn(int(k), 3, generator=g) for k in torch.randint(1, 6, (20,), generator=g)]
    y = torch.from_numpy(random_labels(20))
    module = fit_module(MeanPool(), items, y, items[:5], y[:5], FitSettings(epochs=3, batch_size=8), collate=collate)
    proba = predict_proba(module, items, batch_size=7, collate=collate)
    assert proba.shape == (20, len(MOVIESCOPE)) and proba.dtype == np.float32


@pytest.fixture(scope="module", params=list(video.POOLINGS))
def fitted(request, features) -> VideoEncoder:
    return VideoEncoder(**TINY, pooling=request.param).fit_features(features, random_labels(len(features)))


def test_explanation_frames_importance_and_heatmaps(fitted, trailers):
    sampled = fitted.load_input(trailers[3])
    genres = ["Action", "Drama"]
    out = fitted.explain(sampled, genres)
    json.dumps(out)
    assert out["times_s"] == pytest.approx(sampled.times_s.tolist(), abs=1e-3)
    features = fitted.embed(sampled)
    full = _logits(fitted, features)
    for genre in genres:
        j = MOVIESCOPE.index(genre)
        # each frame's importance: the logit less the logit of the trailer without that frame
        without = [_logits(fitted, np.delete(features, i, axis=0))[j] for i in range(len(features))]
        assert out["importance"][genre] == pytest.approx(full[j] - np.array(without), abs=1e-4)
        maps = [h for h in out["heatmaps"] if h["genre"] == genre]
        best = np.argsort(-np.array(out["importance"][genre]), kind="stable")[:video.HEATMAP_FRAMES]
        assert [h["frame"] for h in maps] == best.tolist()
        for h in maps:
            mask = Image.open(io.BytesIO(base64.b64decode(h["mask_png"])))
            assert (mask.mode, mask.size, (h["width"], h["height"])) == ("L", (32, 32), (32, 32))
            assert h["time_s"] == pytest.approx(sampled.times_s[h["frame"]], abs=1e-3)
            overlay = Image.open(io.BytesIO(base64.b64decode(h["overlay_png"])))
            assert overlay.size == (96, 48)  # the trailer's own aspect


def _logits(encoder: VideoEncoder, features: np.ndarray) -> np.ndarray:
    proba = encoder.predict_features([features])[0].astype(np.float64)
    return np.log(proba / (1 - proba))
