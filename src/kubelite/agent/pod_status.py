"""A pod's observed state, and the Kubernetes `status` it is written as (pure, no I/O).

The pod worker keeps one `ContainerRecord` per init and regular container and mutates it as the
runtimes report; `pod_status` renders the records into the API's PodStatus: container states with
their reasons, exit codes and restart counts, `lastState`, the phase (the kubelet's getPhase, via
`kubelite.agent.lifecycle.pod_phase`, where a container waiting to restart counts as stopped) and
the conditions PodReadyToStartContainers, Initialized, ContainersReady, Ready and PodScheduled, whose
`lastTransitionTime` moves only when their status does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kubelite.agent.lifecycle import ContainerState, PodPhase, RestartPolicy, pod_phase
from kubelite.agent.node_status import rfc3339
from kubelite.agent.probes import ProbeKind, ProbeTracker
from kubelite.agent.runtime.interface import ContainerExit, ContainerHandle, LogPaths
from kubelite.agent.runtime.process import CONTAINER_LOG_NAME
from kubelite.api.models.container import Container

Object = dict[str, Any]
StateKind = Literal["waiting", "running", "terminated"]


@dataclass
class ContainerRecord:
    """What the agent knows about one container of a pod."""

    container: Container
    runtime_name: str
    restart_count: int = 0
    state: StateKind = "waiting"
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    handle: ContainerHandle | None = None
    runtime_id: str = ""
    started_at: float = 0.0
    started_monotonic: float = 0.0
    exit: ContainerExit | None = None
    last_exit: ContainerExit | None = None
    restart_pending: bool = False
    ready: bool = False
    started: bool = False
    probes: dict[ProbeKind, ProbeTracker] = field(default_factory=dict)
    attempt_dirs: list[Path] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.container.name

    def attempt_logs(self, previous: bool) -> LogPaths | None:
        """The log file(s) of the current (or previous) attempt, if there is one."""
        index = len(self.attempt_dirs) - (2 if previous else 1)
        if index < 0:
            return None
        log_file = self.attempt_dirs[index] / CONTAINER_LOG_NAME
        return LogPaths(log_file, log_file)

    @property
    def sidecar(self) -> bool:
        """An init container with restartPolicy Always (KEP-753): it keeps running beside the others."""
        return self.container.restart_policy == "Always"

    @property
    def sidecar_up(self) -> bool:
        """A sidecar that has started once (startup probe passed): it no longer holds up the pod."""
        return self.sidecar and (self.started or self.restart_count > 0)

    def phase_state(self) -> ContainerState:
        if self.state == "running":
            return ContainerState("running")
        if self.state == "terminated" and self.exit is not None:
            return ContainerState("terminated", self.exit.exit_code)
        if self.last_exit is not None:
            # getPhase: a container waiting to restart has stopped before.
            return ContainerState("terminated", self.last_exit.exit_code)
        return ContainerState("waiting")


def _terminated(exit: ContainerExit, runtime_id: str) -> Object:
    terminated: Object = {
        "exitCode": exit.exit_code,
        "reason": exit.reason,
        "startedAt": rfc3339(exit.started_at),
        "finishedAt": rfc3339(exit.finished_at),
        "containerID": runtime_id,
    }
    if exit.exit_code > 128:
        terminated["signal"] = exit.exit_code - 128
    if exit.message:
        terminated["message"] = exit.message
    return terminated


def container_status(record: ContainerRecord) -> Object:
    state: Object
    if record.state == "running":
        state = {"running": {"startedAt": rfc3339(record.started_at)}}
    elif record.state == "terminated" and record.exit is not None:
        state = {"terminated": _terminated(record.exit, record.runtime_id)}
    else:
        waiting: Object = {"reason": record.waiting_reason}
        if record.waiting_message:
            waiting["message"] = record.waiting_message
        state = {"waiting": waiting}
    status: Object = {
        "name": record.name,
        "state": state,
        "lastState": (
            {"terminated": _terminated(record.last_exit, record.runtime_id)}
            if record.last_exit is not None
            else {}
        ),
        "ready": record.ready,
        "restartCount": record.restart_count,
        "image": record.container.image or "",
        "imageID": "",
        "started": record.started,
    }
    if record.runtime_id:
        status["containerID"] = record.runtime_id
    return status


def phase_of(
    restart_policy: RestartPolicy, init: list[ContainerRecord], regular: list[ContainerRecord]
) -> PodPhase:
    # A started sidecar counts as a completed init container; its later restarts do not make the pod
    # Pending again, and it does not keep a finished pod Running (the kubelet's getPhase).
    init_states = [ContainerState("terminated", 0) if r.sidecar_up else r.phase_state() for r in init]
    return pod_phase(restart_policy, init_states, [r.phase_state() for r in regular])


def reported_phase(
    restart_policy: RestartPolicy, init: list[ContainerRecord], regular: list[ContainerRecord], terminating: bool
) -> PodPhase:
    """The phase the status shows: `phase_of`, plus two kubelet rules. A deleted pod ends terminal
    whatever its policy (it is not restarted); and, as since 1.27, a pod is terminal only once every
    container (sidecars included) has stopped."""
    records = [*init, *regular]
    phase = phase_of(restart_policy, init, regular)
    if terminating and all(r.state != "running" for r in records):
        phase = phase_of("Never", init, regular)
        if phase not in ("Succeeded", "Failed"):
            phase = "Failed"
    if phase in ("Succeeded", "Failed") and any(r.state == "running" for r in records):
        phase = "Running"
    return phase


@dataclass
class ConditionMemory:
    """Remembers when each condition last changed, across status renders."""

    transitions: dict[str, tuple[str, str]] = field(default_factory=dict)

    def condition(self, kind: str, value: bool, now: float, reason: str = "") -> Object:
        status = "True" if value else "False"
        before = self.transitions.get(kind)
        if before is None or before[0] != status:
            self.transitions[kind] = (status, rfc3339(now))
        condition: Object = {
            "type": kind,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": self.transitions[kind][1],
        }
        if reason and not value:
            condition["reason"] = reason
        return condition


def pod_status(
    phase: PodPhase,
    init: list[ContainerRecord],
    regular: list[ContainerRecord],
    memory: ConditionMemory,
    sandbox_ready: bool,
    host_ip: str,
    start_time: float,
    qos_class: str,
    now: float,
) -> Object:
    initialized = all(
        r.sidecar_up or (r.state == "terminated" and r.exit is not None and r.exit.exit_code == 0) for r in init
    )
    sidecars = [r for r in init if r.sidecar]
    containers_ready = bool(regular) and all(r.ready for r in [*sidecars, *regular])
    running = phase not in ("Succeeded", "Failed")
    conditions = [
        memory.condition("PodReadyToStartContainers", sandbox_ready and running, now),
        memory.condition("Initialized", initialized, now, "ContainersNotInitialized"),
        memory.condition(
            "Ready", containers_ready, now, "PodCompleted" if not running else "ContainersNotReady"
        ),
        memory.condition(
            "ContainersReady", containers_ready, now, "PodCompleted" if not running else "ContainersNotReady"
        ),
        memory.condition("PodScheduled", True, now),
    ]
    status: Object = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": host_ip,
        "podIPs": [{"ip": host_ip}],
        "startTime": rfc3339(start_time),
        "qosClass": qos_class,
        "containerStatuses": [container_status(r) for r in regular],
    }
    if init:
        status["initContainerStatuses"] = [container_status(r) for r in init]
    return status


def carry_restart_counts(pod: Object, init: list[ContainerRecord], regular: list[ContainerRecord]) -> None:
    """A container the API says already ran (this agent restarted under it) starts as a restart."""
    status = pod.get("status") or {}
    for records, status_field in ((init, "initContainerStatuses"), (regular, "containerStatuses")):
        previous = {str(s.get("name")): s for s in status.get(status_field) or [] if isinstance(s, dict)}
        for record in records:
            seen = previous.get(record.name)
            if seen is not None and (seen.get("state") or {}).keys() & {"running", "terminated"}:
                record.restart_count = int(seen.get("restartCount") or 0) + 1
