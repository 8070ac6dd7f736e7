"""The trailer bundle: what one movie brings. Any part may be absent."""

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

NonNegInt = Field(default=None, ge=0)


class Metadata(BaseModel):
    """Catalogue fields of a movie (IMDB-5000 style). Unknown keys are ignored, wrong types rejected."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    year: int | None = Field(default=None, ge=1870, le=2100)
    runtime_min: float | None = Field(default=None, ge=0, le=1000)
    budget_usd: float | None = Field(default=None, ge=0)
    gross_usd: float | None = Field(default=None, ge=0)
    content_rating: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=64)
    imdb_score: float | None = Field(default=None, ge=0, le=10)
    num_voted_users: int | None = NonNegInt
    num_critic_for_reviews: int | None = NonNegInt
    num_user_for_reviews: int | None = NonNegInt
    movie_facebook_likes: int | None = NonNegInt
    director_facebook_likes: int | None = NonNegInt
    actor_1_facebook_likes: int | None = NonNegInt
    actor_2_facebook_likes: int | None = NonNegInt
    actor_3_facebook_likes: int | None = NonNegInt
    facenumber_in_poster: int | None = NonNegInt


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
