"""Where the HPA controller reads its metrics: the resource, custom and external metrics APIs.

`MetricsClient` is the seam: one method per metric source, each returning an observation value
(`PodMetrics`, `ObjectMetricValue`, `ExternalMetricValues`) or `MetricFetchFailed`, never raising
for an unavailable API. `ApiMetricsClient` is the real one; it does raw GETs through the API
client's transport, since these groups are aggregated APIs, not served kinds:
- `metrics.k8s.io/v1beta1` PodMetrics (what metrics-server, or the kubelite agent, serves), summed
  per pod over all containers (Resource) or one container (ContainerResource);
- `custom.metrics.k8s.io/v1beta2` for Pods metrics (`pods/*/{metric}`) and Object metrics
  (`{resource}/{name}/{metric}`);
- `external.metrics.k8s.io/v1beta1` for External metrics.
Quantities are parsed once, into milli-units, with `kubelite.api.quantity`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote

from kubelite.api.labels import format_label_selector
from kubelite.api.quantity import QuantityError, parse_milli
from kubelite.autoscaling.hpa.observations import (
    ExternalMetricValues,
    MetricFetchFailed,
    ObjectMetricValue,
    PodMetrics,
    PodMetricSample,
)
from kubelite.autoscaling.objects import parse_time
from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.client.core import HttpRequest, parse

RESOURCE_METRICS = "/apis/metrics.k8s.io/v1beta1"
CUSTOM_METRICS = "/apis/custom.metrics.k8s.io/v1beta2"
EXTERNAL_METRICS = "/apis/external.metrics.k8s.io/v1beta1"
DEFAULT_WINDOW_SECONDS = 15.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class MetricsClient(Protocol):
    """The metrics an HPA can scale on, for one namespace and selector."""

    async def pod_resource(
        self, namespace: str, selector: str, resource: str, container: str | None, now: float
    ) -> PodMetrics | MetricFetchFailed: ...

    async def pods_metric(
        self, namespace: str, selector: str, metric: str, metric_selector: str, now: float
    ) -> PodMetrics | MetricFetchFailed: ...

    async def object_metric(
        self, namespace: str, described: Mapping[str, Any], metric: str, metric_selector: str, now: float
    ) -> ObjectMetricValue | MetricFetchFailed: ...

    async def external_metric(
        self, namespace: str, metric: str, metric_selector: str, now: float
    ) -> ExternalMetricValues | MetricFetchFailed: ...


def parse_duration(text: object) -> float:
    """A Go duration such as "15s" or "1m30s", in seconds (the default window when unreadable)."""
    if not isinstance(text, str) or not text:
        return DEFAULT_WINDOW_SECONDS
    parts = _DURATION.findall(text)
    if not parts:
        return DEFAULT_WINDOW_SECONDS
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def pod_resource_samples(
    listing: Mapping[str, Any], resource: str, container: str | None, now: float
) -> PodMetrics:
    """Per-pod usage of `resource` from a `PodMetricsList`, in milli-units."""
    samples: dict[str, PodMetricSample] = {}
    for item in listing.get("items") or []:
        name = str((item.get("metadata") or {}).get("name", ""))
        total, seen = 0, False
        for entry in item.get("containers") or []:
            if container is not None and entry.get("name") != container:
                continue
            usage = (entry.get("usage") or {}).get(resource)
            if usage is None:
                continue
            try:
                total += parse_milli(usage)
            except QuantityError:
                continue
            seen = True
        if name and seen:
            stamp = parse_time(item.get("timestamp")) or now
            samples[name] = PodMetricSample(total, stamp, parse_duration(item.get("window")))
    stamps = [sample.timestamp for sample in samples.values()]
    return PodMetrics(samples, min(stamps) if stamps else now)


def metric_value_samples(listing: Mapping[str, Any], now: float) -> PodMetrics:
    """Per-pod samples from a custom.metrics.k8s.io `MetricValueList`."""
    samples: dict[str, PodMetricSample] = {}
    for item in listing.get("items") or []:
        name = str((item.get("describedObject") or {}).get("name", ""))
        try:
            value = parse_milli(item.get("value", "0"))
        except QuantityError:
            continue
        window = item.get("windowSeconds")
        stamp = parse_time(item.get("timestamp")) or now
        samples[name] = PodMetricSample(value, stamp, float(window) if window else DEFAULT_WINDOW_SECONDS)
    stamps = [sample.timestamp for sample in samples.values()]
    return PodMetrics(samples, min(stamps) if stamps else now)


class ApiMetricsClient:
    """`MetricsClient` over the aggregated metrics APIs, through the cluster's API server."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    async def _get(self, path: str, query: dict[str, str]) -> Mapping[str, Any] | MetricFetchFailed:
        clean = {key: value for key, value in query.items() if value}
        try:
            return parse(await self.client.transport.send(HttpRequest("GET", path, clean)))
        except (ApiError, TransportError) as error:
            return MetricFetchFailed(str(error))

    async def pod_resource(
        self, namespace: str, selector: str, resource: str, container: str | None, now: float
    ) -> PodMetrics | MetricFetchFailed:
        listing = await self._get(
            f"{RESOURCE_METRICS}/namespaces/{namespace}/pods", {"labelSelector": selector}
        )
        if isinstance(listing, MetricFetchFailed):
            return listing
        metrics = pod_resource_samples(listing, resource, container, now)
        if not metrics.samples:
            return MetricFetchFailed("no metrics returned from resource metrics API")
        return metrics

    async def pods_metric(
        self, namespace: str, selector: str, metric: str, metric_selector: str, now: float
    ) -> PodMetrics | MetricFetchFailed:
        path = f"{CUSTOM_METRICS}/namespaces/{namespace}/pods/*/{quote(metric)}"
        listing = await self._get(path, {"labelSelector": selector, "metricLabelSelector": metric_selector})
        if isinstance(listing, MetricFetchFailed):
            return listing
        metrics = metric_value_samples(listing, now)
        if not metrics.samples:
            return MetricFetchFailed(f"no metrics returned from custom metrics API for {metric}")
        return metrics

    async def object_metric(
        self, namespace: str, described: Mapping[str, Any], metric: str, metric_selector: str, now: float
    ) -> ObjectMetricValue | MetricFetchFailed:
        kind = str(described.get("kind", "")).lower()
        plural = kind if kind.endswith("s") else f"{kind}s"
        path = f"{CUSTOM_METRICS}/namespaces/{namespace}/{plural}/{described.get('name', '')}/{quote(metric)}"
        listing = await self._get(path, {"metricLabelSelector": metric_selector})
        if isinstance(listing, MetricFetchFailed):
            return listing
        items = listing.get("items") or []
        if not items:
            return MetricFetchFailed(f"no metrics returned from custom metrics API for {metric}")
        try:
            value = parse_milli(items[0].get("value", "0"))
        except QuantityError as error:
            return MetricFetchFailed(str(error))
        return ObjectMetricValue(value, parse_time(items[0].get("timestamp")) or now)

    async def external_metric(
        self, namespace: str, metric: str, metric_selector: str, now: float
    ) -> ExternalMetricValues | MetricFetchFailed:
        path = f"{EXTERNAL_METRICS}/namespaces/{namespace}/{quote(metric)}"
        listing = await self._get(path, {"labelSelector": metric_selector})
        if isinstance(listing, MetricFetchFailed):
            return listing
        values: list[int] = []
        stamps: list[float] = []
        for item in listing.get("items") or []:
            try:
                values.append(parse_milli(item.get("value", "0")))
            except QuantityError:
                continue
            stamps.append(parse_time(item.get("timestamp")) or now)
        if not values:
            return MetricFetchFailed(f"no metrics returned from external metrics API for {metric}")
        return ExternalMetricValues(tuple(values), min(stamps))


def selector_text(selector: Mapping[str, Any] | None) -> str:
    """A LabelSelector object as the `labelSelector` query string."""
    return format_label_selector(selector) if selector else ""
