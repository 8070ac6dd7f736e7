"""Prometheus metrics of one app (own registry, so several apps in one process never clash)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("moviescope_requests_total", "HTTP requests by route and status",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("moviescope_request_seconds", "HTTP request latency by route", ["route"],
                                 buckets=STAGE_BUCKETS, registry=self.registry)
        self.stage = Histogram("moviescope_stage_seconds", "prediction latency per stage", ["stage"],
                               buckets=STAGE_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("moviescope_predictions_in_flight", "predictions being computed",
                               registry=self.registry)
        self.model = Info("moviescope_model", "the loaded model", registry=self.registry)

    def observe_timings(self, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stage.labels(stage=stage).observe(ms / 1000)
