"""The process runtime: a container's command runs directly on the host, under the agent's control.

`start` creates the container's cgroup (memory, CPU quota and shares, pids) when the host has
cgroups, opens the stdout/stderr log files, and spawns the command in a new session (so it leads its
own process group and signals reach all its children). The child joins the cgroup between fork and
exec, so the limits hold from the first instruction of the workload. The image is not used, and
mounts are not applied: a process container sees the host filesystem, so volumes are reachable at
their host paths. The returned handle is a `SupervisedContainer`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from kubelite.agent.cgroups import Cgroup, CgroupLayout, CgroupLimits
from kubelite.agent.runtime.interface import ContainerSpec, LogPaths, ResourceLimits, StartFailure
from kubelite.agent.runtime.supervised import SupervisedContainer
from kubelite.clock import Clock

# A container gets the environment it is given, plus a PATH so that bare command names resolve.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class PopenChild:
    """Adapts `subprocess.Popen` to the supervisor's `ChildProcess`."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen

    @property
    def pid(self) -> int:
        return self._popen.pid

    def exit_code(self) -> int | None:
        return self._popen.poll()

    def wait_exit(self, timeout: float | None) -> int | None:
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def cgroup_limits(limits: ResourceLimits) -> CgroupLimits:
    return CgroupLimits(
        memory_bytes=limits.memory_limit_bytes,
        cpu_limit_millicores=limits.cpu_limit_millicores,
        cpu_request_millicores=limits.cpu_request_millicores,
        pids=limits.pids_limit,
    )


def open_logs(state_dir: Path) -> LogPaths:
    state_dir.mkdir(parents=True, exist_ok=True)
    logs = LogPaths(stdout=state_dir / "stdout.log", stderr=state_dir / "stderr.log")
    logs.stdout.touch()
    logs.stderr.touch()
    return logs


def join_cgroup_hook(cgroup: Cgroup | None) -> Callable[[], None] | None:
    """A pre-exec hook that moves the forked child into `cgroup` (os-level calls only: fork-safe)."""
    if cgroup is None:
        return None
    procs_files = [os.fsencode(path) for path in cgroup.procs_files()]

    def join() -> None:
        pid = str(os.getpid()).encode()
        for procs in procs_files:
            descriptor = os.open(procs, os.O_WRONLY)
            os.write(descriptor, pid)
            os.close(descriptor)

    return join


class ProcessRuntime:
    """Runs containers as host processes in their own process group and cgroup."""

    NAME = "process"

    def __init__(
        self, clock: Clock, cgroup_layout: CgroupLayout | None, cgroup_parent: str = "kubelite"
    ) -> None:
        self._clock = clock
        self._layout = cgroup_layout
        self._cgroup_parent = cgroup_parent

    def start(self, spec: ContainerSpec) -> SupervisedContainer | StartFailure:
        if not spec.argv:
            return StartFailure(
                "CreateContainerError", "the process runtime needs a command: the image is not used"
            )
        logs = open_logs(spec.state_dir)
        cgroup = None
        if self._layout is not None:
            cgroup = Cgroup(self._layout, f"{self._cgroup_parent}/{spec.container_id}")
            try:
                cgroup.create(cgroup_limits(spec.limits))
            except OSError as error:
                cgroup.remove()
                return StartFailure("CreateContainerError", f"cgroup setup failed: {error}")
        environment = {"PATH": DEFAULT_PATH, **dict(spec.env)}
        try:
            with open(logs.stdout, "ab") as stdout, open(logs.stderr, "ab") as stderr:
                popen = subprocess.Popen(
                    list(spec.argv),
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    env=environment,
                    cwd=spec.working_dir or None,
                    start_new_session=True,
                    preexec_fn=join_cgroup_hook(cgroup),
                    close_fds=True,
                )
        except (OSError, subprocess.SubprocessError) as error:
            if cgroup is not None:
                cgroup.remove()
            return StartFailure("RunContainerError", f"starting {spec.argv[0]!r} failed: {error}")
        return SupervisedContainer(
            spec.container_id,
            PopenChild(popen),
            cgroup,
            logs,
            spec.state_dir,
            self._clock,
            self._clock.now(),
        )
