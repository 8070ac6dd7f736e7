import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real uvicorn process on a loopback port."""

    def __init__(self, artifacts: Path, tmp_dir: Path, **env: str):
        self.tmp_dir = tmp_dir
        self.artifacts = artifacts
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "MOVIESCOPE_ARTIFACTS": str(artifacts), "MOVIESCOPE_TMP_DIR": str(tmp_dir),
                       "MOVIESCOPE_DEVICE": "cpu", "MOVIESCOPE_LOG_LEVEL": "warning", **env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=environment,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise TimeoutError("server did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def server(tiny_artifacts, tmp_path_factory):
    srv = Server(tiny_artifacts, tmp_path_factory.mktemp("uploads"), MOVIESCOPE_MAX_TRAILER_MB="1",
                 MOVIESCOPE_MAX_POSTER_MB="0.5")
    yield srv
    srv.stop()
