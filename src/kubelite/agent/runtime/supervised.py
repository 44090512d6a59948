"""A host process the agent supervises as a container: its process group, cgroup, exit and stop.

Both the process runtime (a `subprocess.Popen` of the container's command) and the wasm runtime (a
worker forked from a warm zygote) end up with one host process per container, leading its own process
group and placed in the container's cgroup. `SupervisedContainer` turns that process into a
`ContainerHandle`: it classifies the exit (the kernel's OOM-kill counter for the cgroup, or a
termination-reason file the process wrote itself), stops it with SIGTERM then SIGKILL after the grace
period, kills whatever is left in the group or cgroup once the leader has gone (as the end of a
container's PID namespace would), removes the cgroup, and samples usage from the cgroup or, on hosts
without cgroups, from /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from kubelite.agent.cgroups import Cgroup
from kubelite.agent.runtime.interface import (
    SIGKILL_EXIT_CODE,
    ContainerExit,
    ContainerStats,
    ExitReason,
    LogPaths,
    classify_exit,
)
from kubelite.clock import Clock

# A process may write one of these words into its termination-reason file to report why it ended
# (the wasm worker does, since a wasm memory limit is not a kernel OOM kill).
REASON_FILE_NAME = "termination-reason"
_REPORTABLE_REASONS: dict[str, ExitReason] = {"OOMKilled": "OOMKilled", "Error": "Error"}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class ChildProcess(Protocol):
    """The part of Popen / multiprocessing.Process the supervisor needs; codes are shell-style."""

    @property
    def pid(self) -> int: ...

    def exit_code(self) -> int | None: ...

    def wait_exit(self, timeout: float | None) -> int | None: ...

    def notify_exit(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from any thread) once `exit_code()` has an answer."""
        ...


def shell_exit_code(returncode: int) -> int:
    """Python reports death by signal N as -N; Kubernetes (like a shell) reports 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


class SupervisedContainer:
    """A running container backed by one host process (see the module docstring)."""

    def __init__(
        self,
        container_id: str,
        child: ChildProcess,
        cgroup: Cgroup | None,
        logs: LogPaths,
        state_dir: Path,
        clock: Clock,
        started_at: float,
        send_signal: Callable[[int], None] | None = None,
        on_release: Callable[[], None] | None = None,
    ) -> None:
        """`send_signal` replaces signalling the process group (runc signals its container itself);
        `on_release` runs once the container has ended, before its cgroup is removed."""
        self._container_id = container_id
        self._child = child
        self._cgroup = cgroup
        self._logs = logs
        self._state_dir = state_dir
        self._clock = clock
        self._started_at = started_at
        self._exit: ContainerExit | None = None
        self._lock = threading.Lock()
        self._send_signal = send_signal
        self._on_release = on_release

    @property
    def container_id(self) -> str:
        return self._container_id

    @property
    def logs(self) -> LogPaths:
        return self._logs

    @property
    def pid(self) -> int:
        return self._child.pid

    @property
    def cgroup(self) -> Cgroup | None:
        return self._cgroup

    def poll(self) -> ContainerExit | None:
        code = self._child.exit_code()
        return None if code is None else self._finish(code)

    def notify_exit(self, callback: Callable[[], None]) -> None:
        self._child.notify_exit(callback)

    def wait(self, timeout: float | None = None) -> ContainerExit | None:
        code = self._child.wait_exit(timeout)
        return None if code is None else self._finish(code)

    def stop(self, grace_seconds: float) -> ContainerExit:
        if self._exit is not None:
            return self._exit
        self._signal_group(signal.SIGTERM)
        code = self._child.wait_exit(max(0.0, grace_seconds))
        if code is None:
            self._signal_group(signal.SIGKILL)
            code = self._child.wait_exit(None)
            assert code is not None
        return self._finish(code)

    def stats(self) -> ContainerStats | None:
        if self._exit is not None:
            return None
        now = self._clock.now()
        if self._cgroup is not None:
            return ContainerStats(
                now, self._cgroup.cpu_usage_nanoseconds(), self._cgroup.memory_working_set_bytes()
            )
        return _proc_stats(self._child.pid, now)

    def _signal_group(self, signal_number: int) -> None:
        if self._send_signal is not None:
            self._send_signal(signal_number)
        else:
            try:
                os.killpg(self._child.pid, signal_number)
            except ProcessLookupError:
                # Not (yet) a group leader: signal the process itself.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._child.pid, signal_number)
            except PermissionError:
                pass
        if self._cgroup is not None and signal_number == signal.SIGKILL:
            self._cgroup.kill_all(signal_number)

    def _finish(self, raw_code: int) -> ContainerExit:
        with self._lock:
            if self._exit is not None:
                return self._exit
            exit_code = shell_exit_code(raw_code)
            oom_killed = self._cgroup is not None and self._cgroup.oom_kill_count() > 0
            reported, message = self._reported_reason()
            reason: ExitReason = reported if reported is not None else classify_exit(exit_code, oom_killed)
            if reason == "OOMKilled" and exit_code == 0:
                exit_code = SIGKILL_EXIT_CODE
            self._release()
            self._exit = ContainerExit(exit_code, reason, self._started_at, self._clock.now(), message)
            return self._exit

    def _reported_reason(self) -> tuple[ExitReason | None, str]:
        """The reason and message the process wrote itself (first line, then the rest), if any."""
        try:
            text = (self._state_dir / REASON_FILE_NAME).read_text()
        except FileNotFoundError:
            return None, ""
        word, _, message = text.partition("\n")
        return _REPORTABLE_REASONS.get(word.strip()), message.strip()

    def _release(self) -> None:
        # The leader is gone; whatever it left behind in its group or cgroup goes with it.
        self._signal_group(signal.SIGKILL)
        if self._on_release is not None:
            self._on_release()
        if self._cgroup is not None:
            deadline = time.monotonic() + 2.0
            while self._cgroup.pids() and time.monotonic() < deadline:
                self._cgroup.kill_all(signal.SIGKILL)
                time.sleep(0.005)
            self._cgroup.remove()


def _proc_stats(pid: int, now: float) -> ContainerStats | None:
    """Usage of one process from /proc, for hosts where the agent has no cgroups."""
    try:
        stat_fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        statm_fields = Path(f"/proc/{pid}/statm").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # After the command name: utime and stime are fields 14 and 15 of stat, i.e. indexes 11 and 12 here.
    ticks = int(stat_fields[11]) + int(stat_fields[12])
    cpu_nanoseconds = ticks * 1_000_000_000 // _CLOCK_TICKS
    resident_bytes = int(statm_fields[1]) * _PAGE_SIZE
    return ContainerStats(now, cpu_nanoseconds, resident_bytes)
