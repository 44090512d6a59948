"""Parsing metric sources into samples: the metrics API lists and Prometheus text."""

from __future__ import annotations

import pytest

from kubelite.observability.anomaly.monitor import MetricSample, SeriesKey
from kubelite.observability.metric_sources import (
    node_metrics_samples,
    pod_metrics_samples,
    prometheus_samples,
)

NOW = 1_700_000_000.0
STAMP = "2023-11-14T22:13:20Z"  # NOW as RFC 3339


def test_node_metrics_become_millicores_and_bytes() -> None:
    listing = {
        "kind": "NodeMetricsList",
        "items": [
            {
                "metadata": {"name": "node-a"},
                "timestamp": STAMP,
                "window": "10s",
                "usage": {"cpu": "250m", "memory": "2Gi"},
            }
        ],
    }
    assert node_metrics_samples(listing, 0.0) == [
        MetricSample(SeriesKey("cpu", "Node", "", "node-a"), NOW, 250.0),
        MetricSample(SeriesKey("memory", "Node", "", "node-a"), NOW, float(2 * 1024**3)),
    ]


def test_pod_metrics_sum_their_containers() -> None:
    listing = {
        "kind": "PodMetricsList",
        "items": [
            {
                "metadata": {"name": "web-1", "namespace": "shop"},
                "containers": [
                    {"name": "app", "usage": {"cpu": "1", "memory": "100Mi"}},
                    {"name": "sidecar", "usage": {"cpu": "5m", "memory": "28Mi"}},
                ],
            }
        ],
    }
    assert pod_metrics_samples(listing, NOW) == [
        MetricSample(SeriesKey("cpu", "Pod", "shop", "web-1"), NOW, 1005.0),
        MetricSample(SeriesKey("memory", "Pod", "shop", "web-1"), NOW, float(128 * 1024**2)),
    ]


@pytest.mark.parametrize(
    ("exposition", "expected_key", "expected_value"),
    [
        (
            'requests_total{pod="web-1",namespace="shop",code="200"} 7\n',
            SeriesKey('requests_total{code="200"}', "Pod", "shop", "web-1"),
            7.0,
        ),
        ('node_load1{node="node-a"} 0.5\n', SeriesKey("node_load1", "Node", "", "node-a"), 0.5),
        ("queue_depth 12\n", SeriesKey("queue_depth", "", "", ""), 12.0),
    ],
    ids=["pod-labels", "node-label", "unattributed"],
)
def test_prometheus_series_are_attributed_by_labels(
    exposition: str, expected_key: SeriesKey, expected_value: float
) -> None:
    assert prometheus_samples(exposition, NOW) == [MetricSample(expected_key, NOW, expected_value)]


def test_series_keys_read_as_paths() -> None:
    assert SeriesKey("memory", "Pod", "shop", "web-1").series == "pod/shop/web-1/memory"
    assert SeriesKey("cpu", "Node", "", "node-a").series == "node/node-a/cpu"
