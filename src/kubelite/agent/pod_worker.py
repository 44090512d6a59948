"""One pod on the node, from admission to its final status: the kubelet's per-pod worker.

Data flow: `run` resolves the pod's ConfigMaps/Secrets and volumes (`pod_spec`), runs the init
containers one at a time to success, starts the regular containers through the runtime the pod's
`runtimeClassName` chose, then supervises: it sleeps until a container's exit is pushed by the
runtime (`ContainerHandle.notify_exit`: a pidfd or the zygote's report, never a poll), a probe or a
back-off is due, or termination is asked; it applies the restart policy with CrashLoopBackOff
(`lifecycle`), runs startup, liveness and readiness probes (`probe_runner`), and offers the rendered status (`pod_status`) to the coalescing `StatusWriter`
whenever it changed. `request_termination(grace, cause)` stops every container, SIGTERM then SIGKILL
after the grace period. Only when the pod was deleted through the API (cause "deleted") does the
worker write a final status, after which the agent deletes the pod object with grace 0; a pod that
vanished from the API, or an agent that is shutting down, writes nothing, so a restarted agent finds
its pods as they were and starts them again, as a kubelet does after a reboot (their containers'
restart counts go up by one).

Runtime calls block (fork/exec, runc, reaping, cgroup removal), so they go through `run_blocking`, a
thread pool; each pod makes such a hop per start and per exit, not per poll. The per-container
operations (start, exit, restart, probes, hooks, kill) live in `container_lifecycle`; this module
is the pod-level flow around them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any, cast

import msgspec

from kubelite.agent.container_lifecycle import ContainerLifecycle
from kubelite.agent.lifecycle import RestartPolicy
from kubelite.agent.pod_spec import ConfigError, resolve_pod_inputs
from kubelite.agent.pod_status import (
    ConditionMemory,
    ContainerRecord,
    carry_restart_counts,
    phase_of,
    pod_status,
    reported_phase,
)
from kubelite.agent.runtime.interface import ContainerRuntime, LogPaths
from kubelite.agent.wakeups import Wakeups
from kubelite.agent.worker_context import StartStage, TerminationCause, WorkerContext
from kubelite.api.models.pod import PodSpec
from kubelite.api.pod_resources import pod_requests, qos_class
from kubelite.client import ApiError, TransportError
from kubelite.client.events import parse_time

log = logging.getLogger(__name__)
Object = dict[str, Any]
CONFIG_RETRY_SECONDS = 2.0
INITIAL_STATUS_DELAY_SECONDS = 0.1
DEFAULT_GRACE_SECONDS = 30
# The final status write is waited for, but a dead API server must not hold the worker forever.
SETTLE_TIMEOUT_SECONDS = 10.0


class PodWorker(ContainerLifecycle):
    """See the module docstring."""

    def __init__(
        self,
        pod: Object,
        runtime: ContainerRuntime,
        context: WorkerContext,
        spec: PodSpec | None = None,
        requests: dict[str, int] | None = None,
    ) -> None:
        """`spec` and `requests` save converting and parsing the pod again when the caller has them."""
        metadata = pod["metadata"]
        self.pod = pod
        self.namespace = str(metadata.get("namespace", "default"))
        self.name = str(metadata["name"])
        self.uid = str(metadata.get("uid", ""))
        self.spec = spec if spec is not None else msgspec.convert(pod.get("spec") or {}, PodSpec)
        #: The pod's effective requests (`pod_requests`), for the agent's admission of later pods.
        self.requests = requests if requests is not None else pod_requests(self.spec)
        self.restart_policy = cast(RestartPolicy, self.spec.restart_policy or "Always")
        self.runtime = runtime
        self.context = context
        self.init = [ContainerRecord(c, runtime.NAME) for c in self.spec.init_containers or []]
        self.regular = [ContainerRecord(c, runtime.NAME) for c in self.spec.containers]
        carry_restart_counts(pod, self.init, self.regular)
        for record in self.regular if self.init else []:
            record.waiting_reason = "PodInitializing"
        self.pod_dir = context.pods_dir / self.uid
        # A pod this agent restarted under keeps the start time it was first given.
        self.start_time = parse_time((pod.get("status") or {}).get("startTime")) or context.clock.now()
        self._created_monotonic = context.clock.monotonic()
        self.finished = False
        self._conditions = ConditionMemory()
        self._sandbox_ready = False
        self._env: dict[str, list[tuple[str, str]]] = {}
        self._volumes: dict[str, tuple[Path, bool]] = {}
        self._terminating = asyncio.Event()
        #: Why the worker is stopping (None while it runs): see `request_termination`.
        self.cause: TerminationCause | None = None
        # Container exits are pushed here, and termination nudges it: the worker never polls.
        self._wakeups = Wakeups(context.clock)
        self._grace_seconds = float(
            self.spec.termination_grace_period_seconds
            if self.spec.termination_grace_period_seconds is not None
            else DEFAULT_GRACE_SECONDS
        )
        self._last_offered: Object | None = None
        #: When each start-up stage was reached (the clock's monotonic seconds), for profiling.
        self.timeline: dict[StartStage, float] = {"seen": self._created_monotonic}

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def request_termination(self, grace_seconds: float | None, cause: TerminationCause = "deleted") -> None:
        if self.cause is None or cause == "deleted":
            self.cause = cause
        if grace_seconds is not None:
            self._grace_seconds = min(self._grace_seconds, max(0.0, grace_seconds))
        self._terminating.set()
        self._wakeups.nudge()

    @property
    def terminating(self) -> bool:
        return self._terminating.is_set()

    def records(self) -> list[ContainerRecord]:
        return [*self.init, *self.regular]

    def log_paths(self, container: str, previous: bool) -> LogPaths | None:
        """The log files of a container's current (or previous) attempt."""
        found = [record for record in self.records() if record.name == container]
        return found[0].attempt_logs(previous) if found else None

    # ---- status
    def status(self) -> Object:
        return pod_status(
            reported_phase(self.restart_policy, self.init, self.regular, self.terminating),
            self.init,
            self.regular,
            self._conditions,
            self._sandbox_ready,
            self.context.host_ip,
            self.start_time,
            qos_class(self.spec),
            self.context.clock.now(),
        )

    def publish(self) -> None:
        status = self.status()
        if status != self._last_offered:
            self._last_offered = status
            self.context.status_writer.offer(self.key, status)

    # ---- the worker
    async def run(self) -> None:
        # The first status (Pending, ContainerCreating) waits a moment: when the containers start
        # within it, Running supersedes it and the pod costs one status write instead of two.
        first_status = asyncio.ensure_future(self._publish_first())
        try:
            if await self._prepare() and await self._run_init_containers():
                self._mark("prepared")
                for record in self.regular:
                    await self._start(record)
                self._mark("started")
                self.publish()
                if all(r.state == "running" for r in self.regular):
                    self._mark("running_offered")
                    self.context.on_started(self.context.clock.monotonic() - self._created_monotonic)
                await self._supervise()
        except (ApiError, TransportError) as error:
            log.warning("pod %s/%s: %s", self.namespace, self.name, error)
        finally:
            first_status.cancel()
            await self._stop_all()
            self.finished = True
            if self.cause in ("deleted", None):
                self.publish()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(self.context.status_writer.settle(self.key), SETTLE_TIMEOUT_SECONDS)
            else:
                self.context.status_writer.forget(self.key)

    async def _publish_first(self) -> None:
        await self.context.clock.sleep(INITIAL_STATUS_DELAY_SECONDS)
        if self._last_offered is None:
            self.publish()

    def _mark(self, stage: StartStage) -> None:
        self.timeline.setdefault(stage, self.context.clock.monotonic())

    async def _prepare(self) -> bool:
        while not self.terminating:
            inputs = await resolve_pod_inputs(
                self.context.client, self.pod, self.spec, self.pod_dir, self.context.run_blocking
            )
            if not isinstance(inputs, ConfigError):
                self._env, self._volumes, self._sandbox_ready = inputs.env, inputs.volumes, True
                return True
            for record in self.init[:1] or self.regular:
                record.waiting_reason, record.waiting_message = "CreateContainerConfigError", inputs.message
            self.publish()
            await self._wakeups.sleep(CONFIG_RETRY_SECONDS)
        return False

    async def _run_init_containers(self) -> bool:
        for record in self.init:
            await self._start(record)
            self.publish()
            while not self.terminating:
                if record.sidecar:
                    # A sidecar only has to start (its startup probe, if any, passing); it then runs
                    # beside the regular containers and is supervised with them.
                    if record.state == "running" and record.started:
                        break
                    await self._supervise_one(record)
                elif record.state == "running":
                    exit = await self._collect_exit(record)
                    if exit is not None:
                        # Init containers restart on failure unless the pod never restarts.
                        restarting = self._on_exit(
                            record, exit, restartable=exit.exit_code != 0 and self.restart_policy != "Never"
                        )
                        self.publish()
                        if not restarting:
                            if exit.exit_code != 0:
                                return False
                            break
                elif await self._restart_if_due(record):
                    self.publish()
                elif record.state == "terminated":
                    return False
                await self._wakeups.sleep(self._next_wake([record]))
            if self.terminating:
                return False
        for record in self.regular:
            record.waiting_reason = "ContainerCreating"
        return True

    async def _supervise_one(self, record: ContainerRecord) -> None:
        """One look at a started container: its exit, else its due probes; or a due restart."""
        if record.state == "running":
            exit = await self._collect_exit(record)
            if exit is not None:
                self._on_exit(record, exit, restartable=True)
            else:
                await self._probe(record)
        else:
            await self._restart_if_due(record)
        self.publish()
        if not (record.state == "running" and record.started):
            await self._wakeups.sleep(self._next_wake([record]))

    async def _supervise(self) -> None:
        supervised = [*(r for r in self.init if r.sidecar), *self.regular]
        while not self.terminating:
            resync = self._wakeups.resync_due(self.context.resync_seconds)
            for record in supervised:
                if record.state == "running":
                    exit = await self._collect_exit(record, resync)
                    if exit is not None:
                        self._on_exit(record, exit, restartable=True)
                    else:
                        await self._probe(record)
                else:
                    await self._restart_if_due(record)
            self.publish()
            phase = phase_of(self.restart_policy, self.init, self.regular)
            if phase in ("Succeeded", "Failed"):
                return  # sidecars do not keep a finished pod alive: `_stop_all` ends them
            await self._wakeups.sleep(self._next_wake(supervised))

    def _next_wake(self, records: list[ContainerRecord]) -> float:
        """Seconds until a probe is due or a back-off ends; exits wake the worker by themselves."""
        wake = self.context.resync_seconds
        for record in records:
            if record.restart_pending:
                wake = min(wake, self.context.backoff.remaining((self.uid, record.name)))
            for tracker in record.probes.values():
                wake = min(wake, tracker.seconds_until_due())
        return max(wake, 0.001)

    async def _stop_all(self) -> None:
        async def stop(record: ContainerRecord) -> None:
            self._event("Normal", "Killing", f"Stopping container {record.name}")
            exit = await self._kill(record, self._grace_seconds)
            self._on_exit(record, exit, restartable=False)

        # Regular containers first, then sidecars, so that these serve the others to the end.
        first = [r for r in self.records() if not r.sidecar]
        for group in (first, [r for r in reversed(self.init) if r.sidecar]):
            await asyncio.gather(*(stop(record) for record in group if record.handle is not None))
        for record in self.records():
            if record.state == "waiting":
                record.restart_pending = False
