"""The process runtime: a container's command runs directly on the host, under the agent's control.

`start` creates the container's cgroup (memory, CPU quota and shares, pids) when the host has
cgroups, opens the stdout/stderr log files, and spawns the command in a new session (so it leads its
own process group and signals reach all its children). A one-line shell step creates the cgroup, joins
it and then execs the command, so the limits hold from the first instruction of the workload while
Popen still uses vfork and the agent makes no cgroup system calls on the start path. Exits are pushed by the shared `ExitReaper` (pidfd), never polled. The image is
not used, and mounts are not applied: a process container sees the host filesystem, so volumes are
reachable at their host paths. The returned handle is a `SupervisedContainer`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from kubelite.agent.cgroups import Cgroup, CgroupLayout, CgroupLimits, CgroupPlan
from kubelite.agent.runtime.interface import ContainerSpec, LogPaths, ResourceLimits, StartFailure
from kubelite.agent.runtime.reaper import shared_reaper
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

    def notify_exit(self, callback: Callable[[], None]) -> None:
        shared_reaper().watch(self._popen.pid, lambda: self._popen.poll() is not None, callback)


def cgroup_limits(limits: ResourceLimits) -> CgroupLimits:
    return CgroupLimits(
        memory_bytes=limits.memory_limit_bytes,
        cpu_limit_millicores=limits.cpu_limit_millicores,
        cpu_request_millicores=limits.cpu_request_millicores,
        pids=limits.pids_limit,
    )


# Both streams of a container go to this one file, in the order they are written.
CONTAINER_LOG_NAME = "container.log"


def open_logs(state_dir: Path) -> LogPaths:
    state_dir.mkdir(parents=True, exist_ok=True)
    log_file = state_dir / CONTAINER_LOG_NAME
    log_file.touch()
    return LogPaths(stdout=log_file, stderr=log_file)


# The container's first step is a one-line shell script: create its cgroup and write the limits (the
# `CgroupPlan`), join it ($$ is kept by exec), then exec the workload. The limits hold from the
# workload's first instruction, as with a pre-exec hook, but (1) Popen can use vfork instead of fork,
# which in an agent of a few hundred MB is ~10x cheaper (measured: 20 ms -> 2 ms per start), and
# (2) the dozen mkdir/write calls happen in the child, not on agent threads that would wait for the
# GIL after each of them while the event loop is busy. A failed step exits 125 with the shell's
# message in the container's stderr log.
START_EXIT_CODE_SETUP_FAILED = 125


def joined_argv(argv: list[str], plan: CgroupPlan | None, procs_files: list[Path]) -> list[str]:
    """`argv`, prefixed by the shell step that creates and joins its cgroup (see above)."""
    if plan is None:
        return argv
    joins = "; ".join(f"echo $$ > {shlex.quote(str(path))} || exit 125" for path in procs_files)
    return ["/bin/sh", "-c", f'{plan.shell()}; {joins}; exec "$@"', "kubelite-start", *argv]


def as_user(argv: list[str], uid: int | None, gid: int | None) -> list[str] | StartFailure:
    """`argv` run as `uid`/`gid` (runAsUser/runAsGroup): `setpriv` drops root after the cgroup step,
    which itself needs root to write cgroup.procs."""
    if uid is None and gid is None:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return StartFailure("CreateContainerError", "runAsUser/runAsGroup need setpriv (util-linux)")
    user = uid or 0
    group = gid if gid is not None else user
    return [setpriv, f"--reuid={user}", f"--regid={group}", "--clear-groups", "--", *argv]


def start_failure_before_exec(argv: list[str], environment: dict[str, str], cwd: str | None) -> StartFailure | None:
    """What exec would refuse, found before forking (the shell step would otherwise turn it into an exit)."""
    if cwd and not os.path.isdir(cwd):
        return StartFailure("RunContainerError", f"working directory {cwd!r} does not exist")
    if os.sep in argv[0]:
        found = os.access(os.path.join(cwd or "", argv[0]), os.X_OK)
    else:
        found = shutil.which(argv[0], path=environment.get("PATH", DEFAULT_PATH)) is not None
    if not found:
        return StartFailure(
            "RunContainerError", f"starting {argv[0]!r} failed: executable file not found in $PATH"
        )
    return None


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
        environment = {"PATH": DEFAULT_PATH, **dict(spec.env)}
        refused = start_failure_before_exec(list(spec.argv), environment, spec.working_dir)
        if refused is not None:
            return refused  # nothing created yet: the cgroup is made by the container's first step
        argv = as_user(list(spec.argv), spec.user_id, spec.group_id)
        if isinstance(argv, StartFailure):
            return argv
        try:
            with open(logs.stdout, "ab") as output:
                popen = subprocess.Popen(
                    joined_argv(
                        argv,
                        cgroup.plan(cgroup_limits(spec.limits)) if cgroup is not None else None,
                        cgroup.procs_files() if cgroup is not None else [],
                    ),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    env=environment,
                    cwd=spec.working_dir or None,
                    start_new_session=True,
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
