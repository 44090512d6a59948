"""The API server's Prometheus metrics, on a registry of its own (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class ApiServerMetrics:
    """Request counts and latencies by verb, resource and code; watchers; store revision."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "apiserver_request_total",
            "API requests by verb, resource and HTTP code.",
            ("verb", "resource", "code"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "apiserver_request_duration_seconds",
            "API request latency (time to the first byte of the response) by verb and resource.",
            ("verb", "resource"),
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.watchers = Gauge("apiserver_registered_watchers", "Open watch streams.", registry=self.registry)
        self.revision = Gauge(
            "apiserver_storage_revision", "The store's current revision.", registry=self.registry
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, verb: str, resource: str, code: int, seconds: float) -> None:
        """Count one request and its latency; label children are cached (labels() is slow)."""
        key = (verb, resource, code)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(verb, resource, str(code)), self.latency.labels(verb, resource))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
