"""Turning a container's Probe (the API model) into a runnable check and its thresholds.

The pod worker asks `probe_settings` for the Kubernetes timing fields (defaults filled) and
`build_check` for a blocking callable that returns a `ProbeOutcome`; the worker runs it in a thread.
Targets: httpGet and tcpSocket go to `probe.host` or the pod's IP (host networking: the node's
address), with named ports resolved against the container's ports; exec runs through the
`ExecInContainer` the runtime provides (host processes for `process`, `runc exec` for `oci`; wasm
modules have no exec, which Kubernetes reports as a probe error, i.e. a failure). `lifecycle_check`
runs a preStop hook handler the same way (plus the `sleep` action).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec

from kubelite.agent.probes import (
    ExecInContainer,
    ProbeOutcome,
    ProbeSettings,
    exec_probe,
    http_get_probe,
    tcp_socket_probe,
)
from kubelite.api.models.container import Container, Probe

ProbeCheck = Callable[[], ProbeOutcome]


def probe_settings(probe: Probe) -> ProbeSettings:
    defaults = ProbeSettings()
    return ProbeSettings(
        initial_delay_seconds=float(probe.initial_delay_seconds or 0),
        period_seconds=float(probe.period_seconds or defaults.period_seconds),
        timeout_seconds=float(probe.timeout_seconds or defaults.timeout_seconds),
        success_threshold=probe.success_threshold or defaults.success_threshold,
        failure_threshold=probe.failure_threshold or defaults.failure_threshold,
    )


def resolve_port(container: Container, port: int | str) -> int | None:
    if isinstance(port, int):
        return port
    if port.isdigit():
        return int(port)
    for declared in container.ports or []:
        if declared.name == port:
            return declared.container_port
    return None


def build_check(
    probe: Probe,
    container: Container,
    pod_ip: str,
    http: httpx.Client,
    execute: ExecInContainer | None,
) -> ProbeCheck:
    """A blocking check for `probe`; an unusable probe becomes a check that always fails."""
    timeout = float(probe.timeout_seconds or ProbeSettings().timeout_seconds)
    if probe.exec is not None:
        command = list(probe.exec.command or [])
        if execute is None:
            return lambda: ProbeOutcome("Failure", "exec probes are not supported by this runtime")
        runner = execute
        return lambda: exec_probe(runner, command, timeout)
    if probe.http_get is not None:
        action = probe.http_get
        port = resolve_port(container, action.port)
        if port is None:
            return lambda: ProbeOutcome("Failure", f"no port named {action.port!r}")
        scheme = (action.scheme or "HTTP").lower()
        path = action.path or "/"
        url = f"{scheme}://{action.host or pod_ip}:{port}{path if path.startswith('/') else '/' + path}"
        headers = {header.name: header.value for header in action.http_headers or []}
        return lambda: http_get_probe(http, url, timeout, headers)
    if probe.tcp_socket is not None:
        tcp_action = probe.tcp_socket
        tcp_port = resolve_port(container, tcp_action.port)
        if tcp_port is None:
            return lambda: ProbeOutcome("Failure", f"no port named {tcp_action.port!r}")
        host = tcp_action.host or pod_ip
        return lambda: tcp_socket_probe(host, tcp_port, timeout)
    return lambda: ProbeOutcome("Failure", "probe has no handler (exec, httpGet or tcpSocket)")


def lifecycle_check(
    handler: dict[str, Any],
    container: Container,
    pod_ip: str,
    http: httpx.Client,
    execute: ExecInContainer | None,
    timeout_seconds: float,
) -> ProbeCheck:
    """A blocking run of a lifecycle hook handler (preStop): exec, httpGet and tcpSocket as probes
    do, or `sleep`, each bounded by `timeout_seconds` (what is left of the grace period)."""
    if isinstance(handler.get("sleep"), dict):
        seconds = min(timeout_seconds, float(handler["sleep"].get("seconds") or 0))

        def pause() -> ProbeOutcome:
            time.sleep(max(0.0, seconds))
            return ProbeOutcome("Success")

        return pause
    try:
        probe = msgspec.convert({**handler, "timeoutSeconds": max(1, int(timeout_seconds))}, Probe)
    except msgspec.ValidationError as error:
        problem = f"invalid lifecycle handler: {error}"
        return lambda: ProbeOutcome("Failure", problem)
    return build_check(probe, container, pod_ip, http, execute)
