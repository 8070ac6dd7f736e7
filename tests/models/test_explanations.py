"""Explanations of the fusion, metadata and text models: exact where the model allows it, and true to
what they claim (the leave-one-out weights are the score changes they say they are)."""

import numpy as np
import pytest

from models.bundle import Bundle
from models.fusion import LearnedFusion
from models.genres import MOVIESCOPE
from models.metadata import MetadataEncoder
from models.text import TextEncoder, normalise_text
from models.text_explain import leave_one_out, remove_unit
from models.text_linear import LinearTextEncoder
from models.text_minilm import SentenceTextEncoder

MODS = ["video", "audio", "poster", "text", "metadata"]
PLOTS = ["A haunted cabin and a demon in the night.", "The demon is haunted by blood and fear.",
         "A quiet dinner with old friends.", "Friends share a quiet dinner at home.",
         "Blood in the haunted house at night.", "Dinner and friends again, quiet and warm."]
HORROR, DRAMA = MOVIESCOPE.index("Horror"), MOVIESCOPE.index("Drama")


@pytest.fixture(scope="module")
def plots() -> tuple[list[Bundle], np.ndarray]:
    y = np.zeros((len(PLOTS), len(MOVIESCOPE)), dtype=np.float32)
    y[[0, 1, 4], HORROR] = 1
    y[[2, 3, 5], DRAMA] = 1
    return [Bundle(id=str(i), plot=p) for i, p in enumerate(PLOTS)], y


@pytest.fixture(scope="module")
def fusion() -> LearnedFusion:
    rng = np.random.default_rng(0)
    y = (rng.random((200, len(MOVIESCOPE))) < 0.3).astype(float)
    scores = np.clip(0.3 * y[:, None, :] + 0.7 * rng.random((200, len(MODS), len(MOVIESCOPE))), 0, 1)
    return LearnedFusion(MODS, fallback=np.full(len(MOVIESCOPE), 0.3)).fit(scores, y)


def test_fusion_shares_are_exact_and_rebuild_the_fused_score(fusion):
    rng = np.random.default_rng(1)
    scores = {m: rng.random(len(MOVIESCOPE)).astype(np.float32) for m in ("video", "poster", "text")}
    out = fusion.explain(scores, list(MOVIESCOPE))
    stacked = np.full((1, len(MODS), len(MOVIESCOPE)), np.nan)
    for k, m in enumerate(MODS):
        if m in scores:
            stacked[0, k] = scores[m]
    fused = fusion.predict(stacked)[0]
    for genre, part in out.items():
        j = MOVIESCOPE.index(genre)
        assert list(part["shares"]) == ["video", "poster", "text"]  # present modalities only
        assert sum(part["shares"].values()) == pytest.approx(1.0) and min(part["shares"].values()) >= 0
        evidence = {m: fusion.weights_[MODS.index(m), j] * scores[m][j] for m in scores}
        assert part["shares"] == pytest.approx({m: e / sum(evidence.values()) for m, e in evidence.items()})
        assert part["score"] == pytest.approx(fused[j], abs=1e-6)
        p = min(max(part["weighted_mean"], 1e-4), 1 - 1e-4)  # the documented formula, from the answer alone
        rebuilt = 1 / (1 + np.exp(-(part["scale"] * np.log(p / (1 - p)) + part["bias"])))
        assert rebuilt == pytest.approx(fused[j], abs=1e-6)


def test_fusion_shares_when_every_modality_scores_zero(fusion):
    out = fusion.explain({"video": np.zeros(len(MOVIESCOPE)), "audio": np.zeros(len(MOVIESCOPE))}, ["Action"])["Action"]
    weights = fusion.weights_[[0, 1], MOVIESCOPE.index("Action")]
    assert list(out["shares"].values()) == pytest.approx(weights / weights.sum())


