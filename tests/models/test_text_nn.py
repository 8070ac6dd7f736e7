"""The neural text models trained from scratch (Conv1D, LSTM, BiLSTM): each learns cue words of tiny synthetic
plots, keeps the probability contract, saves and loads exactly, repeats for a seed, and reads any text."""

import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from models.bundle import Bundle
from models.genres import GenreSet
from models.text_nn import ARCHS, VOCABULARY, NeuralTextEncoder

GENRES = GenreSet(("Horror", "Comedy", "Sci-Fi", "Romance"))
CUES = {"Horror": "haunted demon blood ghost cursed", "Comedy": "prank goofy laugh clumsy party",
        "Sci-Fi": "spaceship alien robot galaxy laser", "Romance": "love kiss heart passion date"}
FILLER = ["the", "a", "story", "follows", "anna", "ben", "in", "town", "and", "one", "year", "long", "city", "old",
          "friends", "return", "letter", "arrives"]
FAST = {"epochs": 40, "patience": 40, "embed_dim": 32, "channels": 32, "hidden": 32, "batch_size": 8}


def make_plots(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Plots of 12-20 filler words with two or three cue words of each of the movie's one or two genres."""
    rng = np.random.default_rng(seed)
    Y = np.zeros((n, len(GENRES)), dtype=np.float32)
    plots = []
    for i in range(n):
        genres = rng.choice(len(GENRES), size=int(rng.integers(1, 3)), replace=False)
        Y[i, genres] = 1
        words = list(rng.choice(FILLER, int(rng.integers(12, 21))))
        for j in genres:
            words += list(rng.choice(CUES[GENRES[j]].split(), int(rng.integers(2, 4))))
        plots.append(" ".join(rng.permutation(words)).capitalize() + ".")
    return plots, Y


def fitted_encoder(arch: str, seed: int = 0) -> tuple[NeuralTextEncoder, dict]:
    data = {part: make_plots(n, s) for part, n, s in (("train", 48, 1), ("val", 16, 2), ("test", 24, 3))}
    encoder = NeuralTextEncoder(arch=arch, seed=seed, **FAST).set_genres(GENRES)
    X = {part: [encoder.embed(p) for p in plots] for part, (plots, _) in data.items()}
    encoder.fit_features(X["train"], data["train"][1], X["val"], data["val"][1])
    return encoder, {part: (X[part], y) for part, (_, y) in data.items()}


@pytest.fixture(scope="module", params=ARCHS)
def fitted(request):
    return fitted_encoder(request.param)


def test_it_learns_the_cue_words(fitted):
    encoder, data = fitted
    X, y = data["test"]
    proba = encoder.predict_features(X)
    assert proba.shape == (len(X), len(GENRES)) and proba.dtype == np.float32
    assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
    model_map = average_precision_score(y, proba, average="macro")
    prior_map = float(y.mean())  # the AP of a constant score is the genre's share
    assert model_map > prior_map + 0.3, (encoder.arch, model_map, prior_map)


def test_save_load_gives_identical_predictions(fitted, tmp_path):
    encoder, data = fitted
    encoder.save(tmp_path / "model")
    again = NeuralTextEncoder.load(tmp_path / "model")
    assert again.get_params() == encoder.get_params() and again.genres_ == encoder.genres_
    assert json.loads((tmp_path / "model" / VOCABULARY).read_text()) == encoder.vocabulary_
    X = data["test"][0]
    assert np.array_equal(again.predict_features(X), encoder.predict_features(X))
    assert not list((tmp_path / "model").glob(".*"))  # no temporary files left behind


def test_a_row_does_not_depend_on_its_batch(fitted):
    encoder, data = fitted
    X = data["test"][0]
    assert np.allclose(encoder.predict_features(X[3:4])[0], encoder.predict_features(X)[3], atol=1e-5)


def test_unknown_words_and_an_empty_plot_are_read(fitted):
    encoder, _ = fitted
    proba = encoder.predict_features(["zzz qqq xyzzy", "", "a"])
    assert proba.shape == (3, len(GENRES)) and np.isfinite(proba).all()
    assert encoder.predict_features([]).shape == (0, len(GENRES))
    assert encoder.predict_proba([Bundle(id="x", plot="Ghost!!! in a cursed haunted house")]).shape == (1, 4)
    assert set(encoder.explain("zzz", ["Horror"])) == {"Horror"}


def test_explanations_name_the_genre_words(fitted):
    encoder, _ = fitted
    out = encoder.explain("The story follows Anna in a haunted town full of ghost and blood.", ["Horror", "Comedy"])
    assert list(out) == ["Horror", "Comedy"]
    json.dumps(out, allow_nan=False)
    top = [item["token"] for item in out["Horror"][:3]]
    assert set(" ".join(top).split()) & set(CUES["Horror"].split()), top


@pytest.mark.parametrize("arch", ARCHS)
def test_the_same_seed_repeats(arch):
    first, data = fitted_encoder(arch, seed=5)
    second, _ = fitted_encoder(arch, seed=5)
    X = data["test"][0]
    assert np.array_equal(first.predict_features(X), second.predict_features(X))


def test_an_unknown_arch_names_the_allowed_ones():
    with pytest.raises(ValueError, match="conv1d, lstm, bilstm"):
        NeuralTextEncoder(arch="transformer")
