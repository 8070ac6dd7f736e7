"""`GET /v1/limits`: what this server accepts, so that a client can plan before it sends a body.

A batch client (`moviescope predict --server`) keeps at most `max_in_flight` requests going (more
only earn 503s) and skips a file over its upload limit instead of sending it to get a 413. Nothing
here is secret; the route sits under /v1/ like the rest of the API, so it needs the API key when
the server sets one, which lets a client check its key before it starts.
"""

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.params import Depends
from pydantic import BaseModel, Field

from service.schemas import ERROR_RESPONSES
from service.settings import Settings

LIMITS = "/v1/limits"


class ServerLimits(BaseModel):
    max_in_flight: int = Field(description="requests to /v1/predict and /v1/explain at once, uploads included; "
                                           "more get 503 + Retry-After")
    max_trailer_mb: float = Field(description="trailer upload limit (413 above it)")
    max_poster_mb: float = Field(description="poster upload limit (413 above it)")
    max_body_bytes: int = Field(description="the whole request body: both files at their limits and the form")
    max_plot_chars: int = Field(description="plot length limit (422 above it)")
    upload_timeout_s: float = Field(description="time to send a whole request body (408 after it)")
    max_duration_s: float = Field(description="trailer duration limit (422 above it)")
    max_width: int = Field(description="video frame width limit (422 above it)")
    max_height: int = Field(description="video frame height limit (422 above it)")
    max_poster_pixels: int = Field(description="poster width x height limit (422 above it)")

    @classmethod
    def from_settings(cls, settings: Settings) -> "ServerLimits":
        values = {name: getattr(settings, name) for name in cls.model_fields}
        return cls(**values)


def add_limits(app: FastAPI, settings: Settings, api_dependencies: Sequence[Depends] = ()) -> None:
    limits = ServerLimits.from_settings(settings)

    @app.get(LIMITS, response_model=ServerLimits, dependencies=list(api_dependencies), tags=["model"],
             responses={k: ERROR_RESPONSES[k] for k in (401, 503)})
    async def server_limits() -> ServerLimits:
        """This server's limits on requests and uploads (its MOVIESCOPE_* settings)."""
        return limits
