"""Property-based runs, offline and in process: no input to a documented endpoint gives a 5xx, and no
metadata object reaches the encoders unless every number in it is finite and bounded."""

import json
import math
from contextlib import asynccontextmanager

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.bundle import Bundle
from models.schema import IMDB_FIELDS
from service.app import create_app
from service.predictor import MetadataError, Predictor, parse_metadata
from service.settings import Settings

FIELDS = sorted(IMDB_FIELDS)


@asynccontextmanager
async def no_lifespan(app):
    yield


@pytest.fixture(scope="module")
def predictor(tiny_artifacts) -> Predictor:
    return Predictor.from_dir(tiny_artifacts, device="cpu", warm_up=False)


@pytest.fixture(scope="module")
def api_schema(predictor, tiny_artifacts, tmp_path_factory):
    uploads = tmp_path_factory.mktemp("fuzz-uploads")
    app = create_app(Settings(artifacts=tiny_artifacts, tmp_dir=uploads, max_trailer_mb=1, max_poster_mb=0.5))
    app.state.predictor = predictor
    app.router.lifespan_context = no_lifespan  # schemathesis enters the lifespan on every call: no model loads
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.slow
def test_no_documented_endpoint_answers_5xx(api_schema):
    """Generated from /openapi.json: every operation, valid and invalid forms, random file bytes."""
    seen: set[str] = set()

    @given(case=api_schema.as_strategy())
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def call(case):
        response = case.call()
        seen.add(f"{case.method} {case.path}")
        assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"

    call()
    assert "POST /v1/predict" in seen and "GET /v1/model" in seen


JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.text(max_size=80),
    st.integers(), st.integers(min_value=10**15, max_value=10**400), st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=1e13, max_value=1e308),
    st.lists(st.integers(), max_size=3),
)
METADATA = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), JSON_VALUES, max_size=8)


@given(METADATA)
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_metadata_is_refused_or_finite_and_scores_finite(predictor, raw):
    try:  # NaN and Infinity as JSON allows them to be written
        metadata, ignored = predictor.read_metadata(parse_metadata(json.dumps(raw)))
    except MetadataError as err:
        assert str(err).startswith("metadata")
        return
    assert set(metadata or {}) | set(ignored) == {k for k, v in raw.items() if k in ignored or v is not None}
    numbers = [v for v in (metadata or {}).values() if isinstance(v, int | float) and not isinstance(v, bool)]
    assert all(math.isfinite(float(v)) for v in numbers)
    if metadata is None:
        return  # nothing the model reads: a 422 (tested elsewhere)
    result = predictor.predict(Bundle(id="fuzz", metadata=raw))
    assert all(0 <= g["score"] <= 1 for g in result["genres"])
