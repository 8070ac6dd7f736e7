"""The Python side of benchmarks/gpu.sh (standard library and pip only: it runs before anything is installed).

    gpu_env.py requirements          # here: the runtime dependencies of moviescope in this venv, name==version
    gpu_env.py install --wheels .gpu --target DIR [--all]
                                     # there: pip-install the carried wheels this Python lacks (--all: every
                                     # one), then check that every runtime dependency can be found
"""

import argparse
import importlib.metadata as md
import re
import subprocess
import sys
from pathlib import Path

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.tags import sys_tags
from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

NOT_CARRIED = re.compile(r"^(torch|torchvision|torchaudio|triton|nvidia-.*|cuda-.*)$")
SAME_MODULE = {"xgboost-cpu": "xgboost"}  # a carried distribution -> the one whose module it provides


def requirements() -> dict[str, str]:
    """moviescope's runtime closure in this environment (extras left out), without the torch stack."""
    found: dict[str, str] = {}

    def walk(name: str, extras: frozenset[str]) -> None:
        name = canonicalize_name(name)
        if name in found or NOT_CARRIED.match(name):
            return
        try:
            found[name] = md.version(name)
        except md.PackageNotFoundError:  # not needed here (a marker for another platform, say)
            return
        for line in md.requires(name) or []:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in {"", *extras}):
                walk(req.name, frozenset(req.extras))

    for line in md.requires("moviescope") or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            walk(req.name, frozenset(req.extras))
    return dict(sorted(found.items()))


def install(wheel_root: Path, target: Path, every: bool) -> None:
    wheels = sorted(wheel_root.glob("carry-*/wheels/*.whl"))
    tags = set(sys_tags())
    chosen = {}
    for wheel in wheels:
        name, _, _, wheel_tags = parse_wheel_filename(wheel.name)
        if wheel_tags & tags and (every or not _installed(SAME_MODULE.get(name, name))):
            chosen.setdefault(name, wheel)
    if chosen:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                        "--upgrade", "--target", str(target), *map(str, chosen.values())], check=True)
    print(f"gpu_env: {len(chosen)} wheels installed into {target}: {', '.join(sorted(chosen)) or 'none'}")
    _check(wheel_root, target)


def _installed(name: str, paths: list[str] | None = None) -> bool:
    return any(True for _ in md.distributions(name=name, path=paths or sys.path))


def _check(wheel_root: Path, target: Path) -> None:
    needed = next(wheel_root.glob("carry-*/wheels/all-requirements.txt")).read_text().split()
    paths = [str(target), *sys.path]
    missing = [line for line in needed if not _installed(_carried_as(line.split("==")[0]), paths)
               and not _installed(line.split("==")[0], paths)]
    if missing:
        sys.exit(f"gpu_env: neither on this machine nor carried: {', '.join(missing)} (prepare again with them "
                 "left out of MOVIESCOPE_GPU_ASSUMED)")
    torch = md.version("torch") if _installed("torch") else None
    if torch is None:
        sys.exit("gpu_env: no torch on this machine; install PyTorch first (it is not carried)")
    print(f"gpu_env: every runtime dependency found; torch {torch} is this machine's")


def _carried_as(name: str) -> str:
    return next((carried for carried, module in SAME_MODULE.items() if module == name), name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("requirements")
    inst = sub.add_parser("install")
    inst.add_argument("--wheels", type=Path, required=True, help="the folder holding the carry-N folders")
    inst.add_argument("--target", type=Path, required=True)
    inst.add_argument("--all", action="store_true", help="install every carried wheel, even if already there")
    args = parser.parse_args()
    if args.command == "requirements":
        print("\n".join(f"{n}=={v}" for n, v in requirements().items()))
    else:
        install(args.wheels, args.target, args.all)


if __name__ == "__main__":
    main()
