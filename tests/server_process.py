"""What the tests that start a server process share. Import it as `server_process` (pytest puts tests/ on
sys.path)."""

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def held_loading(delay_s: float, entry: str) -> list[str]:
    """Python arguments that run `entry` (code ending in a main() call) with the models' loading held for
    `delay_s` seconds first: the server is up and answers 503 "still loading" meanwhile."""
    hold = ("import sys, time; from service import predictor; real = predictor.Predictor.from_dir; "
            f"predictor.Predictor.from_dir = lambda *a, **k: (time.sleep({delay_s}), real(*a, **k))[1]; ")
    return ["-c", hold + entry]
