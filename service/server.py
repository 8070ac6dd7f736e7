"""`moviescope serve`: uvicorn around the app; settings from MOVIESCOPE_* variables, flags override.
Ctrl-C or SIGTERM stops it within seconds, without a traceback (service/stopping.py)."""

import ipaddress
import logging
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from models.artifacts import verify
from service.app import create_app
from service.settings import Settings
from service.stopping import GRACEFUL_SHUTDOWN_S, StoppingServer, run_until_stopped

log = logging.getLogger("moviescope.service")


def serve(artifacts: Path | None = None, host: str | None = None, port: int | None = None) -> None:
    overrides = {"artifacts": artifacts, "host": host, "port": port}
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:  # the flags are typed by argparse: a variable is wrong
        raise ValueError("; ".join(f"MOVIESCOPE_{str(e['loc'][0]).upper()}: {e['msg']}" for e in err.errors())) from None
    check_exposure(settings)
    verify(settings.artifacts)  # the manifest and every file's checksum, before the server starts
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    log.info("serving %s on http://%s:%d (docs at /docs); loading the models ...",
             settings.artifacts, shown, settings.port)
    apps = []  # the one app uvicorn makes, for the stop signal

    def make_app():
        apps.append(create_app(settings))
        return apps[-1]

    def refuse_uploads() -> None:
        for app in apps:  # the gate sets `refuse_uploads` when uvicorn first calls the app (the lifespan)
            getattr(app.state, "refuse_uploads", lambda: None)()

    config = uvicorn.Config(make_app, factory=True, host=settings.host, port=settings.port,
                            log_level=settings.log_level, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    run_until_stopped(StoppingServer(config, on_stop=refuse_uploads))


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond this machine without an API key, unless told to explicitly."""
    if not (settings.api_key or settings.allow_anonymous or _is_loopback(settings.host)):
        raise ValueError(f"refusing to serve on {settings.host} without an API key: set MOVIESCOPE_API_KEY "
                         "(clients then send 'Authorization: Bearer <key>'), or MOVIESCOPE_ALLOW_ANONYMOUS=1 "
                         "to serve without one")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any address
        return False
