"""The trailer bundle: what one movie brings. Any part may be absent."""

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# Finite bounds on every number, far above any real movie's: a value past them is a 422 naming the
# field, never an overflow (a 401-digit count) or an infinity (1e400) inside an encoder.
MAX_COUNT = 10**12  # votes, reviews, likes
MAX_USD = 1e13  # budget, gross
Count = Field(default=None, ge=0, le=MAX_COUNT)
Money = Field(default=None, ge=0, le=MAX_USD)


class Metadata(BaseModel):
    """Catalogue fields of a movie (IMDB-5000 style). Unknown keys are ignored, wrong types rejected."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    year: int | None = Field(default=None, ge=1870, le=2100)
    runtime_min: float | None = Field(default=None, ge=0, le=1000)
    budget_usd: float | None = Money
    gross_usd: float | None = Money
    content_rating: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=64)
    imdb_score: float | None = Field(default=None, ge=0, le=10)
    num_voted_users: int | None = Count
    num_critic_for_reviews: int | None = Count
    num_user_for_reviews: int | None = Count
    movie_facebook_likes: int | None = Count
    director_facebook_likes: int | None = Count
    actor_1_facebook_likes: int | None = Count
    actor_2_facebook_likes: int | None = Count
    actor_3_facebook_likes: int | None = Count
    facenumber_in_poster: int | None = Field(default=None, ge=0, le=10_000)


@dataclass(frozen=True)
class Bundle:
    """One movie's inputs. Paths are absolute (or relative to the working directory)."""

    id: str
    trailer: Path | None = None
    poster: Path | None = None
    plot: str | None = None
    metadata: Metadata | None = None

    def present(self) -> list[str]:
        """The parts this bundle carries, by field name."""
        parts = {"trailer": self.trailer, "poster": self.poster, "plot": self.plot, "metadata": self.metadata}
        return [name for name, value in parts.items() if value not in (None, "")]
