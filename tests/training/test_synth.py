"""The synthetic benchmark: real media, valid rows, determinism, label statistics."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.files import atomic_path
from models.genres import MOVIESCOPE
from models.schema import LEGACY_SCHEMA
from training import synth_media, synth_poster
from training.synth import (
    MARKER,
    RATES,
    assign_splits,
    encode_trailer,
    plan_movie,
    sample_labels,
    synthesize,
)
from training.synth_media import MOTIONS

TINY = {"n": 6, "duration": 2.0, "size": (64, 48), "progress": False}


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", str(path)],
                         capture_output=True, check=True, timeout=30)
    return json.loads(out.stdout)


def decode(path: Path) -> bytes:
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "rawvideo",
                           "-pix_fmt", "rgb24", "pipe:"], capture_output=True, check=True, timeout=30).stdout


def rows(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "movies.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "data"
    assert synthesize(root, seed=0, **TINY) == root / "movies.jsonl"
    return root


def test_rows_follow_the_dataset_contract(tiny):
    movies = rows(tiny)
    assert len(movies) == 6 and len({m["id"] for m in movies}) == 6
    for movie in movies:
        assert movie["genres"] and all(g in MOVIESCOPE for g in movie["genres"])
        assert movie["genres"] == sorted(movie["genres"], key=MOVIESCOPE.index)
        assert movie["split"] in ("train", "val", "test")
        assert movie["trailer"] == f"trailers/{movie['id']}.mp4" and (tiny / movie["trailer"]).is_file()
        if "poster" in movie:
            assert not Path(movie["poster"]).is_absolute() and (tiny / movie["poster"]).is_file()
        if "plot" in movie:
            assert 40 <= len(movie["plot"].split()) <= 170
        if "metadata" in movie:
            assert LEGACY_SCHEMA.validate(movie["metadata"])[1] == []  # every field an IMDB-5000 one
    leftovers = [p.name for p in tiny.rglob(".*") if p.name != MARKER]
    assert leftovers == [], "temporary files left behind"
    written = [tiny / "movies.jsonl", tiny / movies[0]["trailer"]]
    assert all(path.stat().st_mode & 0o777 == 0o644 for path in written)  # a dataset is for reading


def test_trailers_are_h264_aac_mp4_of_the_asked_size_and_duration(tiny):
    for movie in rows(tiny):
        info = ffprobe(tiny / movie["trailer"])
        video = [s for s in info["streams"] if s["codec_type"] == "video"]
        audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
        assert len(video) == 1 and len(audio) == 1 and len(info["streams"]) == 2
        assert video[0]["codec_name"] == "h264" and video[0]["pix_fmt"] == "yuv420p"
        assert (video[0]["width"], video[0]["height"]) == (64, 48)
        assert audio[0]["codec_name"] == "aac" and int(audio[0]["sample_rate"]) == synth_media.AUDIO_RATE
        assert "mp4" in info["format"]["format_name"]
        assert float(info["format"]["duration"]) == pytest.approx(2.0, abs=0.1)


def test_trailer_has_a_keyframe_every_second(tiny):
    path = tiny / rows(tiny)[0]["trailer"]
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
                          "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(path)],
                         capture_output=True, check=True, timeout=30, text=True).stdout
    times = [float(t.strip(",")) for t in out.split()]
    # GOP = FPS frames and no extra keyframes at cuts: the keyframes say nothing of the cut rate
    assert times == [float(k) for k in range(len(times))] and len(times) == 2


def test_posters_are_jpeg(tiny):
    posters = [m["poster"] for m in rows(tiny) if "poster" in m]
    assert posters
    for poster in posters:
        with Image.open(tiny / poster) as image:
            assert image.format == "JPEG" and image.size == synth_poster.POSTER_SIZE


@pytest.mark.parametrize("genre", MOVIESCOPE)
def test_a_posters_genre_evidence_sits_in_one_panel(genre):
    """What a poster says about a genre is confined to a panel of about a third of it (the poster
    deletion test of the explanations relies on evidence having a place): drawn from the same seed,
    a poster of `genre` and one of another genre differ only inside that panel."""
    other = MOVIESCOPE[(MOVIESCOPE.index(genre) + 1) % len(MOVIESCOPE)]
    first, second = (np.asarray(synth_poster.render_poster([g], "Title", np.random.default_rng(3)), dtype=int)
                     for g in (genre, other))
    rows_, cols = np.nonzero(np.abs(first - second).max(axis=2) > 24)
    width, height = synth_poster.POSTER_SIZE
    box = (cols.max() - cols.min() + 1) * (rows_.max() - rows_.min() + 1) / (width * height)
    assert 0.2 < box <= synth_poster.PANEL_SHARE[0] * synth_poster.PANEL_SHARE[1] + 0.01


def test_same_seed_same_dataset_other_seed_differs(tiny, tmp_path):
    again = synthesize(tmp_path / "again", seed=0, **TINY)
    assert again.read_text() == (tiny / "movies.jsonl").read_text()
    first = rows(tiny)[0]["trailer"]
    assert decode(tiny / first) == decode(tmp_path / "again" / first)
    other = synthesize(tmp_path / "other", seed=1, **{**TINY, "n": 2})
    assert other.read_text() != (tiny / "movies.jsonl").read_text()


def test_overwrites_its_own_output_but_refuses_foreign_directories(tmp_path):
    small = {"n": 1, "duration": 1.0, "size": (32, 32), "progress": False}
    synthesize(tmp_path / "data", seed=0, **small)
    (tmp_path / "data" / "trailers" / "stale.mp4").write_bytes(b"old")
    synthesize(tmp_path / "data", seed=0, **small)
    assert not (tmp_path / "data" / "trailers" / "stale.mp4").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not made by"):
        synthesize(tmp_path / "mine", **small)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="even size"):
        synthesize(tmp_path / "odd", size=(33, 32), n=1, progress=False)


def test_ffmpeg_failure_is_reported_and_leaves_nothing(tmp_path):
    frames = iter([np.zeros((16, 16, 3), np.uint8)] * 4)
    with pytest.raises(RuntimeError, match="ffmpeg failed"), atomic_path(tmp_path / "t.mp4") as tmp:
        encode_trailer(frames, tmp_path / "missing.wav", tmp, 0.5, (16, 16))
    assert list(tmp_path.iterdir()) == []


def test_label_rates_and_cardinality_match_moviescope():
    labels = sample_labels(np.random.default_rng(0), 5000)
    assert labels.shape == (5000, len(MOVIESCOPE))
    assert labels.sum(axis=1).min() >= 1
    assert np.abs(labels.mean(axis=0) - RATES).max() < 0.03
    assert 2.2 <= labels.sum(axis=1).mean() <= 2.9
    given = lambda a, b: labels[labels[:, MOVIESCOPE.index(a)] == 1, MOVIESCOPE.index(b)].mean()
    share = lambda g: labels[:, MOVIESCOPE.index(g)].mean()
    for a, b in (("Animation", "Family"), ("Crime", "Thriller"), ("Horror", "Thriller"), ("Romance", "Drama"),
                 ("Action", "Sci-Fi"), ("Fantasy", "Family")):
        assert given(a, b) > 1.3 * share(b), (a, b)
    assert given("Horror", "Comedy") < 0.7 * share("Comedy")
    np.testing.assert_array_equal(labels, sample_labels(np.random.default_rng(0), 5000))


def test_splits_are_70_10_20_and_seeded():
    splits = assign_splits(np.random.default_rng(0), 100)
    assert [splits.count(s) for s in ("train", "val", "test")] == [70, 10, 20]
    assert splits == assign_splits(np.random.default_rng(0), 100)
    assert splits != assign_splits(np.random.default_rng(1), 100)


def test_plots_carry_genre_evidence_and_some_parts_are_missing():
    from training.synth_text import VOCAB

    labels = sample_labels(np.random.default_rng(5), 400)
    plans = [plan_movie(5, i, labels[i], "train")[0] for i in range(400)]
    missing = {part: sum(part not in row for row in plans) for part in ("plot", "metadata")}
    assert all(2 <= count <= 40 for count in missing.values()), missing
    with_plot = [row for row in plans if "plot" in row]
    for genre in ("Horror", "Comedy", "Sci-Fi"):
        words = set(VOCAB[genre])
        mentions = [bool(words & set(row["plot"].lower().replace(".", " ").split())) for row in with_plot]
        positive = np.mean([m for m, row in zip(mentions, with_plot) if genre in row["genres"]])
        negative = np.mean([m for m, row in zip(mentions, with_plot) if genre not in row["genres"]])
        assert 0.5 < positive < 0.97 and negative < 0.25, (genre, positive, negative)


def test_planted_evidence_is_written_for_every_movie(tiny):
    planted = [json.loads(line) for line in (tiny / "planted.jsonl").read_text().splitlines()]
    assert [p["id"] for p in planted] == [m["id"] for m in rows(tiny)]
    for plan, movie in zip(planted, rows(tiny), strict=True):
        assert set(plan["planted"]) == {"video", "motion", "audio", "poster", "text", "metadata"}
        assert not set(plan["planted"]["video"]) & set(MOTIONS)  # the frames never show a motion genre
        assert set(plan["planted"]["motion"]) <= set(MOTIONS)
        for modality, part in (("poster", "poster"), ("text", "plot"), ("metadata", "metadata")):
            assert (plan["planted"][modality] is None) == (part not in movie)  # null = the part is absent
        shown = [g for genres in plan["planted"].values() if genres for g in genres]
        assert all(g in MOVIESCOPE for g in shown)
    assert json.loads((tiny / MARKER).read_text())["settings"] == {"seed": 0, "n": 6, "duration_s": 2.0,
                                                                      "size": "64x48"}


def test_no_leaks_titles_genre_names_or_languages():
    from training.synth_text import TITLE_WORDS, VOCAB

    labels = sample_labels(np.random.default_rng(7), 2000)
    plans = [plan_movie(7, i, labels[i], "train")[0] for i in range(2000)]
    genre_words = {w for words in VOCAB.values() for w in words}
    assert not genre_words & set(TITLE_WORDS)  # titles say nothing of the genres
    names = {g.lower() for g in MOVIESCOPE} | {"sci", "fi", "scifi"}
    for row in plans:
        assert not names & set(row["title"].lower().split())
        if "plot" in row:
            assert not names & set(row["plot"].lower().replace(".", " ").replace(",", " ").split())
    # no language is a shortcut to a genre: P(genre | language) stays near the genre's base rate
    with_meta = [row for row in plans if row.get("metadata") and row["metadata"]["language"]]
    for language, genre in (("French", "Drama"), ("Japanese", "Animation"), ("Hindi", "Action")):
        speakers = [row for row in with_meta if row["metadata"]["language"] == language]
        precision = np.mean([genre in row["genres"] for row in speakers])
        base = np.mean([genre in row["genres"] for row in with_meta])
        assert len(speakers) >= 15 and precision < base + 0.3, (language, genre, precision, base)
