"""`moviescope serve`: uvicorn around the app; settings from MOVIESCOPE_* variables, flags override."""

import ipaddress
import logging
from pathlib import Path

import uvicorn

from service.app import create_app
from service.predictor import check_artifact_dir
from service.settings import Settings

log = logging.getLogger("moviescope.service")


def serve(artifacts: Path | None = None, host: str | None = None, port: int | None = None) -> None:
    overrides = {"artifacts": artifacts, "host": host, "port": port}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    check_exposure(settings)
    check_artifact_dir(settings.artifacts)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    log.info("serving %s on http://%s:%d (docs at /docs); loading the models ...",
             settings.artifacts, shown, settings.port)
    uvicorn.run(lambda: create_app(settings), factory=True, host=settings.host, port=settings.port,
                log_level=settings.log_level, timeout_graceful_shutdown=10)


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
