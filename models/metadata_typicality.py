"""Typicality of a film's catalogue facts for the metadata model: its numbers against the training films'.

The vector is the film's numeric fields as the model reads them (counts and money as log1p) and the year
of each date field; a field not given is NaN, which typicality counts as typical. Categories and lists are
left out: a director or keyword outside the vocabulary is the rule in a real catalogue, not a sign that the
film is unlike the others. Valid values far outside the training range (a runtime of 900 minutes, a year
of 1870 for a model of 1990s films) make the film atypical, and the reason names the field.
"""

from dataclasses import replace

import numpy as np

from models.schema import FieldSpec
from models.typicality import Judgement

RANGE_MARGIN = 0.1  # beyond the training range by more than this share of its width: out of distribution


class CatalogueTypicality:
    """Mixed into MetadataEncoder (it uses the encoder's schema_ and its own column layout)."""

    typicality_input = "film"
    typicality_describes = "the film's numeric and date fields (counts and money as log1p, dates as their year)"

    def typicality_vector(self, fields: dict) -> np.ndarray | None:
        columns = self._typicality_columns()
        if not columns:
            return None
        row = self._matrix([fields])[0]
        vector = row[[column for column, _ in columns]].astype(np.float64)
        return None if np.isnan(vector).all() else vector

    def judge(self, fields: dict, percentile: float) -> Judgement | None:
        """As any model's, and out of distribution too when a field lies beyond the training films' range by more
        than RANGE_MARGIN of its width: one far value (a year of 1870 for films from 1902 on) can leave the
        squared distance within the tail of real catalogues, whose other fields vary a lot."""
        judgement = super().judge(fields, percentile)
        if judgement is None or judgement.out_of_distribution:
            return judgement
        vector, t = self.typicality_vector(fields), self.typicality_
        span = t.high_ - t.low_
        with np.errstate(invalid="ignore"):
            beyond = np.nan_to_num(np.maximum(t.low_ - vector, vector - t.high_) - RANGE_MARGIN * span, nan=-1.0)
        if beyond.max() <= 0:
            return judgement
        dimension = int(np.argmax(beyond))
        return replace(judgement, out_of_distribution=True, dimension=dimension, value=float(vector[dimension]))

    def typicality_reason(self, judgement: Judgement) -> str:
        if judgement.dimension is None:
            return super().typicality_reason(judgement)
        spec = self._typicality_columns()[judgement.dimension][1]
        low, high = self.typicality_.low_[judgement.dimension], self.typicality_.high_[judgement.dimension]
        value, films = judgement.value, f"{self.typicality_.n_train_} training films"
        shown = f"{spec.name} = {_shown(spec, value)}"
        span = f"{_shown(spec, low)} to {_shown(spec, high)}"
        if low <= value <= high:
            return f"its catalogue facts are an unusual combination for the {films}; {shown} deviates most ({span})"
        return f"{shown} is far outside the range of the {films} ({span})"

    def _typicality_columns(self) -> list[tuple[int, FieldSpec]]:
        """(column of `_matrix`, field) of each numeric field and each date field's year, in schema order."""
        columns, start = [], 0
        for spec in self.schema_.fields:
            if spec.kind in ("number", "date"):
                columns.append((start, spec))  # a date's first column is its year (with its fraction)
            start += self._width(spec)
        return columns


def _shown(spec: FieldSpec, value: float) -> str:
    if np.isnan(value):
        return "not given"
    if spec.kind == "date":
        return f"year {int(np.floor(value))}"
    return f"{float(np.expm1(value) if spec.log_scale else value):g}"
