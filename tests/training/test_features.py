"""training.features: a cache entry is keyed by the encoder's feature settings and the input file's bytes,
so a changed setting or a changed file never reuses stale features, and the same ones always do."""

import shutil

import numpy as np
import pytest
from media_fixtures import make_video

from models.audio import AudioEncoder
from models.bundle import Bundle
from models.metadata import MetadataEncoder
from models.poster import PosterEncoder
from models.text_linear import LinearTextEncoder
from models.video import VideoEncoder
from training.features import FeatureCache, extract_features

AUDIO = {"n_mels": 16, "clip_seconds": 1.0, "n_clips": 2}


@pytest.fixture
def cache(tmp_path) -> FeatureCache:
    return FeatureCache(tmp_path / "cache")


@pytest.fixture
def trailer(tmp_path):
    path = tmp_path / "t.mp4"
    path.write_bytes(b"trailer bytes " * 100)  # only hashed here, never decoded
    return path


def test_same_settings_and_same_bytes_give_the_same_key(cache, trailer, tmp_path):
    copy = shutil.copy(trailer, tmp_path / "copy.mp4")
    first = cache.path(AudioEncoder(**AUDIO), Bundle(id="a", trailer=trailer))
    assert first == cache.path(AudioEncoder(**AUDIO), Bundle(id="b", trailer=copy))
    assert first == cache.path(AudioEncoder(**AUDIO, epochs=1, gru_hidden=8), Bundle(id="a", trailer=trailer))


def test_the_video_models_share_their_features(cache, trailer):
    bundle = Bundle(id="a", trailer=trailer)
    paths = {cache.path(VideoEncoder(n_frames=4, pooling=p), bundle) for p in ("mean", "tempconv", "lstm")}
    assert len(paths) == 1


@pytest.mark.parametrize(("encoder", "changed"), [
    (AudioEncoder(**AUDIO), AudioEncoder(**{**AUDIO, "n_mels": 24})),
    (AudioEncoder(**AUDIO), AudioEncoder(**AUDIO, sample_rate=16000)),
    (VideoEncoder(n_frames=4), VideoEncoder(n_frames=8)),
    (VideoEncoder(n_frames=4), VideoEncoder(n_frames=4, frame_stats=False)),
    (VideoEncoder(n_frames=4), VideoEncoder(n_frames=4, backbone="resnet18")),  # another backbone's weights
], ids=["n_mels", "sample_rate", "n_frames", "frame_stats", "backbone"])
def test_a_changed_setting_gives_a_new_key(cache, trailer, encoder, changed):
    bundle = Bundle(id="a", trailer=trailer)
    assert cache.path(encoder, bundle) != cache.path(changed, bundle)


def test_a_changed_file_gives_a_new_key(cache, trailer):
    bundle = Bundle(id="a", trailer=trailer)
    before = cache.path(AudioEncoder(**AUDIO), bundle)
    trailer.write_bytes(b"another trailer " * 100)
    assert cache.path(AudioEncoder(**AUDIO), bundle) != before


def test_a_poster_is_keyed_by_its_own_bytes(cache, tmp_path, trailer):
    poster = tmp_path / "p.jpg"
    poster.write_bytes(b"poster bytes")
    encoder = PosterEncoder(image_size=32)
    path = cache.path(encoder, Bundle(id="a", trailer=trailer, poster=poster))
    assert path == cache.path(encoder, Bundle(id="b", poster=poster))  # the trailer plays no part
    poster.write_bytes(b"another poster")
    assert cache.path(encoder, Bundle(id="a", poster=poster)) != path


def test_what_is_not_cached(cache, trailer, tmp_path):
    bundle = Bundle(id="a", trailer=trailer, plot="A plot.")
    assert cache.path(LinearTextEncoder(), bundle) is None and cache.path(MetadataEncoder(), bundle) is None
    assert cache.path(PosterEncoder(), bundle) is None  # no poster
    assert FeatureCache(None).path(AudioEncoder(**AUDIO), bundle) is None


def test_a_second_run_reads_the_cache_including_absent_soundtracks(cache, tmp_path, monkeypatch):
    bundles = [Bundle(id="sound", trailer=make_video(tmp_path / "sound.mp4", duration=1, size=(32, 24))),
               Bundle(id="silent", trailer=make_video(tmp_path / "silent.mp4", duration=1, size=(32, 24),
                                                      audio=False))]
    first = extract_features(AudioEncoder(**AUDIO), bundles, cache)
    assert first[0] is not None and first[1] is None
    monkeypatch.setattr(AudioEncoder, "load_input", lambda *args: pytest.fail("decoded again"))
    again = extract_features(AudioEncoder(**AUDIO), bundles, cache)
    assert np.array_equal(again[0], first[0]) and again[1] is None
