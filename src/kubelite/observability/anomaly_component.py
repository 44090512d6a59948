"""The in-cluster anomaly detector: metric samples in, `kubelite_anomaly_score` gauges and Events out.

Data flow of one `poll_once`:
1. read node and pod CPU and memory from `metrics.k8s.io/v1beta1` through the API client, and every
   series of each Prometheus endpoint it is pointed at (`metric_sources`);
2. feed each sample to its series' detector in the pure `AnomalyMonitor`, and set
   `kubelite_anomaly_score{series,object_kind,namespace,name}` on the registry passed in;
3. for each alert on a Node or Pod, create a `core/v1` Event (reason `AnomalyDetected`, type
   Warning, involvedObject the Node or Pod) or, while the episode lasts, patch that Event's `count`
   and `lastTimestamp`, as the Kubernetes event correlator does for repeats.

Node Events go to the `default` namespace, as the kubelet's do. A source that fails (the metrics API
not served yet, a scrape target down) is reported in the `PollReport` and skipped for that round.
`run` repeats `poll_once` every `interval_seconds` on the injected Clock until stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from prometheus_client import CollectorRegistry, Gauge

from kubelite.api.resources import EVENTS
from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.clock import Clock
from kubelite.observability.anomaly.detector import Detector
from kubelite.observability.anomaly.monitor import (
    Alert,
    AnomalyMonitor,
    MetricSample,
    MonitorSettings,
    SeriesKey,
)
from kubelite.observability.metric_sources import fetch_metrics_api, scrape_prometheus

REASON = "AnomalyDetected"
COMPONENT = "kubelite-anomaly-detector"
NODE_EVENT_NAMESPACE = "default"


@dataclass(frozen=True)
class AnomalyDetectorSettings:
    """What the component reads and how often."""

    interval_seconds: float = 15.0
    """Seconds between polls (metrics-server refreshes every 15 s by default)."""
    read_metrics_api: bool = True
    """Whether to read node and pod usage from `metrics.k8s.io/v1beta1`."""
    scrape_urls: tuple[str, ...] = ()
    """Prometheus text endpoints to scrape each round."""
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    """Detector kind, threshold and de-duplication window."""


@dataclass
class PollReport:
    """What one round did: samples scored, Events created or updated, sources that failed."""

    samples: int = 0
    events_created: int = 0
    events_updated: int = 0
    source_errors: list[str] = field(default_factory=list)
    event_errors: list[str] = field(default_factory=list)


def _rfc3339(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_for(alert: Alert) -> dict[str, object]:
    """The `core/v1` Event that first reports an anomaly episode of a Node or Pod."""
    key = alert.key
    namespace = key.namespace if key.object_kind == "Pod" else NODE_EVENT_NAMESPACE
    involved: dict[str, str] = {"apiVersion": "v1", "kind": key.object_kind, "name": key.name}
    if key.object_kind == "Pod":
        involved["namespace"] = key.namespace
    # Kubernetes names Events `<object>.<hex nanoseconds>`, unique per object and moment.
    name = f"{key.name}.{int(alert.first_seen * 1e9):x}"
    stamp = _rfc3339(alert.last_seen)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": involved,
        "reason": REASON,
        "message": _message(alert),
        "type": "Warning",
        "count": alert.count,
        "firstTimestamp": _rfc3339(alert.first_seen),
        "lastTimestamp": stamp,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
    }


def _message(alert: Alert) -> str:
    return f"anomalous {alert.key.metric}: value {alert.value:g}, anomaly score {alert.score:.3f}"


class AnomalyDetectorComponent:
    """Polls metric sources, scores every series online and raises `AnomalyDetected` Events."""

    def __init__(
        self,
        client: ApiClient,
        registry: CollectorRegistry,
        clock: Clock,
        settings: AnomalyDetectorSettings = AnomalyDetectorSettings(),
        http: httpx.AsyncClient | None = None,
        detector_factory: Callable[[], Detector] | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._settings = settings
        self._http = http or httpx.AsyncClient(timeout=10.0)
        self._owns_http = http is None
        self.monitor = AnomalyMonitor(clock, settings.monitor, detector_factory)
        self._gauge = Gauge(
            "kubelite_anomaly_score",
            "Online anomaly score in [0, 1] of each watched series.",
            ["series", "object_kind", "namespace", "name"],
            registry=registry,
        )
        # The Event of each series' current episode, so repeats patch it instead of adding one.
        self._event_names: dict[SeriesKey, tuple[str, str]] = {}

    async def _collect(self, report: PollReport) -> list[MetricSample]:
        now = self._clock.now()
        samples: list[MetricSample] = []
        if self._settings.read_metrics_api:
            try:
                samples += await fetch_metrics_api(self._client, now)
            except (ApiError, TransportError) as error:
                report.source_errors.append(f"metrics.k8s.io: {error}")
        for url in self._settings.scrape_urls:
            try:
                samples += await scrape_prometheus(self._http, url, now)
            except (httpx.HTTPError, ValueError) as error:
                report.source_errors.append(f"{url}: {error}")
        return samples

    async def poll_once(self) -> PollReport:
        """One round: collect, score, export gauges, write Events."""
        report = PollReport()
        for sample in await self._collect(report):
            observation = self.monitor.observe(sample)
            if observation is None:
                continue
            report.samples += 1
            key = sample.key
            self._gauge.labels(key.series, key.object_kind, key.namespace, key.name).set(observation.score)
            if observation.alert is not None and key.object_kind:
                await self._write_event(observation.alert, report)
        for key in self.monitor.forget_stale():
            self._event_names.pop(key, None)
            self._gauge.remove(key.series, key.object_kind, key.namespace, key.name)
        return report

    async def _write_event(self, alert: Alert, report: PollReport) -> None:
        known = self._event_names.get(alert.key)
        if alert.action == "increment" and known is not None:
            namespace, name = known
            patch = {
                "count": alert.count,
                "lastTimestamp": _rfc3339(alert.last_seen),
                "message": _message(alert),
            }
            try:
                await self._client.patch(EVENTS, name, patch, namespace)
                report.events_updated += 1
                return
            except ApiError as error:
                if error.code != 404:
                    report.event_errors.append(f"{alert.key.series}: {error}")
                    return
                # The Event was deleted (TTL or by hand): raise a fresh one below.
        try:
            created = await self._client.create(EVENTS, event_for(alert))
        except (ApiError, TransportError) as error:
            # A namespace being deleted or a forbidden write must not stop the other series.
            report.event_errors.append(f"{alert.key.series}: {error}")
            return
        metadata = created.get("metadata") or {}
        self._event_names[alert.key] = (str(metadata.get("namespace")), str(metadata.get("name")))
        report.events_created += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every `interval_seconds` until `stop` is set."""
        while not stop.is_set():
            await self.poll_once()
            await self._clock.sleep(self._settings.interval_seconds)

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()
