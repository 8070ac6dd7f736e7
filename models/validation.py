"""Pydantic validation errors as one line a user can act on."""

from pydantic import ValidationError


def describe(err: ValidationError, prefix: str = "") -> str:
    """'models.video.params: Input should be an object; seed: ...', each problem named by its key path."""
    problems = []
    for error in err.errors():
        where = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
