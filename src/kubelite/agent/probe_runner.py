"""Running a container's due probes for its pod worker, and what their verdicts change.

The pod worker calls `probe_trackers` when a container starts (one `ProbeTracker` per probe the
container declares) and `run_due_probes` whenever it wakes. Until the startup probe has succeeded
only it runs; then liveness and readiness do. Each check (`probe_checks.build_check`) blocks (exec,
HTTP, TCP), so it runs through the worker's `run_blocking`. A failing probe is reported as the
kubelet's `Unhealthy` Warning ("Liveness probe failed: ..."); a readiness verdict sets the
container's `ready`; a liveness or startup verdict of Unhealthy is returned so that the worker stops
and restarts the container. `run_lifecycle_hook` runs a container's postStart hook (after it
starts, before it counts as running) or preStop hook (before it is killed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import httpx

from kubelite.agent.pod_status import ContainerRecord
from kubelite.agent.probe_checks import build_check, lifecycle_check, probe_settings
from kubelite.agent.probes import ExecInContainer, ProbeKind, ProbeTracker
from kubelite.api.models.container import Container
from kubelite.clock import Clock

ReportUnhealthy = Callable[[ProbeKind, str], None]


def probe_trackers(container: Container, clock: Clock, started_monotonic: float) -> dict[ProbeKind, ProbeTracker]:
    """One tracker per probe `container` declares, timed from its start."""
    chosen: dict[ProbeKind, Any] = {
        "startup": container.startup_probe,
        "liveness": container.liveness_probe,
        "readiness": container.readiness_probe,
    }
    return {
        kind: ProbeTracker(kind, probe_settings(probe), clock, started_monotonic)
        for kind, probe in chosen.items()
        if probe is not None
    }


async def run_due_probes(
    record: ContainerRecord,
    host_ip: str,
    http: httpx.Client,
    execute: ExecInContainer | None,
    run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]],
    report_unhealthy: ReportUnhealthy,
) -> ProbeKind | None:
    """Run the probes of `record` that are due; the kind whose failures ask for a restart, if any."""
    kinds: list[ProbeKind] = ["startup"] if not record.started else ["liveness", "readiness"]
    for kind in kinds:
        tracker = record.probes.get(kind)
        if tracker is None or not tracker.due():
            continue
        probe = getattr(record.container, f"{kind}_probe")
        check = build_check(probe, record.container, host_ip, http, execute)
        outcome = await run_blocking(check)
        tracker.observe(outcome)
        if outcome.result == "Failure":
            report_unhealthy(kind, outcome.message)
        if kind == "startup" and tracker.ready:
            record.started = True
            record.ready = "readiness" not in record.probes
        elif kind == "readiness":
            record.ready = tracker.ready
        if tracker.wants_restart and record.handle is not None:
            return kind
    return None


async def run_lifecycle_hook(
    hook: Literal["postStart", "preStop"],
    container: Container,
    host_ip: str,
    http: httpx.Client,
    execute: ExecInContainer | None,
    run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]],
    timeout_seconds: float,
) -> str | None:
    """Run the container's postStart or preStop hook, if it has one, within `timeout_seconds`;
    the failure message, or None."""
    handler = (container.lifecycle or {}).get(hook)
    if not isinstance(handler, dict) or timeout_seconds <= 0:
        return None
    outcome = await run_blocking(lifecycle_check(handler, container, host_ip, http, execute, timeout_seconds))
    return str(outcome.message) or "failed" if outcome.result == "Failure" else None
