"""`moviescope predict --server URL`: a running service computes, the command line writes what a local
run writes: one bundle's JSON; a catalogue's resumable JSON lines, through kills and server restarts."""

import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from catalogue_copy import copied_rows

from service.cli import main
from service.cli.parser import build_parser
from service.cli.remote import predict_remote
from service.client import RetryPolicy

KEY = "s3cret"  # the shared server's (tests/service/conftest.py)


def remote(server_url: str, *args: str, key: str = KEY) -> list[str]:
    return ["-q", "predict", "--server", server_url, "--api-key", key, *args]


def local(artifacts: Path, *args: str) -> list[str]:
    return ["-q", "predict", "--artifacts", str(artifacts), "--device", "cpu", *args]


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_same_lines(got: Path, expected: Path, tolerance: float = 1e-6) -> None:
    """The same ids in the same order, the same answers to `tolerance` on every score; timings_ms aside."""
    got_lines, expected_lines = read_lines(got), read_lines(expected)
    assert [line["id"] for line in got_lines] == [line["id"] for line in expected_lines]
    for line, reference in zip(got_lines, expected_lines, strict=True):
        assert_same_answer(line, reference, tolerance)


def assert_same_answer(answer: dict, reference: dict, tolerance: float = 1e-6) -> None:
    assert list(answer) == list(reference)
    for key in ("id", "error", "model_version", "used_modalities", "missing_modalities"):
        assert answer.get(key) == reference.get(key), key
    assert [g["genre"] for g in answer.get("genres", [])] == [g["genre"] for g in reference.get("genres", [])]
    for g, r in zip(answer.get("genres", []), reference.get("genres", []), strict=True):
        assert g["score"] == pytest.approx(r["score"], abs=tolerance) and g["predicted"] == r["predicted"]
    for modality, scores in reference.get("modalities", {}).items():
        assert answer["modalities"][modality] == pytest.approx(scores, abs=tolerance)


N_MOVIES = 10  # the runs that are compared, interrupted and resumed: a part of the tiny dataset


