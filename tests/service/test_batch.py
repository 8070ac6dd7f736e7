"""`moviescope predict --data`: a whole dataset as JSON lines, resumable, errors as lines, a report."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catalogue_copy import copied_rows

from service.cli import main
from training.dataset import load_dataset


def predict(artifacts: Path, data: Path, out: Path, *extra: str) -> int:
    return main(["-q", "predict", "--artifacts", str(artifacts), "--data", str(data), "--out", str(out),
                 "--device", "cpu", *extra])


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def without_timings(path: Path) -> list[dict]:
    """The lines with what a re-run changes (timings_ms) left out."""
    return [{k: v for k, v in line.items() if k != "timings_ms"} for line in read_lines(path)]


def assert_same_answer(line: dict, answer: dict, tolerance: float = 1e-6) -> None:
    assert set(line) - {"id"} == set(answer)
    for key in ("model_version", "used_modalities", "missing_modalities"):
        assert line[key] == answer[key]
    assert list(line["timings_ms"]) == list(answer["timings_ms"])
    scores = {g["genre"]: (g["score"], g["predicted"]) for g in answer["genres"]}
    for g in line["genres"]:
        assert g["score"] == pytest.approx(scores[g["genre"]][0], abs=tolerance)
        assert g["predicted"] == scores[g["genre"]][1]
    for modality, genre_scores in answer["modalities"].items():
        assert line["modalities"][modality] == pytest.approx(genre_scores, abs=tolerance)


@pytest.fixture(scope="module")
def batch_run(tiny_artifacts, tiny_dataset, tmp_path_factory) -> Path:
    """One uninterrupted run over the whole tiny dataset."""
    out = tmp_path_factory.mktemp("batch") / "predictions.jsonl"
    assert predict(tiny_artifacts, tiny_dataset, out) == 0
    return out


def test_one_line_per_movie_each_the_http_answer(batch_run, tiny_dataset, server):
    movies = load_dataset(tiny_dataset).movies
    lines = read_lines(batch_run)
    assert [line["id"] for line in lines] == [m.bundle.id for m in movies]
    for movie, line in list(zip(movies, lines, strict=True))[:3]:
        b = movie.bundle
        metadata = json.dumps({k: v for k, v in b.metadata.items() if v is not None}) if b.metadata else None
        answer = server.predict(b.trailer, b.poster, b.plot, metadata, title=b.title)
        assert answer.status_code == 200, answer.text
        assert_same_answer(line, answer.json())


def test_a_second_run_writes_nothing(batch_run, tiny_artifacts, tiny_dataset, capsys):
    before = batch_run.read_bytes()
    assert predict(tiny_artifacts, tiny_dataset, batch_run) == 0
    assert batch_run.read_bytes() == before
    assert "24 scored, 0 failed; this run wrote 0 lines" in capsys.readouterr().out


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_file_of_an_uninterrupted_one(batch_run, tiny_artifacts, tiny_dataset,
                                                                   tmp_path):
    out = tmp_path / "predictions.jsonl"
    command = [sys.executable, "-m", "service.cli", "-q", "predict", "--artifacts", str(tiny_artifacts),
               "--data", str(tiny_dataset), "--out", str(out), "--device", "cpu"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out.exists() and out.read_bytes().count(b"\n")) and time.monotonic() < deadline:
        time.sleep(0.05)
    child.kill()
    child.wait()
    written = out.read_bytes().count(b"\n")
    assert 0 < written < 24, "the run was not interrupted halfway"
    with out.open("ab") as f:
        f.write(b'{"id": "syn00000023", "model_ver')  # what a kill in the middle of a write would leave
    assert predict(tiny_artifacts, tiny_dataset, out) == 0
    assert without_timings(out) == without_timings(batch_run)


def test_unscorable_movies_become_error_lines(tiny_artifacts, tiny_dataset, tmp_path, capsys):
    rows = copied_rows(tiny_dataset, tmp_path, 4)
    corrupt = tmp_path / rows[0]["trailer"]
    corrupt.write_bytes(corrupt.read_bytes()[:300])  # cut short: the moov box is gone
    rows[1]["metadata"] = {"year": 3000}
    del rows[2]["genres"]  # an unlabelled movie is scored like any other
    (tmp_path / "movies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "predictions.jsonl"
    assert predict(tiny_artifacts, tmp_path, out) == 1
    lines = {line["id"]: line for line in read_lines(out)}
    assert [line["id"] for line in read_lines(out)] == [rows[1]["id"], rows[0]["id"], rows[2]["id"], rows[3]["id"]]
    assert set(lines[rows[0]["id"]]) == {"id", "error"} and corrupt.name in lines[rows[0]["id"]]["error"]
    assert "metadata.year" in lines[rows[1]["id"]]["error"]
    assert all("genres" in lines[r["id"]] for r in rows[2:])
    printed = capsys.readouterr().out
    assert "4 movies in" in printed and "2 scored, 2 failed" in printed


def test_report_of_the_test_split_is_the_training_report(tiny_artifacts, tiny_dataset, tmp_path):
    out, report_dir = tmp_path / "test.jsonl", tmp_path / "report"
    assert predict(tiny_artifacts, tiny_dataset, out, "--split", "test", "--report", str(report_dir)) == 0
    test_ids = [m.bundle.id for m in load_dataset(tiny_dataset).split("test")]
    assert [line["id"] for line in read_lines(out)] == test_ids
    batch = {row["name"]: row for row in json.loads((report_dir / "report.json").read_text())["rows"]}
    trained = {row["name"]: row for row in json.loads((tiny_artifacts / "report" / "report.json").read_text())["rows"]}
    assert "all (learned)" in batch and "all (ceiling)" in batch
    for name, row in batch.items():
        for metric in ("map", "micro_ap", "samples_ap", "micro_f1"):
            assert row[metric] == pytest.approx(trained[name][metric], abs=1e-6), (name, metric)
    assert (report_dir / "report.md").is_file() and (report_dir / "pr_curves.png").is_file()


def test_user_errors_are_one_line(tiny_artifacts, tiny_dataset, tmp_path, capsys):
    assert main(["predict", "--artifacts", str(tiny_artifacts), "--data", str(tiny_dataset)]) == 2
    assert "--data needs --out" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    assert predict(tiny_artifacts, tiny_dataset, bad) == 2
    assert "line 1 is not a prediction line" in capsys.readouterr().err
