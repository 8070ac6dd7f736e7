"""The batch job end to end on a tiny synthetic set: artifacts, report, resume, integrity, missing modalities."""

import json
import logging
import shutil
import tempfile

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from models.artifacts import ArtifactError, load_artifacts
from models.backbones import LITE0_SHA256
from models.genres import MOVIESCOPE
from service.cli import main
from training import train as train_module
from training.config import load_config
from training.evaluate import run_evaluation

MODEL_ROWS = ["video (fastVideo)", "video (TempConv)", "video (LSTM)", "video (BiLSTM)", "audio", "poster",
              "text (NB-LR)", "text (MiniLM, title + plot)", "text (fastText)", "text (MiniLM)", "text (Conv1D)", "metadata",
              "metadata (RandomForest)", "video+audio (mean)", "video+audio+poster (mean)",
              "video+audio+poster+text (mean)", "all (mean)", "all (learned)"]
CEILING_ROWS = ["video (ceiling)", "motion (ceiling)", "audio (ceiling)", "poster (ceiling)", "text (ceiling)", "metadata (ceiling)",
                "all (ceiling)"]


def test_artifacts_are_complete_and_verified(tiny_artifacts):
    manifest = json.loads((tiny_artifacts / "manifest.json").read_text())
    assert manifest["genres"] == list(MOVIESCOPE) and manifest["packages"]["torch"]
    assert {"models/text/config.json", "fusion.json", "report/report.json"} <= set(manifest["files"])
    artifacts = load_artifacts(tiny_artifacts)
    assert list(artifacts.encoders) == ["video", "audio", "poster", "text", "metadata"]
    assert not list(tiny_artifacts.parent.glob(".artifacts.staging"))


def test_report_layout_and_numbers_recomputable(tiny_artifacts):
    report_dir = tiny_artifacts / "report"
    report = json.loads((report_dir / "report.json").read_text())
    assert report["genres"] == list(MOVIESCOPE) and report["split"] == "test"
    assert [r["name"] for r in report["rows"]] == MODEL_ROWS + CEILING_ROWS
    for name in ("report.md", "predictions.jsonl", "pr_curves.png", "modality_map.png"):
        assert (report_dir / name).stat().st_size > 0
    markdown = (report_dir / "report.md").read_text()
    assert "| Baseline (prior) |" in markdown and "Share of the ceiling" in markdown
    assert f"- video (fastVideo): efficientnet_lite0 (ImageNet weights SHA-256 {LITE0_SHA256})" in markdown
    assert report["features"]["poster"]["backbone"]["weights_sha256"] == LITE0_SHA256
    lines = [json.loads(line) for line in (report_dir / "predictions.jsonl").read_text().splitlines()]
    y = np.array([[g in p["genres"] for g in MOVIESCOPE] for p in lines], dtype=int)
    s = np.array([[p["scores"]["fused"][g] for g in MOVIESCOPE] for p in lines])
    learned = next(r for r in report["rows"] if r["name"] == "all (learned)")
    keep = y.sum(axis=0) > 0
    assert learned["map"] == pytest.approx(average_precision_score(y[:, keep], s[:, keep], average="macro"), abs=1e-6)
    assert learned["micro_ap"] == pytest.approx(average_precision_score(y, s, average="micro"), abs=1e-6)
    assert learned["samples_ap"] == pytest.approx(average_precision_score(y, s, average="samples"), abs=1e-6)


def test_corrupted_artifact_is_refused(tiny_artifacts, tmp_path):
    copy = shutil.copytree(tiny_artifacts, tmp_path / "copy")
    weights = copy / "models" / "video" / "head.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="head.pt is corrupt"):
        load_artifacts(copy)
    (copy / "fusion.json").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load_artifacts(copy)


@pytest.mark.slow
def test_interrupted_training_resumes(tiny_dataset, tiny_config, tiny_artifacts, tmp_path, monkeypatch, caplog):
    config = load_config(tiny_config)
    out, cache = tmp_path / "artifacts", tmp_path / "cache"
    shutil.copytree(tiny_artifacts.parent / "cache", cache)  # the features: only the fits are under test
    real_fit = train_module._fit_or_resume

    def crash_on_poster(config_, name, *args):
        if name == "poster":
            raise KeyboardInterrupt
        return real_fit(config_, name, *args)

    monkeypatch.setattr(train_module, "_fit_or_resume", crash_on_poster)
    with pytest.raises(KeyboardInterrupt):
        train_module.train(tiny_dataset, out, config, "cpu", cache)
    assert not out.exists()  # nothing half-written where a service would look
    monkeypatch.setattr(train_module, "_fit_or_resume", real_fit)
    with caplog.at_level(logging.INFO, logger="training.train"):
        manifest = train_module.train(tiny_dataset, out, config, "cpu", cache)
    reused = [r.getMessage() for r in caplog.records if "reusing the fit" in r.getMessage()]
    assert reused == [f"model {n}: reusing the fit from an interrupted run"
                      for n in ("video", "video_tempconv", "video_lstm", "video_bilstm", "audio")]
    assert load_artifacts(out).version == manifest["model_version"]


def test_evaluate_with_every_poster_removed(tiny_dataset, tiny_artifacts, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for sub in ("trailers", "posters"):
        (data / sub).symlink_to(tiny_dataset / sub)
    rows = [json.loads(line) for line in (tiny_dataset / "movies.jsonl").read_text().splitlines()]
    (data / "movies.jsonl").write_text("".join(json.dumps({**r, "poster": None}) + "\n" for r in rows))
    report = run_evaluation(data, tiny_artifacts, "test", tmp_path / "report")
    poster = next(r for r in report["rows"] if r["name"] == "poster")
    assert poster["missing"] and poster["map"] is None and poster["coverage"] == 0
    learned = next(r for r in report["rows"] if r["name"] == "all (learned)")
    assert learned["map"] is not None and not learned["missing"]
    assert "poster (missing)" in (tmp_path / "report" / "report.md").read_text()


def test_evaluate_without_cache_decodes_each_trailer_once(tiny_dataset, tiny_artifacts, tmp_path, monkeypatch):
    """The video models share their features: one frame decode per movie, not one per model."""
    from models import decode

    decoded = []
    real_sample_frames = decode.sample_timed_frames

    def counting_sample_frames(path, *args, **kwargs):
        decoded.append(path)
        return real_sample_frames(path, *args, **kwargs)

    monkeypatch.setattr(decode, "sample_timed_frames", counting_sample_frames)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    report = run_evaluation(tiny_dataset, tiny_artifacts, "test", tmp_path / "report")
    assert len(decoded) == len(set(decoded)) == report["n_movies"] + _n_val(tiny_dataset)
    assert not list(tmp_path.glob("moviescope-features-*"))  # the scratch cache is removed


def _n_val(dataset_dir) -> int:
    rows = [json.loads(line) for line in (dataset_dir / "movies.jsonl").read_text().splitlines()]
    return sum(r.get("split") == "val" for r in rows)


def test_cli_names_the_file_and_line_of_bad_rows(tmp_path, capfd):
    """In process (tests/test_cli_errors.py runs `train` as a real process, where a traceback would show)."""
    (tmp_path / "dataset.json").write_text('{"genres": ["Drama", "Horror"]}')
    (tmp_path / "movies.jsonl").write_text('{"id": "a", "genres": ["Drama"]}\n{"id": "b", "genres": ["Western"]}\n')
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capfd.readouterr().err
    assert "movies.jsonl" in err and "line 2" in err and "Western" in err
    assert "Traceback" not in err
