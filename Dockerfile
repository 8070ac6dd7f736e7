# moviescope: GPU-capable image (PyTorch's CUDA wheels bundle CUDA; the NVIDIA Container
# Toolkit supplies the driver). Without a GPU the same image runs on the CPU.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MOVIESCOPE_HOST=0.0.0.0 \
    MOVIESCOPE_PORT=8000 \
    MOVIESCOPE_ARTIFACTS=/artifacts/model \
    TORCH_HOME=/home/app/.cache/torch

# ffmpeg/ffprobe are the only decoders; versions follow the pinned Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Optional extras, comma-separated: `--build-arg EXTRAS=ray` adds the Ray engine (compose's ray profile).
ARG EXTRAS=""

# Dependencies first (from pyproject.toml alone), so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import os, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extras = [e for e in os.environ['EXTRAS'].split(',') if e]; \
print('\n'.join(p['dependencies'] + [d for e in extras for d in p['optional-dependencies'][e]]))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY models ./models
COPY training ./training
COPY service ./service
RUN pip install --no-deps . \
    && useradd --create-home --uid 1000 app \
    && mkdir -p /artifacts /data /home/app/.cache/torch \
    && chown -R app:app /artifacts /data /home/app/.cache

USER 1000:1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
# Serving on 0.0.0.0 needs MOVIESCOPE_API_KEY (or MOVIESCOPE_ALLOW_ANONYMOUS=1): without one it refuses to start.
CMD ["moviescope", "serve", "--host", "0.0.0.0", "--port", "8000"]
