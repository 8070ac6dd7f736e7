"""A real uvicorn server on a free loopback port, and the extra media the service tests need.

`tiny_artifacts` (trained once per session) and `media_dir` (good and bad media) come from
tests/conftest.py.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from media_fixtures import run_ffmpeg
from server_process import free_port, held_loading

API_KEY = "s3cret"
# limits of the shared server: small, so that oversized uploads are cheap to make
LIMITS = {"MAX_TRAILER_MB": "1", "MAX_POSTER_MB": "0.5", "MAX_WIDTH": "640", "MAX_HEIGHT": "480",
          "MAX_DURATION_S": "60"}


class Server:
    """`python -m uvicorn --factory service.app:create_app`, configured by MOVIESCOPE_* variables only."""

    def __init__(self, artifacts: Path, tmp_dir: Path, port: int | None = None, load_delay_s: float = 0,
                 **env: str):
        """`port`: a free one by default; give a stopped server's to start another in its place.
        `load_delay_s`: hold the models' loading that long (the server answers 503 meanwhile)."""
        self.artifacts, self.tmp_dir = artifacts, tmp_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        key = env.get("MOVIESCOPE_API_KEY")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        environment = {**os.environ, "MOVIESCOPE_ARTIFACTS": str(artifacts),
                       "MOVIESCOPE_TMP_DIR": str(tmp_dir), "MOVIESCOPE_DEVICE": "cpu",
                       "MOVIESCOPE_LOG_LEVEL": "warning", **env}
        self.log = tmp_dir.parent / f"server-{self.port}.log"
        entry = (held_loading(load_delay_s, "from uvicorn.main import main; main()") if load_delay_s
                 else ["-m", "uvicorn"])
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, *entry, "--factory", "service.app:create_app",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
                env=environment, stdout=log, stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 180) -> "Server":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"server not ready after {timeout} s:\n{self.log.read_text()}")

    def predict(self, trailer: Path | None = None, poster: Path | None = None, plot: str | None = None,
                metadata: str | None = None, headers: dict | None = None, route: str = "/v1/predict",
                **form: str) -> httpx.Response:
        """POST the bundle to `route` (/v1/predict or /v1/explain), with any further `form` fields."""
        files = {}
        for field, path in (("trailer", trailer), ("poster", poster)):
            if path is not None:
                files[field] = (path.name, path.read_bytes(), "application/octet-stream")
        data = {k: v for k, v in {"plot": plot, "metadata": metadata, **form}.items() if v is not None}
        return httpx.post(f"{self.url}{route}", files=files, data=data, timeout=120,
                          headers=self.headers if headers is None else headers)

    def get(self, path: str, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", self.headers)
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def leftovers(self) -> list[Path]:
        return list(self.tmp_dir.iterdir()) if self.tmp_dir.exists() else []

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def server(tiny_artifacts, tmp_path_factory):
    """The shared server: API key set, small upload and media limits."""
    srv = Server(tiny_artifacts, tmp_path_factory.mktemp("server") / "uploads", MOVIESCOPE_API_KEY=API_KEY,
                 **{f"MOVIESCOPE_{k}": v for k, v in LIMITS.items()})
    try:
        yield srv.wait_ready()
    finally:
        srv.stop()


def _server_starter(root: Path):
    """start(artifacts, [port], [load_delay_s], **env) -> a Server (not yet ready), and the list of those started
    (to stop)."""
    started: list[Server] = []

    def start(artifacts: Path, port: int | None = None, load_delay_s: float = 0, **env: str) -> Server:
        started.append(Server(artifacts, root / f"uploads-{len(started)}", port, load_delay_s, **env))
        return started[-1]

    return start, started


@pytest.fixture
def start_server(tmp_path):
    """start_server(artifacts, [port], **env) -> a Server (not yet ready); stopped after the test."""
    start, started = _server_starter(tmp_path)
    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="module")
def start_module_server(tmp_path_factory):
    """As `start_server`, for the servers a whole test module shares."""
    start, started = _server_starter(tmp_path_factory.mktemp("module-servers"))
    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def limit_media(tmp_path_factory) -> Path:
    """Videos beyond the shared server's limits: too wide, too long; and files beyond the size limits."""
    root = tmp_path_factory.mktemp("limit-media")
    tiny = ["-c:v", "mpeg4", "-q:v", "31"]
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x64:rate=5", "-t", "1", *tiny, str(root / "wide.mp4"))
    run_ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=32x32:rate=1", "-t", "90", *tiny, str(root / "long.mp4"))
    (root / "big.mp4").write_bytes(os.urandom(1024 * 1024 + 10))
    (root / "big.png").write_bytes(os.urandom(600 * 1024))
    return root
