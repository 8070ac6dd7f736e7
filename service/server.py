"""`moviescope serve`: uvicorn around the app, settings from the environment and the flags."""

import logging
from pathlib import Path

import uvicorn

from service.app import create_app
from service.settings import Settings

log = logging.getLogger("moviescope.service")


def serve(artifacts: Path | None = None, host: str | None = None, port: int | None = None) -> None:
    overrides = {k: v for k, v in {"artifacts": artifacts, "host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    log.info("serving %s on http://%s:%d (docs at /docs)", settings.artifacts, settings.host, settings.port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
                timeout_graceful_shutdown=10)
