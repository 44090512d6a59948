"""Where the anomaly detector's samples come from: the metrics API and Prometheus text endpoints.

Both sources turn what they read into `MetricSample`s keyed by object and metric; parsing is pure
(`node_metrics_samples`, `pod_metrics_samples`, `prometheus_samples`) and the fetchers are thin.

- `metrics.k8s.io/v1beta1` (what metrics-server serves, and what the kubelite agent serves):
  `NodeMetrics` give `usage.cpu` and `usage.memory` per node; `PodMetrics` give them per container,
  summed here per pod. Quantities go through `kubelite.api.quantity` (CPU in millicores, memory in
  bytes). They are fetched with a raw GET through the API client, since they are not a served kind.
- Prometheus text exposition, parsed with prometheus_client's parser. A sample with a `node` label
  belongs to that Node, one with `pod` and `namespace` labels to that Pod; any other series is
  tracked and scored but has no object to attach an Event to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from kubelite.api.quantity import parse_milli, parse_resource
from kubelite.client import ApiClient
from kubelite.client.core import HttpRequest, parse
from kubelite.observability.anomaly.monitor import MetricSample, SeriesKey

NODE_METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/nodes"
POD_METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/pods"
_OBJECT_LABELS = frozenset({"node", "pod", "namespace"})


def _timestamp(item: dict[str, Any], fallback: float) -> float:
    text = item.get("timestamp")
    if not isinstance(text, str) or not text:
        return fallback
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _usage_samples(key_of: SeriesKey, usage: dict[str, Any], stamp: float) -> list[MetricSample]:
    samples = []
    if "cpu" in usage:
        samples.append(
            MetricSample(
                SeriesKey("cpu", key_of.object_kind, key_of.namespace, key_of.name),
                stamp,
                float(parse_milli(usage["cpu"])),
            )
        )
    if "memory" in usage:
        memory = float(parse_resource("memory", usage["memory"]))
        samples.append(
            MetricSample(
                SeriesKey("memory", key_of.object_kind, key_of.namespace, key_of.name), stamp, memory
            )
        )
    return samples


def node_metrics_samples(listing: dict[str, Any], now: float) -> list[MetricSample]:
    """CPU (millicores) and memory (bytes) samples from a `NodeMetricsList`."""
    samples: list[MetricSample] = []
    for item in listing.get("items") or []:
        name = str((item.get("metadata") or {}).get("name", ""))
        if name:
            samples += _usage_samples(
                SeriesKey("", "Node", "", name), item.get("usage") or {}, _timestamp(item, now)
            )
    return samples


def pod_metrics_samples(listing: dict[str, Any], now: float) -> list[MetricSample]:
    """Per-pod CPU and memory samples from a `PodMetricsList`, summing the pod's containers."""
    samples: list[MetricSample] = []
    for item in listing.get("items") or []:
        meta = item.get("metadata") or {}
        name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
        if not name:
            continue
        totals: dict[str, int] = {}
        for container in item.get("containers") or []:
            usage = container.get("usage") or {}
            if "cpu" in usage:
                totals["cpu"] = totals.get("cpu", 0) + parse_milli(usage["cpu"])
            if "memory" in usage:
                totals["memory"] = totals.get("memory", 0) + parse_resource("memory", usage["memory"])
        stamp = _timestamp(item, now)
        samples += [
            MetricSample(SeriesKey(metric, "Pod", namespace, name), stamp, float(total))
            for metric, total in sorted(totals.items())
        ]
    return samples


def _series_name(name: str, labels: dict[str, str]) -> str:
    rest = sorted((label, value) for label, value in labels.items() if label not in _OBJECT_LABELS)
    if not rest:
        return name
    return name + "{" + ",".join(f'{label}="{value}"' for label, value in rest) + "}"


def prometheus_samples(text: str, now: float) -> list[MetricSample]:
    """One sample per exposed series, attributed to a Node or Pod by its labels."""
    samples: list[MetricSample] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = dict(sample.labels)
            if "pod" in labels and "namespace" in labels:
                key = SeriesKey(_series_name(sample.name, labels), "Pod", labels["namespace"], labels["pod"])
            elif "node" in labels:
                key = SeriesKey(_series_name(sample.name, labels), "Node", "", labels["node"])
            else:
                key = SeriesKey(_series_name(sample.name, labels), "", "", "")
            stamp = float(sample.timestamp) if sample.timestamp is not None else now
            samples.append(MetricSample(key, stamp, float(sample.value)))
    return samples


async def fetch_metrics_api(client: ApiClient, now: float) -> list[MetricSample]:
    """Node and pod usage from `metrics.k8s.io/v1beta1`; raises `ApiError` when it is not served."""
    nodes = parse(await client.transport.send(HttpRequest("GET", NODE_METRICS_PATH)))
    pods = parse(await client.transport.send(HttpRequest("GET", POD_METRICS_PATH)))
    return node_metrics_samples(nodes, now) + pod_metrics_samples(pods, now)


async def scrape_prometheus(http: httpx.AsyncClient, url: str, now: float) -> list[MetricSample]:
    """Every series of one Prometheus text endpoint; raises `httpx.HTTPError` on failure."""
    response = await http.get(url)
    response.raise_for_status()
    return prometheus_samples(response.text, now)
