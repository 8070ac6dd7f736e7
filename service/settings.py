"""All service settings, from MOVIESCOPE_* environment variables (command-line flags override)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.media import MediaLimits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIESCOPE_", extra="ignore")

    artifacts: Path = Field(Path("artifacts"), description="trained artifact directory")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    device: str = Field("auto", pattern="^(auto|cpu|cuda)$")
    api_key: str | None = Field(None, description="when set, /v1/* requires 'Authorization: Bearer <key>'")
    max_trailer_mb: float = Field(300, gt=0)
    max_poster_mb: float = Field(20, gt=0)
    max_plot_chars: int = Field(20_000, gt=0)
    max_in_flight: int = Field(4, ge=0, description="requests being predicted at once; more get 503")
    max_duration_s: float = Field(4 * 3600, gt=0)
    max_width: int = Field(7680, gt=0)
    max_height: int = Field(4320, gt=0)
    max_poster_pixels: int = Field(40_000_000, gt=0)
    decode_timeout_s: float = Field(120, gt=0)
    tmp_dir: Path | None = Field(None, description="where uploads are staged (default: the system temp dir)")
    log_level: str = "info"

    def media_limits(self) -> MediaLimits:
        return MediaLimits(max_duration_s=self.max_duration_s, max_width=self.max_width,
                           max_height=self.max_height, timeout_s=self.decode_timeout_s)
