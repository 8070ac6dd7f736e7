"""The FastAPI app: thin routes over the Predictor.

Models load once, in a thread started by the lifespan: /healthz answers at once, /readyz
and /v1/* answer 503 until the Predictor is in `app.state`, and no request pays for loading.
A wrong artifact path stops the startup; a failed load stops the server (SIGTERM to itself)
so that a supervisor restarts it instead of leaving it alive and never ready.
"""

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from models.bundle import Bundle, Metadata
from models.media import MediaError, UnsupportedMediaError
from service.explain import GenreError, explain, parse_genres
from service.gate import Gatekeeper
from service.metrics import Metrics, MetricsMiddleware
from service.pages import add_pages
from service.predictor import MetadataError, Predictor, check_artifact_dir, parse_metadata
from service.schemas import ERROR_RESPONSES, ExplainResponse, ModelInfo, PredictResponse
from service.settings import Settings
from service.uploads import RejectLargeBodies, remove_stale_request_dirs, request_dir, save_upload

log = logging.getLogger("moviescope.service")
PREDICT, EXPLAIN = "/v1/predict", "/v1/explain"
METADATA_HELP = ('catalogue metadata, a JSON object, e.g. {"year": 2012, "runtime_min": 118, '
                 '"content_rating": "PG-13", "num_voted_users": 5000}; '
                 "wrong types or negative counts are a 422 naming the field")
# the form fields of /v1/predict, which /v1/explain takes too
TrailerFile = Annotated[UploadFile, File(description="the trailer (required): MP4, MOV, MKV, WebM or AVI; "
                                                     "its soundtrack is the audio modality")]
PosterFile = Annotated[UploadFile | None, File(description="the poster: JPEG, PNG or WebP")]
PlotText = Annotated[str | None, Form(description="the plot summary, plain text")]
MetadataText = Annotated[str | None, Form(description=METADATA_HELP)]
GenresText = Annotated[str | None, Form(description="comma-separated genres to explain, e.g. 'Horror,Thriller' "
                                                    "(default: the 3 highest scores); an unknown name is a 422")]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logging.getLogger("moviescope").setLevel(settings.log_level.upper())
    app = FastAPI(title="moviescope", version="0.1.0", lifespan=lifespan,
                  description="Multimodal movie-genre classification (after Moviescope, arXiv 1908.03180): "
                              "POST a trailer, and optionally a poster, a plot and metadata, to /v1/predict.")
    app.state.settings, app.state.metrics = settings, Metrics()
    app.state.predictor, app.state.busy = None, 0
    _add_routes(app, settings)
    add_pages(app, api_dependencies=[KeyInDocs])
    # the last added runs first: metrics see every answer, the gate answers before the body is read
    app.add_middleware(RejectLargeBodies, max_bytes=settings.max_body_bytes, paths=[PREDICT, EXPLAIN])
    app.add_middleware(Gatekeeper, state=app.state, protected_prefix="/v1/", admitted_paths=[PREDICT, EXPLAIN])
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, routes=[r.path for r in app.routes])
    app.add_exception_handler(MediaError, _media_error)
    app.add_exception_handler(MetadataError, _unprocessable)
    app.add_exception_handler(GenreError, _unprocessable)
    app.add_exception_handler(Exception, _unexpected_error)
    return app


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    check_artifact_dir(settings.artifacts)
    if settings.tmp_dir is not None:
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_request_dirs(settings.tmp_dir)
    loading = asyncio.create_task(_load_models(app))
    try:
        yield
    finally:
        loading.cancel()


async def _load_models(app: FastAPI) -> None:
    from models.device import resolve_device

    settings: Settings = app.state.settings
    try:
        device = resolve_device(settings.device)
        load = partial(Predictor.from_dir, settings.artifacts, device=device, limits=settings.media_limits(),
                       max_poster_pixels=settings.max_poster_pixels)
        # abandoned when the server stops while loading: the event loop's close need not wait for the thread
        predictor = await anyio.to_thread.run_sync(load, abandon_on_cancel=True)
    except Exception as err:  # whatever broke, there is nothing to serve: stop
        # a user's mistake (ValueError: ArtifactError, wrong backbone weights, ...) needs no traceback
        log.critical("cannot load the models from %s: %s; shutting down", settings.artifacts, err,
                     exc_info=not isinstance(err, ValueError))
        signal.raise_signal(signal.SIGTERM)
        return
    app.state.metrics.model.info({"version": predictor.artifacts.version, "device": device})
    app.state.predictor = predictor
    log.info("model %s loaded on %s; ready", predictor.artifacts.version, device)


