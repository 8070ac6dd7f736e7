"""The Predictor in process: the serving path gives what the trained encoders and fusion give."""

import numpy as np
import pytest

from models.bundle import Bundle
from models.genres import MOVIESCOPE
from models.media import InvalidMediaError, MediaLimits, UnsupportedMediaError
from service.predictor import MetadataError, Predictor, parse_metadata
from service.settings import Settings

META = {"year": 2005, "runtime_min": 101, "content_rating": "PG", "num_voted_users": 300}
PLOT = "Two friends build a rocket and fly it to a strange planet full of robots."


@pytest.fixture(scope="module")
def predictor(tiny_artifacts) -> Predictor:
    return Predictor.from_dir(tiny_artifacts, device="cpu")  # warms up on a generated bundle


@pytest.fixture
def full(media_dir) -> Bundle:
    return Bundle(id="m", trailer=media_dir / "good.mp4", poster=media_dir / "poster.jpg", plot=PLOT,
                  metadata=META)


def test_scores_match_the_encoders_and_the_fusion(predictor, full):
    result = predictor.predict(full)
    encoders, fusion = predictor.artifacts.encoders, predictor.artifacts.fusion
    assert result["used_modalities"] == list(encoders) == ["video", "audio", "poster", "text", "metadata"]
    stacked = np.stack([encoders[m].predict_proba([full])[0] for m in fusion.modalities])
    for modality, row in zip(fusion.modalities, stacked, strict=True):
        assert list(result["modalities"][modality].values()) == pytest.approx(row.tolist(), abs=1e-6)
    fused = dict(zip(MOVIESCOPE, fusion.predict(stacked[None])[0], strict=True))
    thresholds = dict(zip(MOVIESCOPE, predictor.artifacts.thresholds, strict=True))
    for item in result["genres"]:
        assert item["score"] == pytest.approx(float(fused[item["genre"]]), abs=1e-6)
        assert item["predicted"] == (item["score"] >= thresholds[item["genre"]])


def test_absent_parts_are_masked_not_filled(predictor, media_dir):
    fusion = predictor.artifacts.fusion
    silent = predictor.predict(Bundle(id="s", trailer=media_dir / "silent.mp4", metadata=META))
    assert silent["used_modalities"] == ["video", "metadata"]
    assert silent["missing_modalities"] == ["audio", "poster", "text"] and "audio" not in silent["timings_ms"]
    stacked = np.full((1, len(fusion.modalities), len(MOVIESCOPE)), np.nan)
    for k, modality in enumerate(fusion.modalities):
        if modality in silent["modalities"]:
            stacked[0, k] = list(silent["modalities"][modality].values())
    expected = dict(zip(MOVIESCOPE, fusion.predict(stacked)[0], strict=True))
    assert all(g["score"] == pytest.approx(float(expected[g["genre"]]), abs=1e-6) for g in silent["genres"])
    plot_only = predictor.predict(Bundle(id="p", plot=PLOT))  # the API needs a trailer, the Predictor not
    assert plot_only["used_modalities"] == ["text"] and "decode" in plot_only["timings_ms"]


def test_same_bundle_same_scores_and_timings(predictor, full):
    first, second = predictor.predict(full), predictor.predict(full)
    assert first["genres"] == second["genres"] and first["modalities"] == second["modalities"]
    timings = second["timings_ms"]
    assert list(timings) == ["decode", "video", "audio", "poster", "text", "metadata", "typicality", "fusion",
                            "total"]
    assert timings["total"] >= sum(v for k, v in timings.items() if k != "total") * 0.99


def test_media_errors_propagate(predictor, media_dir):
    with pytest.raises(UnsupportedMediaError, match="audio-only"):
        predictor.predict(Bundle(id="a", trailer=media_dir / "audio.m4a"))
    with pytest.raises(UnsupportedMediaError, match="poster.gif"):
        predictor.predict(Bundle(id="g", trailer=media_dir / "good.mp4", poster=media_dir / "poster.gif"))
    strict = Predictor(predictor.artifacts, limits=MediaLimits(max_width=64), max_poster_pixels=100)
    with pytest.raises(InvalidMediaError, match="resolution 96x64"):
        strict.predict(Bundle(id="w", trailer=media_dir / "good.mp4"))
    with pytest.raises(InvalidMediaError, match="exceeds the limit of 100"):
        strict.predict(Bundle(id="p", poster=media_dir / "poster.png"))


@pytest.mark.parametrize(("text", "fields"), [
    ('{"year": "soon"}', ["metadata.year"]),
    ('{"num_voted_users": -1, "imdb_score": 11}', ["metadata.num_voted_users", "metadata.imdb_score"]),
    ('{"year": 1999', ["metadata: not valid JSON"]),
    ('"a string"', ["metadata: expected a JSON object"]),
    ('{"content_rating": 12, "year": 2001.5}', ["metadata.content_rating: expected a string",
                                                "metadata.year: a whole number"]),
])
def test_metadata_errors_name_the_field(predictor, text, fields):
    with pytest.raises(MetadataError) as err:
        predictor.read_metadata(parse_metadata(text))
    assert all(field in str(err.value) for field in fields)


def test_metadata_parsing(predictor):
    assert parse_metadata(None) is None and parse_metadata("  ") is None
    assert predictor.read_metadata(parse_metadata('{"year": 2001, "unknown": 1, "gross_usd": null}')) == (
        {"year": 2001}, ["unknown"])


def test_settings_from_the_environment(monkeypatch, tmp_path):
    env = {"ARTIFACTS": str(tmp_path), "PORT": "9000", "DEVICE": "cpu", "MAX_TRAILER_MB": "2",
           "MAX_POSTER_MB": "1", "MAX_IN_FLIGHT": "3", "API_KEY": "k", "MAX_DURATION_S": "30",
           "MAX_WIDTH": "320", "MAX_HEIGHT": "240", "DECODE_TIMEOUT_S": "5", "LOG_LEVEL": "WARNING",
           "TMP_DIR": str(tmp_path / "t")}
    for name, value in env.items():
        monkeypatch.setenv(f"MOVIESCOPE_{name}", value)
    settings = Settings()
    assert (settings.artifacts, settings.host, settings.port) == (tmp_path, "127.0.0.1", 9000)
    assert settings.device == "cpu"
    assert (settings.max_in_flight, settings.api_key, settings.log_level) == (3, "k", "warning")
    assert settings.max_body_bytes == 4 << 20 and settings.tmp_dir == tmp_path / "t"
    limits = MediaLimits(max_duration_s=30, max_width=320, max_height=240, timeout_s=5)
    assert settings.media_limits() == limits
    monkeypatch.setenv("MOVIESCOPE_DEVICE", "tpu")
    with pytest.raises(ValueError, match="device"):
        Settings()
