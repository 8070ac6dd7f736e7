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
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from models.bundle import Bundle
from models.genres import UnknownGenreError
from models.media import MediaError, UnsupportedMediaError
from models.schema import MetadataError
from service.explain import explain, parse_genres
from service.gate import Gatekeeper
from service.limits import add_limits
from service.metrics import Metrics, MetricsMiddleware
from service.openapi import describe_file_fields
from service.pages import add_pages
from service.predictor import BundleError, Predictor, check_artifact_dir, parse_metadata
from service.schemas import ERROR_RESPONSES, ExplainResponse, ModelInfo, PredictResponse
from service.settings import Settings
from service.trust import TrustPolicy
from service.uploads import RejectLargeBodies, remove_stale_request_dirs, request_dir, save_upload

log = logging.getLogger("moviescope.service")
PREDICT, EXPLAIN, PREDICT_ALIAS = "/v1/predict", "/v1/explain", "/predict"
MAX_TITLE_CHARS = 500
METADATA_HELP = ('catalogue metadata, a JSON object of the fields the model reads (GET /v1/model lists them), '
                 'e.g. {"year": 2012, "runtime_min": 118, "content_rating": "PG-13"}; a wrong type or an '
                 "out-of-range value is a 422 naming the field, a field the model does not know is listed "
                 "in the answer's ignored_fields")
# the form fields of /v1/predict, which /v1/explain takes too; each part is optional, but a bundle needs one
# that the model reads (GET /v1/model: `reads`)
TrailerFile = Annotated[UploadFile | None, File(description="the trailer: MP4, MOV, MKV, WebM or AVI; its "
                                                            "soundtrack is the audio modality")]
PosterFile = Annotated[UploadFile | None, File(description="the poster: JPEG, PNG or WebP")]
PlotText = Annotated[str | None, Form(description="the plot summary, plain text")]
TitleText = Annotated[str | None, Form(description="the movie's title (text models may read it)")]
MetadataText = Annotated[str | None, Form(description=METADATA_HELP)]
GenresText = Annotated[str | None, Form(description="comma-separated genres to explain, e.g. 'Horror,Thriller' "
                                                    "(default: the 3 highest scores); an unknown name is a 422 "
                                                    "listing the model's genres")]


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
    add_limits(app, settings, api_dependencies=[KeyInDocs])
    describe_file_fields(app)
    # the last added runs first: metrics see every answer, the gate answers before the body is read
    app.add_middleware(RejectLargeBodies, max_bytes=settings.max_body_bytes, paths=[PREDICT, EXPLAIN, PREDICT_ALIAS])
    app.add_middleware(Gatekeeper, state=app.state, protected_prefixes=["/v1/", PREDICT_ALIAS],
                       admitted_paths=[PREDICT, EXPLAIN, PREDICT_ALIAS])
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, routes=[r.path for r in app.routes])
    app.add_exception_handler(MediaError, _media_error)
    for unprocessable in (MetadataError, UnknownGenreError, BundleError):
        app.add_exception_handler(unprocessable, _unprocessable)
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
                       max_poster_pixels=settings.max_poster_pixels, trust=TrustPolicy.from_settings(settings))
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

    async def predict(request: Request, predictor: ReadyPredictor, trailer: TrailerFile = None,
                      poster: PosterFile = None, plot: PlotText = None, title: TitleText = None,
                      metadata: MetadataText = None) -> dict:
        """Genre scores for one bundle (any of trailer, poster, plot, title, metadata); absent parts are left
        out of the fusion."""
        form = Form_(trailer, poster, plot, title, metadata)
        return await _answer(request, settings, predictor, predictor.predict, form)

    for path, summary in ((PREDICT, None), (PREDICT_ALIAS, f"Predict (the same as {PREDICT})")):
        app.post(path, response_model=PredictResponse, dependencies=[KeyInDocs], tags=["model"], summary=summary,
                 max_body_size=settings.max_body_bytes, responses=ERROR_RESPONSES)(predict)

    @app.post(EXPLAIN, response_model=ExplainResponse, response_model_exclude_unset=True, dependencies=[KeyInDocs],
              tags=["model"], max_body_size=settings.max_body_bytes, responses=ERROR_RESPONSES)
    async def explain_genres(request: Request, predictor: ReadyPredictor, trailer: TrailerFile = None,
                             poster: PosterFile = None, plot: PlotText = None, title: TitleText = None,
                             metadata: MetadataText = None, genres: GenresText = None) -> dict:
        """Everything /v1/predict answers, plus why: each modality's share of the fused score, Grad-CAM
        heatmaps of key frames and of the poster, the plot's words, the metadata fields and the stretches
        of the soundtrack that push each explained genre."""
        chosen = parse_genres(predictor, genres)
        form = Form_(trailer, poster, plot, title, metadata)
        return await _answer(request, settings, predictor, lambda bundle: explain(predictor, bundle, chosen), form)


@dataclass(frozen=True)
class Form_:
    """The bundle's form fields as received."""

    trailer: UploadFile | None
    poster: UploadFile | None
    plot: str | None
    title: str | None
    metadata: str | None


async def _answer(request: Request, settings: Settings, predictor: Predictor, run: Callable[[Bundle], dict],
                  form: Form_) -> dict:
    """Check the form's text fields, stage the files, then `run` on the bundle in a worker thread."""
    metadata = parse_metadata(form.metadata)
    predictor.read_metadata(metadata)  # a bad field is a 422 before the files are staged
    for name, value, limit in (("plot", form.plot, settings.max_plot_chars), ("title", form.title, MAX_TITLE_CHARS)):
        if value is not None and len(value) > limit:
            raise HTTPException(422, f"{name}: longer than {limit} characters")
    async with request_dir(settings.tmp_dir) as work:
        bundle = await _stage_bundle(settings, work, form, metadata)
        result = await run_in_threadpool(run, bundle)
    request.app.state.metrics.observe_timings(result["timings_ms"])
    return result


async def _stage_bundle(settings: Settings, work: Path, form: Form_, metadata: dict | None) -> Bundle:
    paths = {}
    for name, upload, limit in (("trailer", form.trailer, settings.max_trailer_mb),
                                ("poster", form.poster, settings.max_poster_mb)):
        if upload is not None and upload.filename:  # a form's empty file input sends no filename
            paths[name] = await save_upload(upload, work, name, limit)
    return Bundle(id="request", **paths, plot=form.plot or None, title=(form.title or "").strip() or None,
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
