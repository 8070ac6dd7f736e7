"""Every command on broken inputs: one message naming the file (or the variable), exit 2, no traceback."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main

ROWS = [{"id": "a", "genres": ["Drama"], "split": "train"}]


def moviescope(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("moviescope")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "service.cli"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOVIESCOPE_")}
    return subprocess.run([*command, "-q", *args], capture_output=True, text=True, timeout=300,
                          env={**environment, **(env or {})}, check=False)


@pytest.fixture(scope="module")
def broken(tiny_artifacts, tiny_dataset, media_dir, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("broken")
    paths = {"file": root / "a-file", "trailer": media_dir / "good.mp4", "artifacts": tiny_artifacts,
             "dataset": tiny_dataset}
    paths["file"].write_text("not a directory\n")
    paths["fresh"] = root / "not-yet"
    changes = {"manifest_list": lambda m: [m], "manifest_no_models": lambda m: {k: v for k, v in m.items() if k != "models"}}
    for name, change in changes.items():
        copy = shutil.copytree(tiny_artifacts, root / name)
        manifest = json.loads((copy / "manifest.json").read_text())
        (copy / "manifest.json").write_text(json.dumps(change(manifest)))
        paths[name] = copy
    paths["latin1"] = root / "latin1"
    paths["latin1"].mkdir()
    (paths["latin1"] / "movies.jsonl").write_bytes(b'{"id": "a", "genres": ["Drama"], "plot": "caf\xe9"}\n')
    paths["escaping"] = root / "escaping"
    paths["escaping"].mkdir()
    (paths["escaping"] / "movies.jsonl").write_text(json.dumps({**ROWS[0], "poster": "../../etc/passwd"}) + "\n")
    paths["typo"] = root / "typo.json"
    paths["typo"].write_text(json.dumps({"models": {"video": {"params": {"n_frame": 4}}}}))
    paths["models_list"] = root / "models-list.json"
    paths["models_list"].write_text(json.dumps({"models": ["video"]}))
    paths["plot"] = root / "plot.txt"
    paths["plot"].write_bytes(b"a plot in latin-1: caf\xe9\n")
    return paths


# command line ({name} is a path from `broken`), environment, what the message must name
CASES = {
    "synth into a file": ("synth --out {file} --n 2", {}, "a-file"),
    "train non-UTF-8 movies.jsonl": ("train --data {latin1} --out {fresh}", {}, "movies.jsonl"),
    "train path leaving the dataset": ("train --data {escaping} --out {fresh}", {}, "'..'"),
    "train config typo": ("train --data {latin1} --out {fresh} --config {typo}", {},
                          "typo.json: models.video.params.n_frame"),
    "train config models as a list": ("train --data {latin1} --out {fresh} --config {models_list}", {},
                                      "models-list.json: models"),
    "train into a file": ("train --data {latin1} --out {file}", {}, "--out: "),
    "evaluate manifest not an object": ("evaluate --data {dataset} --artifacts {manifest_list} --out {fresh}", {},
                                        "manifest.json: not a valid manifest"),
    "evaluate manifest without models": ("evaluate --data {dataset} --artifacts {manifest_no_models} --out {fresh}",
                                         {}, "manifest.json: not a valid manifest (models: Field required)"),
    "predict manifest not an object": ("predict --artifacts {manifest_list} --trailer {trailer}", {},
                                       "manifest.json: not a valid manifest (not a JSON object)"),
    "predict missing trailer": ("predict --artifacts {artifacts} --trailer {file}.mp4", {}, "a-file.mp4: no such file"),
    "predict plot not UTF-8": ("predict --artifacts {artifacts} --trailer {trailer} --plot @{plot}", {},
                               "plot.txt: not UTF-8"),
    "serve manifest not an object": ("serve --artifacts {manifest_list}", {}, "manifest.json"),
    "serve bad variable": ("serve --artifacts {artifacts}", {"MOVIESCOPE_PORT": "eighty"}, "MOVIESCOPE_PORT: "),
    "serve open without a key": ("serve --artifacts {artifacts} --host 0.0.0.0", {}, "MOVIESCOPE_API_KEY"),
    "demo into a file": ("demo --workdir {file} --no-serve --n 2", {}, "a-file"),
}
# a job command and the server as real processes (each start costs about 10 s of imports), where a traceback
# would show; the others in process, where an uncaught exception would fail the test and a logged traceback
# would show in the output
IN_SUBPROCESS = {"train config typo", "serve bad variable"}


def run_in_process(args: list[str], env: dict, monkeypatch, capfd) -> tuple[int, str, str]:
    for name in [k for k in os.environ if k.startswith("MOVIESCOPE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: pytest.fail("the server started"))
    code = main(["-q", *args])
    out, err = capfd.readouterr()
    return code, out, err


@pytest.mark.parametrize(("command", "env", "named"), CASES.values(), ids=CASES.keys())
def test_broken_inputs_end_in_a_message_not_a_traceback(request, broken, monkeypatch, capfd, command, env, named):
    args = [part.format(**broken) for part in command.split()]
    if request.node.callspec.id in IN_SUBPROCESS:
        result = moviescope(*args, env=env)
        code, out, err = result.returncode, result.stdout, result.stderr
    else:
        code, out, err = run_in_process(args, env, monkeypatch, capfd)
    assert "Traceback" not in out + err, out + err
    assert code == 2, out + err
    error = err[err.index(f"moviescope {args[0]}: error: "):]
    assert named in error, error