# ---- dependencies -----------------------------------------------------------------
# The Gatekeeper middleware checks the key, readiness and admission from the headers, before the
# body is read; the bearer scheme is declared here only so that /docs shows it.
bearer = HTTPBearer(auto_error=False, description="only when the server sets MOVIESCOPE_API_KEY")
KeyInDocs = Depends(bearer)


def loaded_predictor(request: Request) -> Predictor:
    return request.app.state.predictor  # the gate let the request through: the models are loaded


ReadyPredictor = Annotated[Predictor, Depends(loaded_predictor)]


# ---- routes ---------------------------------------------------------------------
def _add_routes(app: FastAPI, settings: Settings) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "models still loading"}})
    async def readyz(request: Request) -> JSONResponse:
        ready = request.app.state.predictor is not None
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/model", response_model=ModelInfo, dependencies=[KeyInDocs], tags=["model"],
             responses={k: ERROR_RESPONSES[k] for k in (401, 503)})
    async def model_info(predictor: ReadyPredictor) -> ModelInfo:
        return ModelInfo.from_artifacts(predictor.artifacts)

    @app.post(PREDICT, response_model=PredictResponse, dependencies=[KeyInDocs], tags=["model"],
              max_body_size=settings.max_body_bytes, responses=ERROR_RESPONSES)
    async def predict(request: Request, predictor: ReadyPredictor, trailer: TrailerFile, poster: PosterFile = None,
                      plot: PlotText = None, metadata: MetadataText = None) -> dict:
        """Genre scores for one trailer bundle; absent parts are left out of the fusion."""
        return await _answer(request, settings, predictor.predict, trailer, poster, plot, metadata)

    @app.post(EXPLAIN, response_model=ExplainResponse, response_model_exclude_unset=True, dependencies=[KeyInDocs],
              tags=["model"], max_body_size=settings.max_body_bytes, responses=ERROR_RESPONSES)
    async def explain_genres(request: Request, predictor: ReadyPredictor, trailer: TrailerFile,
                             poster: PosterFile = None, plot: PlotText = None, metadata: MetadataText = None,
                             genres: GenresText = None) -> dict:
        """Everything /v1/predict answers, plus why: each modality's share of the fused score, Grad-CAM
        heatmaps of key frames and of the poster, the plot's words, the metadata fields and the stretches
        of the soundtrack that push each explained genre."""
        chosen = parse_genres(genres)
        return await _answer(request, settings, lambda bundle: explain(predictor, bundle, chosen),
                             trailer, poster, plot, metadata)


async def _answer(request: Request, settings: Settings, run: Callable[[Bundle], dict], trailer: UploadFile,
                  poster: UploadFile | None, plot: str | None, metadata: str | None) -> dict:
    """Check the form's text fields, stage the files, then `run` on the bundle in a worker thread."""
    parsed = parse_metadata(metadata)
    if plot is not None and len(plot) > settings.max_plot_chars:
        raise HTTPException(422, f"plot: longer than {settings.max_plot_chars} characters")
    async with request_dir(settings.tmp_dir) as work:
        bundle = await _stage_bundle(settings, work, trailer, poster, plot, parsed)
        result = await run_in_threadpool(run, bundle)
    request.app.state.metrics.observe_timings(result["timings_ms"])
    return result


async def _stage_bundle(settings: Settings, work: Path, trailer: UploadFile, poster: UploadFile | None,
                        plot: str | None, metadata: Metadata | None) -> Bundle:
    trailer_path = await save_upload(trailer, work, "trailer", settings.max_trailer_mb)
    poster_path = None
    if poster is not None and poster.filename:  # a form's empty file input sends no filename
        poster_path = await save_upload(poster, work, "poster", settings.max_poster_mb)
    return Bundle(id="request", trailer=trailer_path, poster=poster_path, plot=plot or None,
                  metadata=metadata)


# ---- errors -----------------------------------------------------------------------
async def _media_error(request: Request, err: MediaError) -> JSONResponse:
    status = 415 if isinstance(err, UnsupportedMediaError) else 422
    return JSONResponse({"detail": str(err)}, status_code=status)


async def _unprocessable(request: Request, err: ValueError) -> JSONResponse:
    return JSONResponse({"detail": str(err)}, status_code=422)


async def _unexpected_error(request: Request, err: Exception) -> JSONResponse:
    # the server logs the traceback (Starlette re-raises after this response); the client gets no internals
    return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500)