def test_metadata_contributions_are_real_fields_summing_to_the_log_odds():
    rng = np.random.default_rng(0)
    bundles = [Bundle(id=str(i), metadata={"runtime_min": float(rng.uniform(80, 160)),
                                           "content_rating": str(rng.choice(["R", "PG", "PG-13"])),
                                           "year": int(rng.integers(1980, 2020))}) for i in range(60)]
    y = np.zeros((60, len(MOVIESCOPE)), dtype=np.float32)
    y[:, MOVIESCOPE.index("Action")] = [b.metadata["runtime_min"] > 120 for b in bundles]
    y[:, MOVIESCOPE.index("Family")] = [b.metadata["content_rating"] == "PG" for b in bundles]
    encoder = MetadataEncoder(n_estimators=30, min_category_count=1).fit(bundles, y)
    fields = {"runtime_min": 150, "content_rating": "PG", "year": None}
    out = encoder.explain(fields, ["Action", "Family", "Drama"])
    assert out["Drama"] == []  # no model: the genre never occurs in training
    assert out["Action"][0]["field"] == "runtime_min" and out["Action"][0]["value"] == 150
    assert out["Family"][0]["field"] == "content_rating" and out["Family"][0]["value"] == "PG"
    for genre in ("Action", "Family"):
        rows = out[genre]
        assert {r["field"] for r in rows} <= {"runtime_min", "content_rating", "year"}
        assert [abs(r["contribution"]) for r in rows] == sorted((abs(r["contribution"]) for r in rows), reverse=True)
        margin = encoder.boosters_[genre].predict(_dmatrix(encoder, fields), output_margin=True)[0]
        bias = encoder.boosters_[genre].predict(_dmatrix(encoder, fields), pred_contribs=True)[0, -1]
        assert sum(r["contribution"] for r in rows) + bias == pytest.approx(margin, abs=1e-4)


def _dmatrix(encoder: MetadataEncoder, fields: dict):
    import xgboost as xgb

    return xgb.DMatrix(encoder._matrix([fields]), missing=np.nan)


def test_linear_text_contributions_are_exact(plots):
    bundles, y = plots
    encoder = LinearTextEncoder(calibration_folds=2, ngram_candidates=((1, 2),)).fit(bundles, y)
    plot = "Night falls: a demon, blood and a quiet dinner."
    everything = encoder.explain(plot, ["Horror", "Drama"], top=1000)
    logits = encoder.decision([normalise_text(plot)])[0]
    words = normalise_text(plot).split()
    for genre, j in (("Horror", HORROR), ("Drama", DRAMA)):
        rows = everything[genre]
        assert all(set(r["token"].split()) <= set(words) for r in rows)  # words and bigrams of the plot
        assert any(" " in r["token"] for r in rows)
        intercept = encoder.platt_[j, 0] * encoder.bias_[j] + encoder.platt_[j, 1]
        assert sum(r["weight"] for r in rows) + intercept == pytest.approx(logits[j])
    top = encoder.explain(plot, ["Horror"])["Horror"]
    assert len(top) <= 10 and {"demon", "blood"} <= {r["token"] for r in top if r["weight"] > 0}


@pytest.mark.parametrize("encoder_class", [TextEncoder, SentenceTextEncoder], ids=["fasttext", "minilm"])
def test_leave_one_out_weights_are_the_score_changes(plots, encoder_class):
    bundles, y = plots
    params = {"epoch": 20, "dim": 10, "bucket": 1000} if encoder_class is TextEncoder else {}
    encoder = encoder_class(**params).fit(bundles, y)
    plot = "A demon haunts the quiet dinner."
    out = encoder.explain(encoder.load_input(Bundle(id="x", plot=plot)), ["Horror"])["Horror"]
    words = normalise_text(plot).split()
    assert out and all(set(r["token"].split()) <= set(words) for r in out)
    logit = _text_logit(encoder, HORROR)
    for row in out[:3]:
        without = " ".join(remove_unit(words, tuple(row["token"].split())))
        assert row["weight"] == pytest.approx(logit(" ".join(words)) - logit(without), abs=1e-4)


def _text_logit(encoder, j: int):
    def logit(text: str) -> float:
        p = float(np.clip(encoder.predict_features([encoder.embed(text)])[0, j], 1e-6, 1 - 1e-6))
        return float(np.log(p / (1 - p)))

    return logit


def test_leave_one_out_removes_every_occurrence():
    seen: list[str] = []

    def logits(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return np.array([[len(t.split())] * len(MOVIESCOPE) for t in texts], dtype=float)

    out = leave_one_out(["a", "b", "a", "c"], logits, ["Action"], MOVIESCOPE)["Action"]
    # units in order of first appearance: a, "a b", b, "b a", "a c", c
    assert seen == ["a b a c", "b c", "a c", "a a c", "a c", "a b", "a b a"]
    assert {r["token"]: r["weight"] for r in out} == {"a": 2, "a b": 2, "b": 1, "b a": 2, "a c": 2, "c": 1}
    assert [r["token"] for r in out][:2] == ["a", "a b"]  # ties keep their order
