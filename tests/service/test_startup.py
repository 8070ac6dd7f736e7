"""What the service does before it serves: clean up after a killed run, and refuse to be open by accident."""

import asyncio
import os
import time

import pytest

from service import app as app_module
from service import server
from service.app import create_app
from service.cli import main
from service.settings import Settings

DAY = 24 * 3600


def age(path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp), follow_symlinks=False)


def test_start_up_removes_day_old_request_dirs_in_its_own_tmp_dir(tmp_path, monkeypatch):
    uploads, elsewhere, artifacts = tmp_path / "uploads", tmp_path / "elsewhere", tmp_path / "artifacts"
    for directory in (uploads, elsewhere, artifacts):
        directory.mkdir()
    (artifacts / "manifest.json").write_text("{}")
    stale = uploads / "moviescope-req-killed"
    stale.mkdir()
    (stale / "trailer.mp4").write_bytes(b"x" * 100)
    recent = uploads / "moviescope-req-running"
    recent.mkdir()
    not_ours = uploads / "other-old"
    not_ours.mkdir()
    outside = elsewhere / "moviescope-req-old"
    outside.mkdir()
    link = uploads / "moviescope-req-link"
    link.symlink_to(outside)
    for path in (stale / "trailer.mp4", stale, not_ours, outside, link):
        age(path, 2 * DAY)

    async def no_models(app):
        return None

    monkeypatch.setattr(app_module, "_load_models", no_models)
    app = create_app(Settings(artifacts=artifacts, tmp_dir=uploads))

    async def start_and_stop():
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(start_and_stop())
    assert sorted(p.name for p in uploads.iterdir()) == ["moviescope-req-link", "moviescope-req-running", "other-old"]
    assert outside.is_dir()


@pytest.fixture
def artifact_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(server, "verify", lambda root: {})  # these tests are about the address
    return tmp_path


@pytest.fixture
def no_uvicorn(monkeypatch):
    started = {}
    monkeypatch.setattr(server, "run_until_stopped", lambda srv: started.update(host=srv.config.host))
    for name in ("MOVIESCOPE_API_KEY", "MOVIESCOPE_ALLOW_ANONYMOUS", "MOVIESCOPE_HOST"):
        monkeypatch.delenv(name, raising=False)
    return started


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "moviescope.example"])
def test_refuses_a_public_address_without_a_key(artifact_dir, no_uvicorn, capsys, host):
    assert main(["serve", "--artifacts", str(artifact_dir), "--host", host]) == 2
    err = capsys.readouterr().err
    assert "MOVIESCOPE_API_KEY" in err and "MOVIESCOPE_ALLOW_ANONYMOUS=1" in err and len(err.splitlines()) == 1
    assert no_uvicorn == {}


@pytest.mark.parametrize(("host", "env"), [
    ("127.0.0.1", {}), ("localhost", {}), ("::1", {}),
    ("0.0.0.0", {"MOVIESCOPE_API_KEY": "k"}), ("0.0.0.0", {"MOVIESCOPE_ALLOW_ANONYMOUS": "1"}),
])
def test_serves_on_loopback_with_a_key_or_when_told(artifact_dir, no_uvicorn, monkeypatch, host, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--artifacts", str(artifact_dir), "--host", host]) == 0
    assert no_uvicorn["host"] == host