@pytest.fixture(scope="module")
def catalogue(tiny_dataset, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("catalogue")
    rows = copied_rows(tiny_dataset, root, N_MOVIES)
    (root / "movies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.fixture(scope="module")
def local_run(tiny_artifacts, catalogue, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "predictions.jsonl"
    assert main(local(tiny_artifacts, "--data", str(catalogue), "--out", str(out))) == 0
    return out


@pytest.mark.slow
def test_a_catalogue_on_the_server_gives_the_local_lines(server, catalogue, local_run, tmp_path, capsys):
    out = tmp_path / "remote.jsonl"
    assert main(remote(server.url, "--data", str(catalogue), "--out", str(out))) == 0
    assert_same_lines(out, local_run)
    assert f"{N_MOVIES} movies in" in capsys.readouterr().out
    before = out.read_bytes()
    assert main(remote(server.url, "--data", str(catalogue), "--out", str(out))) == 0
    assert out.read_bytes() == before and "this run wrote 0 lines" in capsys.readouterr().out


@pytest.mark.slow
def test_a_killed_remote_run_resumes_with_the_missing_movies_only(server, catalogue, local_run, tmp_path,
                                                                  capsys):
    out = tmp_path / "remote.jsonl"
    command = [sys.executable, "-m", "service.cli", *remote(server.url, "--data", str(catalogue), "--out",
                                                             str(out), "--max-in-flight", "2")]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out.exists() and out.read_bytes().count(b"\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    child.kill()
    child.wait()
    written = out.read_bytes()
    kept = written.count(b"\n")
    assert 0 < kept < N_MOVIES, "the run was not interrupted halfway"
    with out.open("ab") as f:
        f.write(b'{"id": "syn00000023", "model_ver')  # a kill in the middle of a write
    assert main(remote(server.url, "--data", str(catalogue), "--out", str(out))) == 0
    assert f"this run wrote {N_MOVIES - kept} lines" in capsys.readouterr().out
    assert out.read_bytes().startswith(written[: written.rfind(b"\n") + 1])  # the first lines untouched
    assert_same_lines(out, local_run)


@pytest.mark.slow
def test_a_server_restart_in_the_middle_of_a_run(start_server, tiny_artifacts, catalogue, local_run, tmp_path,
                                                 caplog):
    first = start_server(tiny_artifacts, MOVIESCOPE_API_KEY=KEY).wait_ready()
    out, exit_status = tmp_path / "remote.jsonl", []
    caplog.set_level(logging.WARNING, logger="service.client")
    run = threading.Thread(target=lambda: exit_status.append(
        main(remote(first.url, "--data", str(catalogue), "--out", str(out)))))
    run.start()
    deadline = time.monotonic() + 300
    while not (out.exists() and out.read_bytes().count(b"\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    first.process.kill()  # the requests in flight are cut off mid-answer
    first.process.wait()
    assert out.read_bytes().count(b"\n") < N_MOVIES, "the run was over before the server went down"
    # loading held longer than the client's longest wait between tries, so it meets "still loading" too
    start_server(tiny_artifacts, port=first.port, load_delay_s=RetryPolicy.down_poll_s + 1, MOVIESCOPE_API_KEY=KEY)
    run.join(timeout=400)
    assert exit_status == [0]
    assert_same_lines(out, local_run)
    retried = " ".join(r.getMessage() for r in caplog.records)
    assert "connection lost" in retried and "cannot connect" in retried and "models are still loading" in retried


def test_a_catalogues_bad_movies_become_error_lines(server, tiny_artifacts, tiny_dataset, limit_media, tmp_path,
                                                    capsys):
    rows = copied_rows(tiny_dataset, tmp_path, 4)
    corrupt = tmp_path / rows[0]["trailer"]
    corrupt.write_bytes(corrupt.read_bytes()[:300])  # cut short: the moov box is gone
    rows[1]["metadata"] = {"year": 3000}  # a rejected row
    shutil.copy(limit_media / "big.mp4", tmp_path / rows[2]["trailer"])  # over the server's 1 MB
    (tmp_path / "movies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "predictions.jsonl"
    assert main(remote(server.url, "--data", str(tmp_path), "--out", str(out))) == 1
    lines = read_lines(out)
    assert [line["id"] for line in lines] == [rows[i]["id"] for i in (1, 0, 2, 3)]  # as a local run orders them
    errors = {line["id"]: line.get("error") for line in lines}
    assert errors[rows[0]["id"]].startswith("trailer.mp4: ") and errors[rows[0]["id"]].endswith("(HTTP 415)")
    assert errors[rows[1]["id"]].startswith("field 'metadata.year'")
    assert errors[rows[2]["id"]] == (f"trailer: {Path(rows[2]['trailer']).name} is 1.0 MB, over the server's "
                                     "limit of 1 MB (not sent) (HTTP 413)")
    assert errors[rows[3]["id"]] is None and len(lines[3]["genres"]) == 13
    assert "4 movies in" in capsys.readouterr().out
    local_out = tmp_path / "local.jsonl"
    assert main(local(tiny_artifacts, "--data", str(tmp_path), "--out", str(local_out))) == 1
    assert read_lines(local_out)[0] == lines[0]  # the rejected row's line is the local one, word for word


def test_one_bundle_prints_the_local_json(server, tiny_artifacts, media_dir, capsys):
    bundle = ["--trailer", str(media_dir / "good.mp4"), "--poster", str(media_dir / "poster.jpg"),
              "--plot", "A detective follows a killer.", "--metadata", '{"year": 2012, "runtime_min": 118}']
    assert main(remote(server.url, *bundle)) == 0
    answer = json.loads(capsys.readouterr().out)
    assert main(local(tiny_artifacts, *bundle)) == 0
    assert_same_answer(answer, json.loads(capsys.readouterr().out))
    assert answer["used_modalities"] == ["video", "audio", "poster", "text", "metadata"]


def test_one_bundle_explained_on_the_server(server, media_dir, tmp_path, capsys):
    out = tmp_path / "explained"
    flags = ["--trailer", str(media_dir / "good.mp4"), "--poster", str(media_dir / "poster.jpg"), "--explain",
             "--genres", "Horror", "--out", str(out)]
    assert main(remote(server.url, *flags)) == 0
    written = json.loads((out / "explanation.json").read_text())
    assert written == json.loads(capsys.readouterr().out) and written["explanation"]["genres"] == ["Horror"]
    heatmaps = written["explanation"]["poster"]["heatmaps"] + written["explanation"]["video"]["heatmaps"]
    for heatmap in heatmaps:
        assert "overlay_png" not in heatmap and (out / heatmap["overlay_file"]).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_the_report_needs_the_served_artifact(server, tiny_artifacts, tiny_dataset, tmp_path, capsys):
    out, report = tmp_path / "test.jsonl", tmp_path / "report"
    flags = ["--data", str(tiny_dataset), "--split", "test", "--out", str(out), "--report", str(report)]
    assert main(remote(server.url, *flags, "--artifacts", str(tiny_artifacts))) == 0
    rows = {row["name"]: row for row in json.loads((report / "report.json").read_text())["rows"]}
    trained = {row["name"]: row for row in json.loads((tiny_artifacts / "report" / "report.json").read_text())["rows"]}
    assert rows["all (learned)"]["map"] == pytest.approx(trained["all (learned)"]["map"], abs=1e-6)
    other = tmp_path / "other-artifacts"
    shutil.copytree(tiny_artifacts, other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "model_version": "not-the-served-one"}))
    capsys.readouterr()
    assert main(remote(server.url, *flags, "--artifacts", str(other))) == 2
    assert "is model not-the-served-one, the server serves" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--server", "http://127.0.0.1:9", "--device", "cpu"], "--device choose how a local run goes"),
    (["--server", "http://127.0.0.1:9", "--engine", "ray", "--workers", "2"], "--engine, --workers choose"),
    (["--server", "ftp://host"], "--server: expected a URL like http://host:8000"),
    (["--server", "http://127.0.0.1:9", "--artifacts", "A", "--data", "D", "--out", "o"], "only for --report"),
    (["--server", "http://127.0.0.1:9", "--data", "D", "--out", "o", "--report", "R"], "needs --artifacts"),
    (["--server", "http://127.0.0.1:9", "--data", "D", "--out", "o", "--max-in-flight", "0"], "at least 1"),
    (["--trailer", "t.mp4"], "give --artifacts (predict here) or --server URL"),
    (["--artifacts", "A", "--trailer", "t.mp4", "--api-key", "k"], "--api-key goes with --server"),
])
def test_usage_errors_are_one_line(flags, message, capsys):
    assert main(["predict", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_wrong_key_stops_before_any_movie(server, tiny_dataset, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert main(remote(server.url, "--data", str(tiny_dataset), "--out", str(out), key="wrong")) == 2
    assert "HTTP 401" in capsys.readouterr().err and not out.exists()


def test_a_server_that_never_comes_stops_the_run(tiny_dataset, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = build_parser().parse_args(remote(f"http://127.0.0.1:{port}", "--data", str(tiny_dataset),
                                            "--out", str(tmp_path / "out.jsonl")))
    with pytest.raises(ValueError, match=r"cannot connect \(ConnectError.*for 1 s"):
        predict_remote(args, RetryPolicy(down_s=0.5, first_delay_s=0.1, down_poll_s=0.5))
