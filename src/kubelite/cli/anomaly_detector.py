"""`kubelite anomaly-detector`: run the in-cluster anomaly detector against any cluster.

It builds an `ApiClient` from a kubeconfig, an explicit Prometheus registry (served on
`--metrics-port` so the `kubelite_anomaly_score` gauges can be scraped) and the
`AnomalyDetectorComponent`, then polls until interrupted. Node and pod usage come from
`metrics.k8s.io/v1beta1`; `--scrape` adds Prometheus text endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry, start_http_server

from kubelite.client import ApiClient
from kubelite.clock import RealClock
from kubelite.observability.anomaly.monitor import MonitorSettings
from kubelite.observability.anomaly.registry import DEFAULT_DETECTOR
from kubelite.observability.anomaly_component import AnomalyDetectorComponent, AnomalyDetectorSettings


async def _serve(kubeconfig: Path, settings: AnomalyDetectorSettings, registry: CollectorRegistry) -> None:
    client = ApiClient.from_kubeconfig(kubeconfig)
    component = AnomalyDetectorComponent(client, registry, RealClock(), settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await component.run(stop)
    finally:
        await component.close()
        await client.close()


def anomaly_detector(
    kubeconfig: Annotated[Path, typer.Option("--kubeconfig", help="Kubeconfig of the cluster to watch.")],
    scrape: Annotated[
        list[str] | None, typer.Option("--scrape", help="Prometheus endpoint URL (repeatable).")
    ] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls.")] = 15.0,
    detector: Annotated[
        str, typer.Option("--detector", help="Registered detector kind per series.")
    ] = DEFAULT_DETECTOR,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Score at which a series is anomalous.")
    ] = MonitorSettings.threshold,
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", help="Port serving the score gauges (0: off).")
    ] = 9465,
    no_metrics_api: Annotated[
        bool, typer.Option("--no-metrics-api", help="Do not read metrics.k8s.io.")
    ] = False,
) -> None:
    """Score node, pod and scraped series online; raise AnomalyDetected Events."""
    settings = AnomalyDetectorSettings(
        interval_seconds=interval,
        read_metrics_api=not no_metrics_api,
        scrape_urls=tuple(scrape or ()),
        monitor=MonitorSettings(detector=detector, threshold=threshold),
    )
    registry = CollectorRegistry()
    if metrics_port:
        start_http_server(metrics_port, registry=registry)
    asyncio.run(_serve(kubeconfig, settings, registry))
