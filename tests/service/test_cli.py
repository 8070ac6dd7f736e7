"""`moviescope predict` and `moviescope serve` from the command line."""

import json
import shutil

import pytest

from service.cli import main

META = {"year": 1999, "runtime_min": 95, "content_rating": "R", "num_voted_users": 5000}
PLOT = "A detective follows the clues of a murder through a corrupt city."


def test_cli_predict_matches_the_endpoint(server, media_dir, tmp_path, capsys):
    """In process (tests/test_cli_errors.py runs the `moviescope` script itself)."""
    trailer, poster = media_dir / "good.mp4", media_dir / "poster.jpg"
    http = server.predict(trailer, poster, PLOT, json.dumps(META)).json()
    (tmp_path / "plot.txt").write_text(PLOT)
    (tmp_path / "meta.json").write_text(json.dumps(META))
    capsys.readouterr()
    code = main(["-q", "predict", "--artifacts", str(server.artifacts), "--trailer", str(trailer),
                 "--poster", str(poster), "--plot", f"@{tmp_path / 'plot.txt'}",
                 "--metadata", f"@{tmp_path / 'meta.json'}", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0, err
    cli = json.loads(out)
    assert out.startswith('{\n  "model_version"')  # json.dumps(indent=2)
    assert cli["model_version"] == http["model_version"]
    assert cli["used_modalities"] == http["used_modalities"]
    assert len(cli["used_modalities"]) == 5
    assert [g["genre"] for g in cli["genres"]] == [g["genre"] for g in http["genres"]]
    for a, b in zip(cli["genres"], http["genres"], strict=True):
        assert a["score"] == pytest.approx(b["score"], abs=1e-6) and a["predicted"] == b["predicted"]
    for modality, scores in http["modalities"].items():
        assert cli["modalities"][modality] == pytest.approx(scores, abs=1e-6)


@pytest.mark.parametrize(("metadata", "field"), [
    ('{"imdb_score": "great"}', "metadata.imdb_score"),
    ('{"num_user_for_reviews": -1}', "metadata.num_user_for_reviews"),
    ("{oops", "metadata: not valid JSON"),
])
def test_cli_bad_metadata_names_the_field(tiny_artifacts, media_dir, capsys, metadata, field):
    trailer = str(media_dir / "good.mp4")
    code = main(["-q", "predict", "--artifacts", str(tiny_artifacts), "--trailer", trailer,
                 "--metadata", metadata])
    err = capsys.readouterr().err
    assert code == 2 and field in err and "Traceback" not in err


def test_cli_missing_files_are_clear_errors(tiny_artifacts, media_dir, tmp_path, capsys):
    args = ["-q", "predict", "--artifacts", str(tiny_artifacts), "--trailer", str(media_dir / "good.mp4")]
    assert main([*args, "--plot", f"@{tmp_path / 'nowhere.txt'}"]) == 2
    assert "--plot: file not found" in capsys.readouterr().err
    assert main(["-q", "predict", "--artifacts", str(tmp_path), "--trailer", args[-1]]) == 2
    assert "not a trained artifact directory" in capsys.readouterr().err


def test_serve_refuses_a_directory_without_artifacts(tmp_path, capsys):
    assert main(["serve", "--artifacts", str(tmp_path), "--port", "1"]) == 2
    assert "not a trained artifact directory" in capsys.readouterr().err


def test_serve_flags_override_the_environment(monkeypatch, tiny_artifacts):
    from service import server

    seen = {}
    monkeypatch.setattr(server, "run_until_stopped", lambda srv: seen.update(config=srv.config, app=srv.config.app()))
    monkeypatch.setenv("MOVIESCOPE_PORT", "9999")
    monkeypatch.setenv("MOVIESCOPE_MAX_IN_FLIGHT", "7")
    server.serve(artifacts=tiny_artifacts, port=8123)
    config = seen["config"]
    assert config.host == "127.0.0.1" and config.port == 8123 and config.factory is True
    settings = seen["app"].state.settings
    assert settings.artifacts == tiny_artifacts and settings.max_in_flight == 7


@pytest.mark.slow
def test_a_server_whose_models_cannot_load_stops(tiny_artifacts, tmp_path, start_server):
    broken = shutil.copytree(tiny_artifacts, tmp_path / "broken")
    (broken / "fusion.json").write_text("{}")  # no longer matches the manifest's SHA-256
    srv = start_server(broken)
    assert srv.process.wait(timeout=120) != 0
    assert "cannot load the models" in srv.log.read_text()
