"""The FastAPI app: thin routes over the Predictor; models load once, at startup."""

import logging
import secrets
import time
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from models.bundle import Bundle, Metadata
from models.media import MediaError, UnsupportedMediaError
from service.metrics import Metrics
from service.predictor import Predictor
from service.schemas import ModelInfo, PredictResponse
from service.settings import Settings
from service.uploads import request_dir, save_upload

log = logging.getLogger("moviescope.service")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from training.train import resolve_device

        device = resolve_device(settings.device)
        app.state.predictor = await run_in_threadpool(
            Predictor.from_dir, settings.artifacts, device=device, limits=settings.media_limits(),
            max_poster_pixels=settings.max_poster_pixels,
        )
        app.state.metrics.model.info({"version": app.state.predictor.artifacts.version, "device": device})
        log.info("model %s loaded on %s", app.state.predictor.artifacts.version, device)
        yield

    app = FastAPI(title="moviescope", version="0.1.0", lifespan=lifespan,
                  description="Multimodal movie-genre classification (after Moviescope, arXiv 1908.03180).")
    app.state.settings, app.state.metrics, app.state.predictor, app.state.busy = settings, Metrics(), None, 0
    _add_middleware_and_handlers(app)
    _add_routes(app)
    return app


def require_key(request: Request) -> None:
    key = request.app.state.settings.api_key
    if not key:
        return
    given = request.headers.get("authorization", "")
    if not secrets.compare_digest(given.encode(), f"Bearer {key}".encode()):
        raise HTTPException(401, "missing or wrong API key (send 'Authorization: Bearer <key>')",
                            headers={"WWW-Authenticate": "Bearer"})


def ready_predictor(request: Request) -> Predictor:
    predictor = request.app.state.predictor
    if predictor is None:
        raise HTTPException(503, "models are still loading", headers={"Retry-After": "5"})
    return predictor


Authorised = Depends(require_key)
ReadyPredictor = Annotated[Predictor, Depends(ready_predictor)]


def _add_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        ready = request.app.state.predictor is not None
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"])
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/model", response_model=ModelInfo, dependencies=[Authorised], tags=["model"])
    async def model_info(predictor: ReadyPredictor) -> dict:
        return ModelInfo.from_artifacts(predictor.artifacts).model_dump()

    @app.post("/v1/predict", response_model=PredictResponse, dependencies=[Authorised], tags=["model"])
    async def predict(
        request: Request,
        predictor: ReadyPredictor,
        trailer: Annotated[UploadFile, File(description="the trailer: MP4, MOV, MKV, WebM or AVI (required)")],
        poster: Annotated[UploadFile | None, File(description="the poster: JPEG, PNG or WebP")] = None,
        plot: Annotated[str | None, Form(description="the plot summary, plain text")] = None,
        metadata: Annotated[str | None, Form(description="catalogue metadata as a JSON object, e.g. "
                                                         '{"year": 2012, "runtime_min": 118}')] = None,
    ) -> dict:
        settings: Settings = request.app.state.settings
        parsed = _parse_metadata(metadata)
        if plot is not None and len(plot) > settings.max_plot_chars:
            raise HTTPException(413, f"plot: longer than {settings.max_plot_chars} characters")
        with _slot(request.app):
            async with request_dir(settings.tmp_dir) as work:
                trailer_path = await save_upload(trailer, work, "trailer", settings.max_trailer_mb)
                poster_path = None
                if poster is not None and poster.filename:
                    poster_path = await save_upload(poster, work, "poster", settings.max_poster_mb)
                bundle = Bundle(id="request", trailer=trailer_path, poster=poster_path,
                                plot=plot or None, metadata=parsed)
                result = await run_in_threadpool(predictor.predict, bundle)
        request.app.state.metrics.observe_timings(result["timings_ms"])
        return result


class _slot:
    """Admission control: at most max_in_flight predictions; beyond that 503 at once, no queue."""

    def __init__(self, app: FastAPI):
        self.app = app

    def __enter__(self):
        state = self.app.state
        if state.busy >= state.settings.max_in_flight:
            raise HTTPException(503, "too many requests in flight; retry shortly", headers={"Retry-After": "2"})
        state.busy += 1
        state.metrics.in_flight.inc()

    def __exit__(self, *exc):
        self.app.state.busy -= 1
        self.app.state.metrics.in_flight.dec()


def _parse_metadata(text: str | None) -> Metadata | None:
    if not text:
        return None
    try:
        return Metadata.model_validate_json(text)
    except ValidationError as err:
        problems = "; ".join(f"metadata.{'.'.join(map(str, e['loc'])) or 'json'}: {e['msg']}" for e in err.errors())
        raise HTTPException(422, problems) from err


def _add_middleware_and_handlers(app: FastAPI) -> None:
    @app.middleware("http")
    async def count_requests(request: Request, call_next):
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            request.app.state.metrics.requests.labels(route=path, status=str(status)).inc()
            request.app.state.metrics.latency.labels(route=path).observe(time.perf_counter() - start)

    @app.exception_handler(MediaError)
    async def media_error(request: Request, err: MediaError) -> JSONResponse:
        status = 415 if isinstance(err, UnsupportedMediaError) else 422
        return JSONResponse({"detail": str(err)}, status_code=status)
