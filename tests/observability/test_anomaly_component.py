"""End to end: metric samples from a Prometheus endpoint -> a real API server -> `AnomalyDetected` Events.

A real `ApiServer` listens on a free port and the component talks to it over HTTP with the project's
client; the scraped endpoint is served by an httpx mock transport whose exposition the test scripts
poll by poll. Time is a `FakeClock` advanced 15 s per poll, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from kubelite.api.resources import EVENTS, NAMESPACES
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, HttpTransport
from kubelite.clock import FakeClock
from kubelite.observability.anomaly.detector import Detector
from kubelite.observability.anomaly_component import REASON, AnomalyDetectorComponent, AnomalyDetectorSettings
from kubelite.store import MemoryStore

SCRAPE_URL = "http://workload.test/metrics"
PATTERN = [10.0, 12.0, 15.0, 12.0, 10.0, 8.0, 5.0, 8.0]
CALM_POLLS = 400
JUMP_POLLS = 30


def _series(poll: int) -> float:
    """A repeating pattern, then a sustained jump far above anything seen before."""
    return PATTERN[poll % len(PATTERN)] + (100.0 if poll >= CALM_POLLS else 0.0)


class JumpDetector:
    """Scores 1 for every value above 50, so each poll after the jump is a crossing."""

    def update(self, timestamp: float, value: float) -> float:
        return 1.0 if value > 50.0 else 0.0


async def _run_polls(
    exposition: Callable[[float], str], detector_factory: Callable[[], Detector] | None = None
) -> tuple[list[dict[str, Any]], CollectorRegistry]:
    server = ApiServer(MemoryStore(), ApiServerSettings(port=0))
    await server.start()
    poll = 0

    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=exposition(_series(poll)))

    client = ApiClient(HttpTransport(server.url))
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    registry = CollectorRegistry()
    clock = FakeClock()
    scraper = httpx.AsyncClient(transport=httpx.MockTransport(serve))
    component = AnomalyDetectorComponent(
        client,
        registry,
        clock,
        AnomalyDetectorSettings(read_metrics_api=False, scrape_urls=(SCRAPE_URL,)),
        http=scraper,
        detector_factory=detector_factory,
    )
    try:
        for poll in range(CALM_POLLS + JUMP_POLLS):  # noqa: B007 - `serve` reads the current poll
            clock.advance(15)
            report = await component.poll_once()
            assert report.source_errors == [] and report.event_errors == []
            assert report.samples == 1
        events, _ = await client.list_all(EVENTS, all_namespaces=True)
    finally:
        await component.close()
        await scraper.aclose()
        await client.close()
        await server.stop()
    return [event for event in events if event.get("reason") == REASON], registry


def test_a_pod_memory_jump_raises_one_event_on_the_pod() -> None:
    events, registry = asyncio.run(
        _run_polls(lambda value: f'container_memory_mib{{pod="web-1",namespace="shop"}} {value}\n')
    )
    assert len(events) == 1
    event = events[0]
    assert event["metadata"]["namespace"] == "shop"
    assert event["involvedObject"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": "web-1",
        "namespace": "shop",
    }
    assert event["type"] == "Warning"
    assert event["count"] == 1
    score = registry.get_sample_value(
        "kubelite_anomaly_score",
        {
            "series": "pod/shop/web-1/container_memory_mib",
            "object_kind": "Pod",
            "namespace": "shop",
            "name": "web-1",
        },
    )
    assert score is not None and 0.0 <= score <= 1.0


def test_repeated_crossings_raise_the_count_of_one_node_event() -> None:
    # Every poll after the jump crosses the threshold, all inside one quiet period: one Event whose
    # count tracks the crossings.
    events, _ = asyncio.run(
        _run_polls(lambda value: f'node_cpu_busy{{node="node-a"}} {value}\n', JumpDetector)
    )
    assert len(events) == 1
    event = events[0]
    assert event["metadata"]["namespace"] == "default"
    assert event["involvedObject"] == {"apiVersion": "v1", "kind": "Node", "name": "node-a"}
    assert event["count"] == JUMP_POLLS
    assert event["lastTimestamp"] > event["firstTimestamp"]


def test_an_unreachable_metrics_api_is_reported_not_raised() -> None:
    async def scenario() -> list[str]:
        with socket.socket() as probe:  # a port with nothing listening
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = ApiClient(HttpTransport(f"http://127.0.0.1:{port}"))
        component = AnomalyDetectorComponent(
            client, CollectorRegistry(), FakeClock(), AnomalyDetectorSettings(read_metrics_api=True)
        )
        try:
            return (await component.poll_once()).source_errors
        finally:
            await component.close()
            await client.close()

    errors = asyncio.run(scenario())
    assert len(errors) == 1 and errors[0].startswith("metrics.k8s.io")
