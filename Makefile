# The two commands a newcomer needs: `make demo` (main job) and `make test`.
.PHONY: demo test setup setup-dev lint bench

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

demo: setup
	.venv/bin/moviescope demo --workdir runs/demo

test: setup-dev
	.venv/bin/python -m pytest

lint: setup-dev
	.venv/bin/ruff check models training service tests benchmarks

bench: setup-dev
	.venv/bin/python -m benchmarks.run
