"""models.audio: log-mel clips from real (tiny) trailers, the absent-audio case, the CRNN's contract."""

from pathlib import Path

import numpy as np
import pytest
from media_fixtures import make_video

from models import audio as audio_module
from models.audio import SILENCE_DB, AudioEncoder
from models.bundle import Bundle
from models.genres import MOVIESCOPE

TINY = {"n_mels": 16, "clip_seconds": 1.0, "n_clips": 2, "epochs": 2, "batch_size": 4}
FREQUENCIES = (220, 330, 440, 660, 880, 1320)


@pytest.fixture(scope="module")
def trailers(tmp_path_factory) -> dict[str, Path]:
    """Two-second trailers with sine soundtracks at different pitches, and one without audio."""
    root = tmp_path_factory.mktemp("audio")
    made = {f"sine{f}": make_video(root / f"sine{f}.mp4", duration=2, size=(32, 24), frequency=f)
            for f in FREQUENCIES}
    made["silent"] = make_video(root / "silent.mp4", duration=2, size=(32, 24), audio=False)
    return made


@pytest.fixture(scope="module")
def bundles(trailers) -> tuple[list[Bundle], np.ndarray]:
    """Bundles with audio; genre 0 marks the high pitches, genre 1 the low ones."""
    items = [Bundle(id=f"m{f}", trailer=trailers[f"sine{f}"]) for f in FREQUENCIES]
    y = np.zeros((len(items), len(MOVIESCOPE)), dtype=np.float32)
    y[:, 0] = [f >= 600 for f in FREQUENCIES]
    y[:, 1] = 1 - y[:, 0]
    return items, y


@pytest.fixture(scope="module")
def fitted(bundles) -> AudioEncoder:
    items, y = bundles
    encoder = AudioEncoder(**TINY)
    assert encoder.fit(items[:4], y[:4], items[4:], y[4:]) is encoder
    return encoder


def test_log_mel_clips_have_the_shape_the_parameters_say(trailers):
    encoder = AudioEncoder(n_mels=24, hop_length=128, n_fft=256, clip_seconds=0.5, n_clips=3)
    bundle = Bundle(id="a", trailer=trailers["sine440"])
    pcm = encoder.load_input(bundle)
    assert pcm.dtype == np.float32 and pcm.ndim == 1
    assert abs(len(pcm) - 1.5 * 12000) <= 0.02 * 12000  # decodes only n_clips * clip_seconds by default
    features = encoder.embed(pcm)
    assert features.dtype == np.float16
    assert features.shape == (3, 24, 1 + 6000 // 128) == (3, 24, encoder.clip_frames)


def test_short_audio_still_yields_n_clips_padded_with_silence(trailers):
    encoder = AudioEncoder(n_mels=16, clip_seconds=3.0, n_clips=3)
    features = encoder.features(Bundle(id="short", trailer=trailers["sine440"]))  # a 2 s soundtrack
    assert features.shape == (3, 16, encoder.clip_frames)
    assert features[:, :, -5:].max() == SILENCE_DB  # the padded tail is digital silence
    assert features[:, :, :50].max() > -40.0  # the tone itself is there
    assert encoder.embed(np.zeros(10, dtype=np.float32)).shape == (3, 16, encoder.clip_frames)


def test_log_mel_scale_is_absolute_not_per_file():
    encoder = AudioEncoder(n_mels=16, clip_seconds=1.0, n_clips=1)
    tone = np.sin(2 * np.pi * 440 * np.arange(12000) / 12000).astype(np.float32)
    loud, quiet = encoder.embed(tone).astype(np.float32), encoder.embed(0.1 * tone).astype(np.float32)
    assert np.isclose(loud.max() - quiet.max(), 20.0, atol=0.5)  # 10x amplitude = 20 dB


def test_a_trailer_without_an_audio_stream_is_absent(trailers, bundles, fitted):
    encoder = AudioEncoder(**TINY)
    silent = Bundle(id="silent", trailer=trailers["silent"])
    assert encoder.has_input(silent)  # it has a trailer; the missing soundtrack shows only after probing
    assert encoder.load_input(silent) is None and encoder.embed(None) is None
    assert encoder.features(silent) is None
    with pytest.raises(ValueError, match="no audio"):
        fitted.predict_features([None])
    items, y = bundles
    X = [encoder.features(b) for b in items[:3]] + [None]  # the absent item is left out of training
    assert encoder.fit_features(X, y[:4]) is encoder


def test_a_trailer_scores_the_mean_of_its_clips(fitted, bundles):
    items, _ = bundles
    proba = fitted.predict_proba(items)
    features = fitted.features(items[0])
    per_clip = [fitted.predict_features([clip[None].repeat(2, axis=0)])[0] for clip in features]
    assert np.allclose(proba[0], np.mean(per_clip, axis=0), atol=1e-6)


def test_training_is_seeded():
    rng = np.random.default_rng(0)
    encoder = AudioEncoder(**TINY)
    X = [rng.normal(-40, 10, (2, 16, encoder.clip_frames)).astype(np.float16) for _ in range(6)]
    y = (rng.random((6, len(MOVIESCOPE))) < 0.3).astype(np.float32)
    first = AudioEncoder(**TINY).fit_features(X, y).predict_features(X)
    second = AudioEncoder(**TINY).fit_features(X, y).predict_features(X)
    assert np.array_equal(first, second)


def test_explanation_occludes_each_stretch_of_each_clip(fitted, bundles):
    pcm = fitted.load_input(bundles[0][0])
    out = fitted.explain(pcm, ["Action"])
    assert out["window_s"] == pytest.approx(0.1)
    assert out["times_s"] == sorted(out["times_s"]) and len(out["times_s"]) == 2 * audio_module.STRETCHES_PER_CLIP
    assert out["times_s"][0] == 0 and out["times_s"][-1] == pytest.approx(1.9)  # two 1 s clips of a 2 s soundtrack
    clips = fitted.embed(pcm).astype(np.float32)
    full = _logit(fitted.predict_features([clips])[0, 0])
    occluded = clips.copy()
    end = round(clips.shape[2] / audio_module.STRETCHES_PER_CLIP)
    occluded[1, :, :end] = fitted.crnn_.norm.mean.numpy()[:, None]  # the first stretch of the second clip
    expected = full - _logit(fitted.predict_features([occluded])[0, 0])
    assert out["importance"]["Action"][audio_module.STRETCHES_PER_CLIP] == pytest.approx(expected, abs=1e-4)


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))
