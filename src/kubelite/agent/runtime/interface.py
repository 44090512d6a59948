"""The contract between the agent's pod-sync layer and its container runtimes.

The pod-sync layer translates a Pod's container into a `ContainerSpec` (plain, frozen records with
quantities already parsed to integers by `kubelite.api.quantity`), picks a `ContainerRuntime` by the
pod's `runtimeClassName` and calls `start`. A runtime either returns a `ContainerHandle` for the
running container or a `StartFailure` value (an expected outcome, such as a missing image). The handle
then reports its `ContainerExit` (pushed through `notify_exit`, read with `poll`), sampled for `ContainerStats`, and stopped with a grace period:
SIGTERM (or the runtime's equivalent), then SIGKILL once the grace period is over.

Records here never import the API models, so the runtimes can be used and tested without an API
server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from kubelite.api.quantity import parse_milli, parse_units

ExitReason = Literal["Completed", "Error", "OOMKilled", "DeadlineExceeded"]
StartFailureReason = Literal[
    "ErrImageNeverPull", "CreateContainerError", "CreateContainerConfigError", "RunContainerError"
]

# Kubernetes reports a container killed by SIGKILL (OOM or the end of the grace period) as 128 + 9.
SIGKILL_EXIT_CODE = 137


@dataclass(frozen=True)
class Mount:
    """A host directory or file made visible inside the container."""

    host_path: Path
    container_path: str
    read_only: bool = False


@dataclass(frozen=True)
class ResourceLimits:
    """Limits and requests in base units: millicores, bytes and process counts. None means unlimited."""

    cpu_limit_millicores: int | None = None
    cpu_request_millicores: int | None = None
    memory_limit_bytes: int | None = None
    pids_limit: int | None = None

    @classmethod
    def from_quantities(
        cls,
        cpu_limit: str | None = None,
        memory_limit: str | None = None,
        cpu_request: str | None = None,
        pids_limit: int | None = None,
    ) -> ResourceLimits:
        """Build limits from Kubernetes quantity strings ("500m", "64Mi")."""
        return cls(
            cpu_limit_millicores=None if cpu_limit is None else parse_milli(cpu_limit),
            cpu_request_millicores=None if cpu_request is None else parse_milli(cpu_request),
            memory_limit_bytes=None if memory_limit is None else parse_units(memory_limit),
            pids_limit=pids_limit,
        )


@dataclass(frozen=True)
class ContainerSpec:
    """One container attempt, as a runtime needs it.

    `container_id` is unique per attempt (the pod-sync layer derives it from the pod UID, the
    container name and the restart count); `state_dir` is a directory the runtime owns for this
    attempt (logs, bundle, status files).
    """

    container_id: str
    name: str
    image: str
    state_dir: Path
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    working_dir: str | None = None
    mounts: tuple[Mount, ...] = ()
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    #: The user and group ids to run as (securityContext runAsUser/runAsGroup); None: root.
    user_id: int | None = None
    group_id: int | None = None

    @property
    def argv(self) -> tuple[str, ...]:
        """The full argument vector: command then args (an image's entrypoint is not consulted)."""
        return self.command + self.args


@dataclass(frozen=True)
class ContainerExit:
    """How a container ended: the values Kubernetes puts in `state.terminated`."""

    exit_code: int
    reason: ExitReason
    started_at: float
    finished_at: float
    message: str = ""


@dataclass(frozen=True)
class ContainerStats:
    """One usage sample. CPU is cumulative, so a rate needs two samples (see `cpu_nanocores`)."""

    timestamp: float
    cpu_usage_nanoseconds: int
    memory_working_set_bytes: int


@dataclass(frozen=True)
class StartFailure:
    """A container that could not be started; the reason is the one Kubernetes shows in `waiting`."""

    reason: StartFailureReason
    message: str


@dataclass(frozen=True)
class LogPaths:
    """Where a container's standard output and standard error are written.

    The runtimes write both streams to one file, opened for appending, so the log keeps the order in
    which lines were written, as `kubectl logs` shows them from a Kubernetes node."""

    stdout: Path
    stderr: Path

    @property
    def files(self) -> tuple[Path, ...]:
        """Each distinct log file once, stdout's first."""
        return tuple(dict.fromkeys((self.stdout, self.stderr)))


def cpu_nanocores(earlier: ContainerStats, later: ContainerStats) -> int:
    """CPU usage rate between two samples, in billionths of a core (metrics.k8s.io's unit)."""
    elapsed = later.timestamp - earlier.timestamp
    if elapsed <= 0:
        return 0
    used = max(0, later.cpu_usage_nanoseconds - earlier.cpu_usage_nanoseconds)
    return round(used / elapsed)


def classify_exit(exit_code: int, oom_killed: bool) -> ExitReason:
    """The Kubernetes reason for a terminated container."""
    if oom_killed:
        return "OOMKilled"
    return "Completed" if exit_code == 0 else "Error"


class ContainerHandle(Protocol):
    """A started container."""

    @property
    def container_id(self) -> str: ...

    @property
    def logs(self) -> LogPaths: ...

    def poll(self) -> ContainerExit | None:
        """The exit if the container has ended, else None. Never blocks."""
        ...

    def notify_exit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once, from any thread, as soon as `poll()` would return the exit (at
        once if the container has already ended): exits are pushed, never polled for."""
        ...

    def wait(self, timeout: float | None = None) -> ContainerExit | None:
        """Block until the container ends or `timeout` seconds pass (None: forever)."""
        ...

    def stop(self, grace_seconds: float) -> ContainerExit:
        """Ask the container to end (SIGTERM), kill it after `grace_seconds`, and release it."""
        ...

    def stats(self) -> ContainerStats | None:
        """A usage sample, or None once the container has ended."""
        ...


class ContainerRuntime(Protocol):
    """One way of running containers, chosen by a pod's runtimeClassName."""

    NAME: str

    def start(self, spec: ContainerSpec) -> ContainerHandle | StartFailure:
        """Start the container described by `spec`."""
        ...
