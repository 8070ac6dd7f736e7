"""TextEncoder on a tiny made-up corpus where genre words decide the labels."""

import numpy as np
import pytest

from models.bundle import Bundle
from models.genres import MOVIESCOPE
from models.text import MODEL_FILE, TextEncoder, epoch_candidates, normalise_text

WORDS = {"Action": "explosion chase gunfight", "Comedy": "prank goofy laugh", "Sci-Fi": "spaceship alien robot"}
FILLER = "the story follows anna over one long year in a small town"
SEEN = set(WORDS)


def corpus(n: int, seed: int) -> tuple[list[Bundle], np.ndarray]:
    rng = np.random.default_rng(seed)
    bundles, genres = [], []
    for i in range(n):
        chosen = [g for g in WORDS if rng.random() < 0.4] or [str(rng.choice(list(WORDS)))]
        words = FILLER.split() + [w for g in chosen for w in WORDS[g].split()]
        rng.shuffle(words)
        bundles.append(Bundle(id=f"m{i}", plot=" ".join(words).capitalize() + "!"))
        genres.append(chosen)
    return bundles, MOVIESCOPE.matrix(genres)


@pytest.fixture(scope="module")
def data():
    return corpus(60, seed=0), corpus(20, seed=1)


@pytest.fixture(scope="module")
def fitted(data):
    (bundles, y), _ = data
    encoder = TextEncoder(dim=10, epoch=30, bucket=1000)
    assert encoder.fit(bundles, y) is encoder
    return encoder


def test_normalise_text_is_one_lowercase_line_without_punctuation():
    assert normalise_text("  A Sci-Fi\tplot,\nwith __label__Drama! ") == "a sci fi plot with label drama"


def test_has_input_needs_words():
    encoder = TextEncoder()
    assert not encoder.has_input(Bundle(id="none"))
    assert not encoder.has_input(Bundle(id="blank", plot="  \n"))
    assert not encoder.has_input(Bundle(id="punct", plot="?!..."))
    assert encoder.has_input(Bundle(id="ok", plot="A heist."))


def test_it_learns_the_genre_words(fitted, data):
    _, (test, y_test) = data
    proba = fitted.predict_proba(test)
    for genre in WORDS:  # "Sci-Fi" included: the label maps back to its own column
        j = MOVIESCOPE.index(genre)
        assert proba[y_test[:, j] == 1, j].mean() > proba[y_test[:, j] == 0, j].mean() + 0.2


def test_genres_unseen_in_training_score_zero(fitted, data):
    _, (test, _) = data
    proba = fitted.predict_proba(test)
    unseen = [MOVIESCOPE.index(g) for g in MOVIESCOPE if g not in SEEN]
    assert (proba[:, unseen] == 0).all()


def test_saved_as_one_fasttext_file_with_its_chosen_epochs(fitted, tmp_path):
    fitted.save(tmp_path / "text")
    assert sorted(p.name for p in (tmp_path / "text").iterdir()) == ["config.json", MODEL_FILE]
    assert TextEncoder.load(tmp_path / "text").epoch_ == fitted.epoch_


def test_fit_removes_its_training_file_and_picks_epochs_on_val(data, tmp_path, monkeypatch):
    (bundles, y), (val, y_val) = data
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    encoder = TextEncoder(dim=10, epoch=10, bucket=1000).fit(bundles, y, val, y_val)
    assert list(scratch.iterdir()) == []
    assert encoder.epoch_ in epoch_candidates(10)
