"""Answers about inputs unlike the training data (service/trust.py): flagged, left out, said plainly."""

import json
import shutil

import numpy as np
import pytest

from models.artifacts import load_artifacts
from models.bundle import Bundle
from models.typicality import FILE, Judgement
from service.batch_predictor import BatchPredictor, predict_batch
from service.card import model_card
from service.predictor import Predictor
from service.settings import Settings
from service.trust import TrustPolicy, trust_fields

META = {"year": 2005, "runtime_min": 101, "content_rating": "PG", "num_voted_users": 300}
FAR = {**META, "runtime_min": 900}
PLOT = "Two friends build a rocket and fly it to a strange planet full of robots."
TYPICAL, ODD = Judgement(3.0, 40.0, 99.0, False), Judgement(900.0, 100.0, 99.0, True)


@pytest.fixture(scope="module")
def predictor(tiny_artifacts) -> Predictor:
    return Predictor.from_dir(tiny_artifacts, warm_up=False, trust=TrustPolicy())  # the service's default


@pytest.fixture(scope="module")
def keeping(tiny_artifacts) -> Predictor:
    return Predictor.from_dir(tiny_artifacts, warm_up=False, trust=TrustPolicy(policy="keep"))


class _Encoder:
    def typicality_reason(self, judgement: Judgement) -> str:
        return "unlike its training inputs"


def test_a_flagged_modality_is_left_out_of_the_fusion_unless_kept():
    scores, judged = {"video": np.ones(2), "text": np.zeros(2)}, {"video": ODD, "text": TYPICAL}
    assert list(TrustPolicy().fused(scores, judged)) == ["text"]
    assert list(TrustPolicy(policy="keep").fused(scores, judged)) == ["video", "text"]
    assert list(TrustPolicy().fused(scores, {"video": None})) == ["video", "text"]  # not judged: trusted
    fields = trust_fields(scores, judged, {"text": scores["text"]}, {"video": _Encoder(), "text": _Encoder()})
    assert fields["untrusted_modalities"] == [{"modality": "video", "reason": "unlike its training inputs",
                                               "left_out": True}]
    assert fields["known_input"] is True and "video is unlike" in fields["input_notice"]
    assert fields["typicality"]["text"] == {"score": 3.0, "percentile": 40.0, "threshold_percentile": 99.0,
                                            "out_of_distribution": False}


def test_every_present_modality_flagged_means_the_model_does_not_know_this_input():
    fields = trust_fields({"video": np.ones(2)}, {"video": ODD}, {}, {"video": _Encoder()})
    assert fields["known_input"] is False and fields["input_notice"].startswith("The model does not know")
    unjudged = trust_fields({"video": np.ones(2)}, {"video": None}, {"video": np.ones(2)}, {"video": _Encoder()})
    assert unjudged["known_input"] is None and unjudged["input_notice"] is None


def test_metadata_far_outside_the_training_range_is_flagged_and_left_out(predictor, keeping):
    answer = predictor.predict(Bundle(id="far", plot=PLOT, metadata=FAR))
    assert answer["typicality"]["metadata"]["out_of_distribution"]
    untrusted = {u["modality"]: u for u in answer["untrusted_modalities"]}  # the tiny model may not know the plot
    assert "runtime_min = 900" in untrusted["metadata"]["reason"] and untrusted["metadata"]["left_out"]
    assert "metadata" in answer["modalities"] and "metadata" not in answer["used_modalities"]
    assert "typicality" in answer["timings_ms"]
    kept = keeping.predict(Bundle(id="far", plot=PLOT, metadata=FAR))
    assert kept["used_modalities"] == ["text", "metadata"]
    assert not any(u["left_out"] for u in kept["untrusted_modalities"])


def test_when_nothing_is_trusted_the_answer_is_the_prior_and_no_genre(predictor):
    answer = predictor.predict(Bundle(id="far", metadata={"year": 1870, "runtime_min": 900}))
    assert answer["known_input"] is False and answer["used_modalities"] == []
    assert "does not know this kind of input" in answer["input_notice"]
    assert not any(g["predicted"] for g in answer["genres"])
    prior = predictor._fuse({})
    assert sorted(g["score"] for g in answer["genres"]) == pytest.approx(sorted(prior.tolist()))


def test_the_threshold_is_settable(tiny_artifacts, monkeypatch):
    monkeypatch.setenv("MOVIESCOPE_OOD_PERCENTILE", "0.5")
    monkeypatch.setenv("MOVIESCOPE_OOD_POLICY", "KEEP")
    assert TrustPolicy.from_settings(Settings()) == TrustPolicy(0.5, "keep")
    strict = Predictor.from_dir(tiny_artifacts, warm_up=False, trust=TrustPolicy(0.5))
    answer = strict.predict(Bundle(id="m", plot=PLOT, metadata=META))
    assert all(t["threshold_percentile"] == 0.5 for t in answer["typicality"].values())


def test_batch_lines_and_the_card_report_typicality(tiny_artifacts, predictor):
    batch = BatchPredictor.from_dir(tiny_artifacts, warm_up=False, trust=TrustPolicy())
    line = predict_batch(batch, [("far", Bundle(id="far", plot=PLOT, metadata=FAR))])[0]
    single = predictor.predict(Bundle(id="far", plot=PLOT, metadata=FAR))
    for key in ("typicality", "untrusted_modalities", "known_input", "input_notice", "used_modalities"):
        assert line[key] == single[key]
    card = model_card(predictor.artifacts, predictor.trust)["typicality"]
    assert card["percentile"] == 99.0 and card["policy"] == "exclude"  # the card of the service's default
    assert card["modalities"]["metadata"]["trained_on"].endswith("training films")


def test_a_model_saved_before_typicality_serves_as_before(tiny_artifacts, tmp_path):
    legacy = tmp_path / "legacy"
    shutil.copytree(tiny_artifacts, legacy)
    for path in legacy.rglob(FILE):
        path.unlink()
    manifest = json.loads((legacy / "manifest.json").read_text())
    manifest["files"] = {rel: sha for rel, sha in manifest["files"].items() if not rel.endswith(FILE)}
    (legacy / "manifest.json").write_text(json.dumps(manifest))
    old = Predictor.from_dir(legacy, warm_up=False, trust=TrustPolicy())
    answer = old.predict(Bundle(id="far", plot=PLOT, metadata=FAR))
    assert set(answer["typicality"].values()) == {None} and answer["untrusted_modalities"] == []
    assert answer["known_input"] is None and answer["used_modalities"] == ["text", "metadata"]
    assert set(model_card(load_artifacts(legacy))["typicality"]["modalities"].values()) == {None}
