"""Ceiling rows: the oracle counts the row's modalities a genre was planted in; absent parts get the prior."""

import json

import numpy as np

from models.bundle import Bundle
from models.genres import MOVIESCOPE
from training.ceiling import ceiling_rows, load_planted
from training.dataset import Movie

PRIOR = np.full(len(MOVIESCOPE), 0.25)


def movie(movie_id: str) -> Movie:
    return Movie(bundle=Bundle(id=movie_id), genres=("Action",), split="test")


def test_oracle_counts_planted_modalities_and_gives_absent_parts_the_prior():
    planted = {
        "a": {"video": ["Action"], "audio": ["Action", "Horror"], "poster": None, "text": [], "metadata": None},
        "b": {"video": [], "audio": [], "poster": None, "text": None, "metadata": ["Drama"]},
    }
    rows = {name: (mods, scores, coverage) for name, mods, scores, coverage in
            ceiling_rows([movie("a"), movie("b")], planted, PRIOR, MOVIESCOPE)}
    assert list(rows) == ["video (ceiling)", "audio (ceiling)", "poster (ceiling)", "text (ceiling)",
                          "metadata (ceiling)", "all (ceiling)"]
    mods, scores, coverage = rows["all (ceiling)"]
    assert mods == ["video", "audio", "poster", "text", "metadata"] and coverage == 2
    assert scores[0, MOVIESCOPE.index("Action")] == 2 and scores[0, MOVIESCOPE.index("Horror")] == 1
    assert scores[1, MOVIESCOPE.index("Drama")] == 1 and scores[1].sum() == 1
    _, poster, poster_coverage = rows["poster (ceiling)"]
    assert poster_coverage == 0 and np.array_equal(poster, np.tile(PRIOR, (2, 1)))
    _, text, text_coverage = rows["text (ceiling)"]
    assert text_coverage == 1 and text[0].sum() == 0 and np.array_equal(text[1], PRIOR)


def test_no_ceiling_without_planted_evidence_for_every_movie(tmp_path):
    assert load_planted(tmp_path) is None
    (tmp_path / "planted.jsonl").write_text(json.dumps({"id": "a", "planted": {"video": []}}) + "\n")
    assert load_planted(tmp_path) == {"a": {"video": []}}
    assert ceiling_rows([movie("a"), movie("z")], load_planted(tmp_path), PRIOR, MOVIESCOPE) == []
