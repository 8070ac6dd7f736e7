"""Quality floors: every encoder and the fusion, trained the real way on a small synthetic benchmark,
must recover a good share of the evidence planted in its input (the report's ceiling rows) and
clearly beat the prior. A model that predicts the prior, or one that ignores its input, fails."""

import json

import numpy as np
import pytest

from training.config import load_config
from training.synth import synthesize
from training.synth_media import MOTIONS
from training.train import train

pytestmark = pytest.mark.slow

SMALL_MODELS = {
    "video": {"params": {"frame_size": 64, "n_frames": 8}},
    "video_tempconv": {"params": {"frame_size": 64, "n_frames": 8}},
    "video_lstm": {"params": {"frame_size": 64, "n_frames": 8}},
    "video_bilstm": {"params": {"frame_size": 64, "n_frames": 8}},
    "audio": {"params": {"n_mels": 48, "n_fft": 1024, "clip_seconds": 2.0, "n_clips": 2, "epochs": 20}},
    "poster": {"params": {"image_size": 96}},
    "text_fasttext": {"params": {"epoch": 20, "dim": 20, "bucket": 20000}},
    "text_title": None,  # MiniLM a second time (title + plot), about 10% of the training: no floor of its own
}
# (row, least share of its ceiling row's mAP); every row must also beat the prior's mAP by PRIOR_MARGIN
FLOORS = [("video (fastVideo)", "video", 0.75), ("video (TempConv)", "video", 0.7),
          ("video (LSTM)", "video", 0.6), ("video (BiLSTM)", "video", 0.6), ("audio", "audio", 0.6),
          ("poster", "poster", 0.6), ("text (NB-LR)", "text", 0.8), ("text (MiniLM)", "text", 0.4),
          ("text (fastText)", "text", 0.3), ("text (Conv1D)", "text", 0.5), ("metadata", "metadata", 0.7),
          ("metadata (RandomForest)", "metadata", 0.7), ("all (learned)", "all", 0.7)]
PRIOR_MARGIN = 0.1
# fastText trains hogwild on 12 threads (models/text.py), so its seed does not fix the model: on these 140
# training plots its mAP spread 0.338-0.355 over 8 runs on one machine and fell to 0.304 on another
MARGINS = {"text (fastText)": 0.06}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    synthesize(root / "data", n=200, seed=5, duration=3.0, size=(96, 64), progress=False)
    config = root / "config.json"
    config.write_text(json.dumps({"models": SMALL_MODELS}))
    train(root / "data", root / "artifacts", load_config(config), "cpu", root / "cache")
    return json.loads((root / "artifacts" / "report" / "report.json").read_text())


@pytest.mark.parametrize(("row", "modality", "share"), FLOORS, ids=[f[0] for f in FLOORS])
def test_each_model_recovers_its_planted_evidence(report, row, modality, share):
    rows = {r["name"]: r for r in report["rows"]}
    model, ceiling, prior = rows[row]["map"], rows[f"{modality} (ceiling)"]["map"], report["prior"]["map"]
    margin = MARGINS.get(row, PRIOR_MARGIN)
    assert model >= prior + margin, f"{row}: mAP {model:.3f} hardly beats the prior's {prior:.3f}"
    assert model >= share * ceiling, f"{row}: mAP {model:.3f} < {share} x its ceiling {ceiling:.3f}"


def test_learned_fusion_beats_every_single_modality(report):
    rows = {r["name"]: r["map"] for r in report["rows"]}
    singles = [rows[row] for row, modality, _ in FLOORS if modality != "all"]
    assert rows["all (learned)"] > max(singles)


def test_motion_reads_the_genres_planted_in_motion(report):
    """On the genres the generator plants only in how the trailer moves, the motion model recovers most of
    its ceiling and beats the prior; its mAP over every genre is no measure (it carries four)."""
    rows = {r["name"]: r for r in [*report["rows"], report["prior"]]}

    def motion_genres_ap(row: str) -> float:
        return float(np.mean([rows[row]["per_genre_ap"][g] for g in MOTIONS]))

    model, ceiling, prior = motion_genres_ap("motion"), motion_genres_ap("motion (ceiling)"), motion_genres_ap("prior")
    assert model >= prior + PRIOR_MARGIN, f"motion: AP {model:.3f} on the motion genres, prior {prior:.3f}"
    assert model >= 0.7 * ceiling, f"motion: AP {model:.3f} on the motion genres < 0.7 x its ceiling {ceiling:.3f}"
