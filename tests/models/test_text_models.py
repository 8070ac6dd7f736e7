"""The NB-weighted linear text model and the MiniLM sentence model: they learn genre words, stay
calibrated, and reach most of the planted text evidence of the synthetic benchmark's plots."""

import numpy as np
import pytest

from models.bundle import Bundle
from models.genres import MOVIESCOPE
from models.text import normalise_text
from models.text_linear import LinearTextEncoder
from models.text_minilm import SentenceTextEncoder, sentence_model
from training.metrics import evaluate_scores
from training.synth import assign_splits, plan_movie, sample_labels


@pytest.fixture(scope="module")
def plots():
    """Plots and labels of 400 planned synthetic movies (no media needed), and the planted text genres."""
    n, seed = 320, 21
    labels = sample_labels(np.random.default_rng([seed, 1]), n)
    splits = np.array(assign_splits(np.random.default_rng([seed, 2]), n))
    plans = [plan_movie(seed, i, labels[i], str(splits[i])) for i in range(n)]
    keep = np.array(["plot" in row for row, _, _ in plans])
    planted = np.zeros_like(labels)
    for i, (_, shown, _) in enumerate(plans):
        for genre in shown["text"] or []:
            planted[i, MOVIESCOPE.index(genre)] = 1
    texts = [row.get("plot", "") for row, _, _ in plans]
    part = {s: np.flatnonzero(keep & (splits == s)) for s in ("train", "val", "test")}
    return texts, labels, planted, part


def _fit_and_score(encoder, plots):
    texts, labels, planted, part = plots
    embed = getattr(encoder, "embed_many", None) or (lambda plots: [encoder.embed(p) for p in plots])
    X = {s: list(embed([texts[i] for i in idx])) for s, idx in part.items()}
    encoder.fit_features(X["train"], labels[part["train"]], X["val"], labels[part["val"]])
    scores = encoder.predict_features(X["test"])
    y = labels[part["test"]]
    return (scores, evaluate_scores(y, scores, MOVIESCOPE)["map"],
            evaluate_scores(y, planted[part["test"]], MOVIESCOPE)["map"], y)


def test_linear_model_reaches_the_planted_text_evidence(plots):
    scores, model_map, ceiling, y = _fit_and_score(LinearTextEncoder(), plots)
    prior_map = evaluate_scores(y, np.tile(y.mean(axis=0), (len(y), 1)), MOVIESCOPE)["map"]
    assert model_map >= 0.85 * ceiling and model_map > prior_map + 0.3, (model_map, ceiling, prior_map)
    # calibrated: the mean score of each frequent genre is within the test share's sampling error (3 SE)
    share = y.mean(axis=0)
    frequent = share > 0.15
    sampling_error = np.sqrt(share * (1 - share) / len(y))
    assert (np.abs(scores.mean(axis=0) - share) < 3 * sampling_error)[frequent].all()


def test_linear_model_weights_name_the_genre_words():
    plots = ["A haunted cabin and a demon.", "The demon is haunted by blood.", "A quiet dinner with friends.",
             "Friends share a quiet dinner.", "Blood in the haunted house.", "Dinner and friends again."]
    y = np.zeros((6, 13), dtype=np.float32)
    y[[0, 1, 4], MOVIESCOPE.index("Horror")] = 1
    y[[2, 3, 5], MOVIESCOPE.index("Drama")] = 1
    encoder = LinearTextEncoder(calibration_folds=2).fit([Bundle(id=str(i), plot=p) for i, p in enumerate(plots)], y)
    horror = encoder.weights_[:, MOVIESCOPE.index("Horror")]
    top = [encoder.vectorizer_.get_feature_names_out()[k] for k in np.argsort(horror)[::-1][:3]]
    assert set(top) <= {"haunted", "demon", "blood"}
    assert encoder.vectorizer_.ngram_range == (1, 1)  # without validation, the first candidate
    proba = encoder.predict_proba([Bundle(id="x", plot="Demon blood!"), Bundle(id="y", plot="Quiet friends.")])
    assert proba[0, MOVIESCOPE.index("Horror")] > proba[1, MOVIESCOPE.index("Horror")]


@pytest.mark.slow
def test_sentence_model_is_the_packaged_minilm_and_learns(plots):
    embedding = sentence_model().encode(["a spaceship crew meets an alien"], normalize_embeddings=True)
    assert embedding.shape == (1, 384) and abs(float(np.linalg.norm(embedding)) - 1) < 1e-4
    encoder = SentenceTextEncoder()
    near = encoder.embed("A spaceship lands on an alien planet.") @ encoder.embed("Robots fly a starship to a galaxy.")
    far = encoder.embed("A spaceship lands on an alien planet.") @ encoder.embed("A quiet family dinner at home.")
    assert near > far  # pretrained semantics, before any training
    _, model_map, ceiling, y = _fit_and_score(encoder, plots)
    prior_map = evaluate_scores(y, np.tile(y.mean(axis=0), (len(y), 1)), MOVIESCOPE)["map"]
    assert model_map > prior_map + 0.15, (model_map, ceiling, prior_map)


def test_both_read_the_plot_text_only():
    assert normalise_text("Hello, World!") == "hello world"
    for encoder in (LinearTextEncoder(), SentenceTextEncoder()):
        assert not encoder.has_input(Bundle(id="a", plot="  ")) and encoder.has_input(Bundle(id="b", plot="Hi."))
