"""/v1/predict on real clips (tests/real_media.py), on a server with the default limits (the shared `server`
has 1 MB and 640x480 limits, which a 720p trailer passes): 200 with the modalities each clip carries, and the
damaged copy a 200 or a 4xx naming the trailer, never a 5xx."""

import pytest
from real_media import CLIPS, DAMAGED, clip_path

from models.genres import MOVIESCOPE


@pytest.fixture
def default_server(start_server, tiny_artifacts):
    """No limit set: what `moviescope serve` runs with (300 MB trailers, 7680x4320, 4 h)."""
    return start_server(tiny_artifacts).wait_ready()


def test_real_clips_and_the_damaged_copy(default_server):
    paths = {name: clip_path(clip) for name, clip in CLIPS.items()}  # one server for all: starting one is slow
    for name, path in paths.items():
        r = default_server.predict(path)
        assert r.status_code == 200, f"{name}: {r.status_code} {r.text}"
        body = r.json()
        assert body["used_modalities"] == CLIPS[name].modalities, name
        assert list(body["modalities"]) == CLIPS[name].modalities, name
        assert ("audio" in body["missing_modalities"]) == (CLIPS[name].audio_codec is None), name
        assert sorted(g["genre"] for g in body["genres"]) == sorted(MOVIESCOPE)
        assert body["timings_ms"]["decode"] > 0

    r = default_server.predict(clip_path(DAMAGED))
    assert r.status_code == 200 or (400 <= r.status_code < 500 and "trailer.avi" in r.json()["detail"]), r.text
    if r.status_code == 200:
        assert r.json()["used_modalities"] == DAMAGED.modalities
