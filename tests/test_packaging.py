"""pyproject.toml's pins allow only versions with what the code uses."""

import inspect
import tomllib
from importlib import metadata
from pathlib import Path

from fastapi import FastAPI
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
FASTAPI_WITHOUT_ROUTE_BODY_LIMIT = "0.163.2"  # the last release before `max_body_size` on routes (0.164.0)


def requirement(name: str) -> Requirement:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(r for r in map(Requirement, dependencies) if r.name == name)


def test_fastapi_pin_excludes_versions_without_route_body_limits():
    pin = requirement("fastapi").specifier
    assert not pin.contains(FASTAPI_WITHOUT_ROUTE_BODY_LIMIT)
    assert not any(pin.contains(f"0.{minor}.0") for minor in range(110, 164))
    installed = metadata.version("fastapi")
    assert pin.contains(installed) and Version(installed) >= Version("0.164.0")
    assert "max_body_size" in inspect.signature(FastAPI.post).parameters
