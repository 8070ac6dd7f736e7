"""All service settings, from MOVIESCOPE_* environment variables (command-line flags override)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.media import MediaLimits

MB = 1 << 20
# room in a request body for the plot, the metadata and the multipart framing
FORM_SLACK_MB = 1.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIESCOPE_", extra="ignore")

    artifacts: Path = Field(Path("artifacts"), description="trained artifact directory")
    host: str = Field("127.0.0.1", description="bind address; loopback unless told otherwise")
    port: int = Field(8000, ge=1, le=65535)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    api_key: str | None = Field(None, description="when set, /v1/* requires 'Authorization: Bearer <key>'")
    allow_anonymous: bool = Field(False, description="serve on a non-loopback address without an API key")
    max_trailer_mb: float = Field(300, gt=0)
    max_poster_mb: float = Field(20, gt=0)
    max_plot_chars: int = Field(20_000, gt=0)
    max_in_flight: int = Field(4, ge=0, description="requests to /v1/predict at once, uploads included; "
                                                     "more get 503 + Retry-After before their body is read")
    upload_timeout_s: float = Field(600, gt=0, description="time to send a whole request body (else 408)")
    max_duration_s: float = Field(4 * 3600, gt=0)
    max_width: int = Field(7680, gt=0)
    max_height: int = Field(4320, gt=0)
    max_poster_pixels: int = Field(40_000_000, gt=0)
    decode_timeout_s: float = Field(120, gt=0, description="per request: its probe and decodes share it")
    decode_memory_mb: int = Field(1024, ge=512, description="address space of each ffmpeg/ffprobe child")
    tmp_dir: Path | None = Field(None, description="where uploads are staged (default: the system temp dir)")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    ood_percentile: float = Field(99.0, gt=0, lt=100, description=(
        "a modality whose input is less typical than this percentile of in-distribution inputs is out of "
        "distribution (models/typicality.py)"))
    ood_policy: Literal["exclude", "keep"] = Field("exclude", description=(
        "exclude: a modality out of distribution is left out of the fusion; keep: it is fused anyway (both list it)"))

    @field_validator("log_level", "ood_policy", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def max_body_bytes(self) -> int:
        """The largest acceptable request body: both files at their limits plus the form fields."""
        return int((self.max_trailer_mb + self.max_poster_mb + FORM_SLACK_MB) * MB)

    def media_limits(self) -> MediaLimits:
        return MediaLimits(max_duration_s=self.max_duration_s, max_width=self.max_width,
                           max_height=self.max_height, timeout_s=self.decode_timeout_s,
                           max_memory_mb=self.decode_memory_mb)
