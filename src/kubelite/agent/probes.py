"""Liveness, readiness and startup probes: one check per kind, and the thresholds around them.

Checks are functions that return a `ProbeOutcome` value (never raise for a failing target):
- exec: a command runs in the container's context through an injected `ExecInContainer` (the host
  for process containers, `runc exec` for oci ones); exit code 0 is success;
- httpGet: a GET with httpx; a status from 200 to 399 is success, as in the kubelet's prober;
- tcpSocket: a TCP connection that opens is success.
`ProbeTracker` applies initialDelaySeconds, periodSeconds, successThreshold and failureThreshold on an
injected `Clock`: after `failure_threshold` consecutive failures a liveness or startup probe asks for
a restart and a readiness probe marks the container unready; `success_threshold` consecutive
successes mark it ready again.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from kubelite.clock import Clock

ProbeResult = Literal["Success", "Failure"]
ProbeKind = Literal["liveness", "readiness", "startup"]
# Runs argv in the container with a timeout; the exit code, or None when it timed out.
ExecInContainer = Callable[[list[str], float], int | None]


@dataclass(frozen=True)
class ProbeOutcome:
    result: ProbeResult
    message: str = ""


def exec_probe(execute: ExecInContainer, command: list[str], timeout_seconds: float) -> ProbeOutcome:
    exit_code = execute(command, timeout_seconds)
    if exit_code is None:
        return ProbeOutcome("Failure", f"command timed out after {timeout_seconds}s")
    if exit_code != 0:
        return ProbeOutcome("Failure", f"command exited with {exit_code}")
    return ProbeOutcome("Success")


def http_get_probe(
    client: httpx.Client,
    url: str,
    timeout_seconds: float,
    headers: dict[str, str] | None = None,
) -> ProbeOutcome:
    try:
        response = client.get(url, headers=headers, timeout=timeout_seconds, follow_redirects=False)
    except httpx.HTTPError as error:
        return ProbeOutcome("Failure", f"GET {url}: {error}")
    if 200 <= response.status_code < 400:
        return ProbeOutcome("Success")
    return ProbeOutcome("Failure", f"HTTP probe failed with statuscode: {response.status_code}")


def tcp_socket_probe(host: str, port: int, timeout_seconds: float) -> ProbeOutcome:
    try:
        with socket.create_connection((host, port), timeout=timeout_seconds):
            return ProbeOutcome("Success")
    except OSError as error:
        return ProbeOutcome("Failure", f"dial tcp {host}:{port}: {error}")


@dataclass(frozen=True)
class ProbeSettings:
    """The Kubernetes probe fields, with Kubernetes' defaults."""

    initial_delay_seconds: float = 0.0
    period_seconds: float = 10.0
    timeout_seconds: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3


ProbeVerdict = Literal["Healthy", "Unhealthy", "Pending"]


class ProbeTracker:
    """When a probe is due, and what consecutive outcomes mean for the container."""

    def __init__(
        self, kind: ProbeKind, settings: ProbeSettings, clock: Clock, container_started_at: float
    ) -> None:
        self.kind = kind
        self.settings = settings
        self._clock = clock
        self._next_due = container_started_at + settings.initial_delay_seconds
        self._successes = 0
        self._failures = 0
        # `container_started_at` is on the clock's monotonic scale. Readiness starts unready;
        # liveness and startup start out as not yet judged.
        self.verdict: ProbeVerdict = "Pending"

    def due(self) -> bool:
        return self._clock.monotonic() >= self._next_due

    def seconds_until_due(self) -> float:
        return max(0.0, self._next_due - self._clock.monotonic())

    def observe(self, outcome: ProbeOutcome) -> ProbeVerdict:
        """Record one outcome, schedule the next probe, and return the current verdict."""
        self._next_due = self._clock.monotonic() + self.settings.period_seconds
        if outcome.result == "Success":
            self._successes += 1
            self._failures = 0
            if self._successes >= self.settings.success_threshold:
                self.verdict = "Healthy"
        else:
            self._failures += 1
            self._successes = 0
            if self._failures >= self.settings.failure_threshold:
                self.verdict = "Unhealthy"
        return self.verdict

    @property
    def wants_restart(self) -> bool:
        """Liveness and startup probes restart an unhealthy container; readiness never does."""
        return self.kind != "readiness" and self.verdict == "Unhealthy"

    @property
    def ready(self) -> bool:
        return self.verdict == "Healthy"
