"""The HTTP layer (FastAPI) and the `moviescope` command line."""
