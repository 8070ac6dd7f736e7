"""Prometheus metrics of one app (its own registry, so several apps in one process never clash)."""

import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("moviescope_requests_total", "HTTP requests by route and status",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("moviescope_request_seconds", "HTTP request latency by route", ["route"],
                                 buckets=STAGE_BUCKETS, registry=self.registry)
        self.stage = Histogram("moviescope_stage_seconds",
                               "prediction latency per stage (decode, each modality, fusion, total)",
                               ["stage"], buckets=STAGE_BUCKETS, registry=self.registry)
        self.requests_in_flight = Gauge("moviescope_requests_in_flight", "HTTP requests being served",
                                        registry=self.registry)
        self.predictions_in_flight = Gauge("moviescope_predictions_in_flight",
                                           "requests to /v1/predict or /v1/explain admitted and not answered (uploading or predicting)", registry=self.registry)
        self.model = Info("moviescope_model", "the loaded model", registry=self.registry)

    def observe_timings(self, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stage.labels(stage=stage).observe(ms / 1000)


class MetricsMiddleware:
    """ASGI middleware counting every response by route and status, with its latency.

    Routes are labelled by path only when the path is one of the app's routes, so stray
    URLs cannot grow the label set.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Iterable[str]):
        self.app = app
        self.metrics = metrics
        self.routes = frozenset(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.routes else "other"
        status = 500  # what the client sees if the app raises before answering
        start = time.perf_counter()

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.requests_in_flight.inc()
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.metrics.requests_in_flight.dec()
            self.metrics.requests.labels(route=route, status=str(status)).inc()
            self.metrics.latency.labels(route=route).observe(time.perf_counter() - start)
