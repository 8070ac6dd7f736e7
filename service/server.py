"""`moviescope serve`: uvicorn around the app; settings from MOVIESCOPE_* variables, flags override."""

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
    check_artifact_dir(settings.artifacts)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    log.info("serving %s on http://%s:%d (docs at /docs); loading the models ...",
             settings.artifacts, shown, settings.port)
    uvicorn.run(lambda: create_app(settings), factory=True, host=settings.host, port=settings.port,
                log_level=settings.log_level, timeout_graceful_shutdown=10)
