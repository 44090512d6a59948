"""One container of a pod through its attempts: start, exit, restart, probes, hooks and kill.

`ContainerLifecycle` is the container-level half of `PodWorker` (which adds the pod-level flow:
inputs, init order, supervision, termination and status). Per attempt: `_start` builds the
`ContainerSpec` (env, mounts, user, the oci termination-message file), refuses what runAsNonRoot
forbids, calls the runtime off the loop, has the exit pushed to the worker's `Wakeups`, runs the
postStart hook and emits Pulled/Created/Started; `_on_exit` records the exit (with its termination
message) and applies the restart policy with CrashLoopBackOff (sidecars always restart);
`_collect_exit` reads an exit only once it was reported (or on a resync pass); `_probe` runs due
probes and kills on a liveness/startup verdict; `_kill` is the kubelet's killContainer: preStop
within the grace period, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Literal, cast

from kubelite.agent.lifecycle import RestartPolicy, should_restart
from kubelite.agent.pod_spec import container_spec
from kubelite.agent.pod_status import ContainerRecord
from kubelite.agent.probe_runner import probe_trackers, run_due_probes, run_lifecycle_hook
from kubelite.agent.probes import ProbeKind
from kubelite.agent.runtime.interface import ContainerExit, ContainerRuntime, StartFailure
from kubelite.agent.security_context import non_root_refusal, run_as
from kubelite.agent.termination_message import termination_mount, with_termination_message
from kubelite.agent.wakeups import Wakeups
from kubelite.agent.worker_context import WorkerContext, pod_reference
from kubelite.api.models.pod import PodSpec
from kubelite.client.events import EventType

Object = dict[str, Any]


class ContainerLifecycle:
    """The container-level operations of a pod worker (see the module docstring)."""

    # Set by `PodWorker.__init__`.
    pod: Object
    namespace: str
    name: str
    uid: str
    spec: PodSpec
    runtime: ContainerRuntime
    context: WorkerContext
    restart_policy: RestartPolicy
    regular: list[ContainerRecord]
    pod_dir: Path
    _env: dict[str, list[tuple[str, str]]]
    _volumes: dict[str, tuple[Path, bool]]
    _wakeups: Wakeups
    _grace_seconds: float

    def _event(self, event_type: EventType, reason: str, message: str) -> None:
        self.context.record_event(pod_reference(self.pod), event_type, reason, message)

    async def _start(self, record: ContainerRecord) -> None:
        attempt = len(record.attempt_dirs)
        state_dir = self.pod_dir / "containers" / record.name / str(attempt)
        container_id = f"{self.uid}-{record.name}-{attempt}"
        identity, env = run_as(self.spec, record.container), self._env.get(record.name, [])
        spec = container_spec(self.pod, record.container, container_id, state_dir, env, self._volumes, identity)
        if self.runtime.NAME == "oci":  # the only runtime with a file system of its own to mount into
            spec = dataclasses.replace(spec, mounts=(*spec.mounts, termination_mount(record.container, state_dir)))
        record.attempt_dirs.append(state_dir)
        if attempt > 0:
            record.restart_count += 1
        record.restart_pending = False
        refusal = non_root_refusal(identity, self.name, record.name)
        started = (
            StartFailure("CreateContainerConfigError", refusal)
            if refusal is not None
            else await self.context.run_blocking(lambda: self.runtime.start(spec))
        )
        if isinstance(started, StartFailure):
            self._event("Warning", "Failed", f"Error: {started.reason}: {started.message}")
            record.state, record.waiting_reason, record.waiting_message = (
                "waiting",
                started.reason,
                started.message,
            )
            record.handle = None
            record.restart_pending = True
            self.context.backoff.record_exit((self.uid, record.name), 0.0)
            return
        record.handle = started
        self._wakeups.watch(started)
        self._event("Normal", "Pulled", f'Container image "{record.container.image}" already present on machine')
        self._event("Normal", "Created", f"Created container {record.name}")
        self._event("Normal", "Started", f"Started container {record.name}")
        record.runtime_id = f"{self.runtime.NAME}://{container_id}"
        # postStart runs before the container counts as running; if it fails, the container is killed.
        failure = await self._hook("postStart", record, self._grace_seconds)
        if failure is not None:
            self._event("Warning", "FailedPostStartHook", f"PostStartHook failed: {failure}")
            self._on_exit(record, await self._kill(record, self._grace_seconds), restartable=True)
            return
        record.state, record.exit, record.waiting_message = "running", None, ""
        record.started_at = self.context.clock.now()
        record.started_monotonic = self.context.clock.monotonic()
        record.ready = False
        record.started = record.container.startup_probe is None
        record.probes = probe_trackers(record.container, self.context.clock, record.started_monotonic)
        if record.container.readiness_probe is None:
            record.ready = record.started and (record in self.regular or record.sidecar)

    def _on_exit(self, record: ContainerRecord, exit: ContainerExit, restartable: bool) -> bool:
        """Record an exit; True when the container will be restarted."""
        record.handle = None
        record.ready = False
        exit = with_termination_message(record.container, exit, record.attempt_dirs[-1])
        ran_for = exit.finished_at - exit.started_at
        # Sidecars (init containers with restartPolicy Always) restart whatever the pod's policy.
        policy: RestartPolicy = "Always" if record.sidecar else self.restart_policy
        if restartable and should_restart(policy, exit.exit_code):
            key = (self.uid, record.name)
            self.context.backoff.record_exit(key, ran_for)
            self._event(
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {record.name} in pod {self.name}_{self.namespace}({self.uid})",
            )
            record.last_exit, record.exit, record.restart_pending = exit, None, True
            record.state = "waiting"
            record.waiting_reason, record.waiting_message = (
                "CrashLoopBackOff",
                (
                    f"back-off restarting failed container={record.name} pod={self.name}_{self.namespace}({self.uid})"
                ),
            )
            return True
        record.state, record.exit = "terminated", exit
        return False

    async def _collect_exit(self, record: ContainerRecord, resync: bool = False) -> ContainerExit | None:
        """The container's exit, if its runtime has reported one (no system call otherwise), or,
        on a `resync` pass, if asking the handle finds one."""
        handle = record.handle
        if handle is None or not (self._wakeups.take_exit(handle) or resync):
            return None
        # Reading the exit reaps the process and removes its cgroup: blocking work, off the loop.
        return cast(ContainerExit | None, await self.context.run_blocking(handle.poll))

    async def _restart_if_due(self, record: ContainerRecord) -> bool:
        if record.restart_pending and not self.context.backoff.in_backoff((self.uid, record.name)):
            await self._start(record)
            return True
        return False

    async def _probe(self, record: ContainerRecord) -> None:
        execute = self.context.exec_for(
            self.runtime.NAME, record.runtime_id.partition("://")[2], self._env.get(record.name, [])
        )

        def unhealthy(kind: ProbeKind, message: str) -> None:
            self._event("Warning", "Unhealthy", f"{kind.capitalize()} probe failed: {message}".rstrip(": "))

        restart_for = await run_due_probes(
            record, self.context.host_ip, self.context.http, execute, self.context.run_blocking, unhealthy
        )
        if restart_for is not None and record.handle is not None:
            probe = getattr(record.container, f"{restart_for}_probe")
            grace = float(probe.termination_grace_period_seconds or self._grace_seconds)
            self._event("Normal", "Killing", f"Container {record.name} failed {restart_for} probe, will be restarted")
            exit = await self._kill(record, grace)
            self._on_exit(record, exit, restartable=True)

    async def _hook(self, hook: Literal["postStart", "preStop"], record: ContainerRecord, timeout: float) -> str | None:
        execute = self.context.exec_for(
            self.runtime.NAME, record.runtime_id.partition("://")[2], self._env.get(record.name, [])
        )
        context = self.context
        return await run_lifecycle_hook(
            hook, record.container, context.host_ip, context.http, execute, context.run_blocking, timeout
        )

    async def _kill(self, record: ContainerRecord, grace: float) -> ContainerExit:
        """The kubelet's killContainer: the preStop hook first, within the grace period, then
        SIGTERM and, once what is left of the grace period has passed, SIGKILL."""
        handle = record.handle
        assert handle is not None
        began = self.context.clock.monotonic()
        failure = await self._hook("preStop", record, grace)
        if failure is not None:
            self._event("Warning", "FailedPreStopHook", f"PreStopHook failed: {failure}".rstrip(": "))
        remaining = max(0.0, grace - (self.context.clock.monotonic() - began))
        return cast(ContainerExit, await self.context.run_blocking(functools.partial(handle.stop, remaining)))
