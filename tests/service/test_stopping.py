"""Ctrl-C on `moviescope serve`: the process ends within seconds, by SIGINT, with no traceback; whether the
models are loaded, still loading, or an upload is still arriving."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from server_process import free_port, held_loading

pytestmark = pytest.mark.slow
EXIT_WITHIN_S = 5
# `moviescope serve` with the models' loading held for a minute, so that a signal surely comes while it runs
SLOW_LOADING = held_loading(60, "from service.cli import main; sys.exit(main(sys.argv[1:]))")


@contextmanager
def _ctrl_c_as_in_a_terminal():
    """A suite started in the background (`cmd &`, nohup, some CI runners) ignores SIGINT, and its children
    inherit that through exec; a server started from a terminal does not, and that is the case under test."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class CliServer:
    def __init__(self, artifacts: Path, tmp_path: Path, slow_loading: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        entry = SLOW_LOADING if slow_loading else ["-m", "service.cli"]
        env = {**os.environ, "MOVIESCOPE_DEVICE": "cpu", "MOVIESCOPE_TMP_DIR": str(tmp_path / "uploads")}
        self.stderr = tmp_path / "stderr.log"
        with self.stderr.open("wb") as err, _ctrl_c_as_in_a_terminal():
            self.process = subprocess.Popen([sys.executable, *entry, "serve", "--artifacts", str(artifacts),
                                             "--port", str(self.port)], env=env, stdout=subprocess.DEVNULL, stderr=err)

    def wait_for(self, path: str, status: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}{path}", timeout=2).status_code == status:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{path} never answered {status}:\n{self.stderr.read_text()}")

    def interrupt(self) -> tuple[float, str]:
        """SIGINT, as Ctrl-C sends it; returns how long the process took to end and its stderr."""
        start = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        return time.monotonic() - start, self.stderr.read_text()


@pytest.fixture
def cli_server(tiny_artifacts, tmp_path):
    started = []

    def start(**kwargs) -> CliServer:
        started.append(CliServer(tiny_artifacts, tmp_path, **kwargs))
        return started[-1]

    yield start
    for srv in started:
        if srv.process.poll() is None:
            srv.process.kill()
            srv.process.wait()


def assert_stopped_quietly(srv: CliServer, took: float, stderr: str) -> None:
    assert took < EXIT_WITHIN_S, f"took {took:.1f} s:\n{stderr}"
    assert srv.process.returncode == -signal.SIGINT, stderr
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert "Finished server process" in stderr


def test_ctrl_c_once_ready(cli_server):
    srv = cli_server()
    srv.wait_for("/readyz", 200)
    assert_stopped_quietly(srv, *srv.interrupt())


def test_ctrl_c_while_the_models_are_loading(cli_server):
    srv = cli_server(slow_loading=True)
    srv.wait_for("/healthz", 200)
    assert httpx.get(f"{srv.url}/readyz", timeout=5).status_code == 503
    assert_stopped_quietly(srv, *srv.interrupt())


def test_ctrl_c_while_an_upload_is_arriving(cli_server, tmp_path):
    srv = cli_server()
    srv.wait_for("/readyz", 200)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as upload:
        upload.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                       b"Content-Length: 100000\r\n\r\n--x\r\n")
        time.sleep(0.5)
        assert_stopped_quietly(srv, *srv.interrupt())
        answer = upload.recv(4096)
    assert answer.startswith(b"HTTP/1.1 503") and b"shutting down" in answer
    assert not list((tmp_path / "uploads").iterdir())
