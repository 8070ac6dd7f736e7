"""The trailer bundle: what one movie brings. Any part may be absent."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARTS = ("trailer", "poster", "plot", "title", "metadata")


@dataclass(frozen=True)
class Bundle:
    """One movie's inputs. Paths are absolute (or relative to the working directory); `metadata` holds
    catalogue fields already checked against a schema (models.schema)."""

    id: str
    trailer: Path | None = None
    poster: Path | None = None
    plot: str | None = None
    metadata: Mapping[str, Any] | None = None
    title: str | None = None

    def present(self) -> list[str]:
        """The parts this bundle carries, by field name."""
        return [name for name in PARTS if getattr(self, name) not in (None, "", {})]
