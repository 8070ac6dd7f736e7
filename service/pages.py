"""The pages for people: the upload page at `/`, the model card at `/model`, and their files.

The pages are static; their script calls the public API like any client. Two API routes
serve the model card's extra facts: `/v1/model/card` and the report's plots by fixed name.
"""

from enum import Enum
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from models.artifacts import Artifacts
from service.card import PLOTS, REPORT_DIR, model_card

STATIC = Path(__file__).parent / "static"
# the pages load only their own files; data: and blob: carry the explanation overlays and the plots
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

Plot = Enum("Plot", {name.split(".")[0]: name for name in PLOTS}, type=str)


def add_pages(app: FastAPI, *, api_dependencies: list) -> None:
    """The pages, their static files, and the model card's API routes (behind `api_dependencies`)."""

    @app.get("/", include_in_schema=False)
    async def upload_page() -> FileResponse:
        return _page("index.html")

    @app.get("/model", include_in_schema=False)
    async def model_card_page() -> FileResponse:
        return _page("model.html")

    @app.get("/v1/model/card", dependencies=api_dependencies, tags=["model"],
             responses={503: {"description": "models still loading"}})
    async def card(request: Request) -> dict:
        """The model card: training data (and whether it is the synthetic benchmark), the serving
        models with their backbones, package versions and the loaded artifact's evaluation report."""
        return model_card(_artifacts(request), request.app.state.predictor.trust)

    @app.get("/v1/model/report/{plot}", dependencies=api_dependencies, tags=["model"],
             response_class=FileResponse, responses={404: {"description": "the artifact has no such plot"}})
    async def report_plot(request: Request, plot: Plot) -> FileResponse:
        """A plot of the loaded artifact's evaluation report, by its fixed name."""
        path = _artifacts(request).root / REPORT_DIR / plot.value
        if not path.is_file():
            raise HTTPException(404, f"this model's report has no {plot.value}")
        return FileResponse(path, media_type="image/png")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html", headers=PAGE_HEADERS)


def _artifacts(request: Request) -> Artifacts:
    predictor = request.app.state.predictor
    if predictor is None:
        raise HTTPException(503, "models are still loading", headers={"Retry-After": "5"})
    return predictor.artifacts
