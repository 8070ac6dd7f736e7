"""dataset.json: what a dataset says about itself, beside its movies.jsonl (optional).

    {"name": "movielens-imdb",                       shown in the model card
     "description": "4,965 real films: ...",        one line, shown in the model card and on the page
     "synthetic": false,
     "genres": ["Action", "Adventure", ...],        the label set, in order (default: those of the training split)
     "aliases": {"Science Fiction": "Sci-Fi"},      a name in movies.jsonl -> one of `genres`
     "licenses": [{"name": "...", "license": "...", "url": "..."}]}   the data's terms, for the model card

Every key is optional; an unknown key is an error that names it.
"""

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.genres import GenreSet
from models.validation import describe

INFO_FILE = "dataset.json"


class License(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    license: str = Field(max_length=500)
    url: str | None = Field(default=None, max_length=500)


class DatasetInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    synthetic: bool | None = None
    genres: list[str] | None = None
    aliases: dict[str, str] = Field(default_factory=dict)
    licenses: list[License] = Field(default_factory=list)

    @field_validator("genres")
    @classmethod
    def _valid_genre_list(cls, names: list[str] | None) -> list[str] | None:
        if names is not None:
            GenreSet(tuple(names))  # raises ValueError naming the problem
        return names

    @model_validator(mode="after")
    def _aliases_name_genres(self) -> "DatasetInfo":
        if self.genres is not None:
            unknown = sorted({target for target in self.aliases.values() if target not in self.genres})
            if unknown:
                raise ValueError(f"aliases point to genres that `genres` does not list: {unknown}")
        return self

    def genre_set(self) -> GenreSet | None:
        return GenreSet(tuple(self.genres)) if self.genres is not None else None

    def canonical(self, name: str) -> str:
        """A genre name of movies.jsonl as the dataset means it (its alias target, or itself)."""
        return self.aliases.get(name, name)


def read_info(root: Path) -> DatasetInfo:
    """The dataset's dataset.json (an empty DatasetInfo when there is none); ValueError naming the file."""
    path = Path(root) / INFO_FILE
    if not path.is_file():
        return DatasetInfo()
    try:
        return DatasetInfo.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: cannot read it: {err}") from None
    except ValidationError as err:
        raise ValueError(f"{path}: {describe(err)}") from None
