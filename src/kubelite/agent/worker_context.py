"""What every pod worker on a node shares (`WorkerContext`), and the small types around it.

The agent builds one `WorkerContext` and hands it to each `PodWorker`: the API client and clock,
the coalescing status writer, the node's CrashLoopBackOff memory, the thread pool for blocking
runtime calls, the probe HTTP client, where pod state lives, and the hooks through which workers
report (start latency metric, Kubernetes Events).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from kubelite.agent.lifecycle import CrashLoopBackoff
from kubelite.agent.probes import ExecInContainer
from kubelite.agent.status_writer import StatusWriter
from kubelite.client import ApiClient
from kubelite.client.events import EventType
from kubelite.clock import Clock

Object = dict[str, Any]
#: Start-up stages a worker stamps: created, volumes and env ready, containers started, Running offered.
StartStage = Literal["seen", "prepared", "started", "running_offered"]
#: Why a pod worker stops: its pod was deleted through the API (graceful deletion), the pod vanished
#: from the API (nothing left to report to), or the agent itself is shutting down.
TerminationCause = Literal["deleted", "vanished", "node-shutdown"]


def pod_reference(pod: Object) -> Object:
    """The part of a pod an Event's `involvedObject` needs."""
    metadata = pod.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {key: metadata[key] for key in ("name", "namespace", "uid") if key in metadata},
    }


@dataclass
class WorkerContext:
    """What every pod worker on a node shares."""

    client: ApiClient
    clock: Clock
    status_writer: StatusWriter
    backoff: CrashLoopBackoff
    run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]]
    http: httpx.Client
    pods_dir: Path
    host_ip: str
    #: The longest a worker sleeps with nothing due: exits are pushed, so this is only a safety net.
    resync_seconds: float
    exec_for: Callable[[str, str, list[tuple[str, str]]], ExecInContainer | None]
    #: Called with the seconds from the worker's creation to all regular containers started.
    on_started: Callable[[float], None] = lambda seconds: None
    #: Records a Kubernetes Event about a pod (an `EventRecorder.event`); events never block the worker.
    record_event: Callable[[Object, EventType, str, str], None] = lambda obj, kind, reason, message: None
