"""Linux control groups for containers: detection, limits, OOM detection, usage and cleanup.

The agent creates one cgroup per container under a parent ("kubelite" below the agent's own cgroup,
as a delegated subtree, so the host's own limits on the agent still bound every container). It works
on either layout a host may have:
- v1 (including the "hybrid" layout where /sys/fs/cgroup/unified holds an empty v2 tree): one
  hierarchy per controller; the agent uses memory, cpu, cpuacct and pids.
- v2 (unified): one hierarchy at /sys/fs/cgroup with memory.max, cpu.max, cpu.weight and pids.max.

Limits follow the kubelet's conversions (pkg/kubelet/cm/helpers_linux.go): shares = millicores *
1024 / 1000 (at least 2), CFS quota = millicores * period / 1000 with a 100 ms period and a 1 ms
floor, and the v2 weight derived from shares as in the OCI-to-v2 mapping used by runc and crun.
The kernel's own OOM-kill counter (v1 memory.oom_control "oom_kill", v2 memory.events "oom_kill") is
what marks a container OOMKilled. Memory usage is the working set, usage minus inactive file pages,
which is what the kubelet and `kubectl top` report.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CgroupVersion = Literal["v1", "v2"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids")
CFS_PERIOD_MICROSECONDS = 100_000
MIN_CFS_QUOTA_MICROSECONDS = 1_000
MIN_CPU_SHARES = 2
MAX_CPU_SHARES = 262_144


@dataclass(frozen=True)
class CgroupLayout:
    """Which cgroup version the host has and where each controller's hierarchy is mounted."""

    version: CgroupVersion
    mounts: dict[str, Path]
    own_paths: dict[str, str]


def detect_layout(mounts_text: str | None = None, self_cgroup_text: str | None = None) -> CgroupLayout | None:
    """Read /proc/self/mounts and /proc/self/cgroup; None when no usable cgroup controllers exist."""
    if mounts_text is None:
        mounts_text = Path("/proc/self/mounts").read_text()
    if self_cgroup_text is None:
        self_cgroup_text = Path("/proc/self/cgroup").read_text()
    v1_mounts: dict[str, Path] = {}
    v2_mount: Path | None = None
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        mount_point, fs_type, options = Path(fields[1]), fields[2], fields[3].split(",")
        if fs_type == "cgroup":
            for controller in V1_CONTROLLERS:
                if controller in options:
                    v1_mounts[controller] = mount_point
        elif fs_type == "cgroup2":
            v2_mount = mount_point
    own_v1: dict[str, str] = {}
    own_v2 = "/"
    for line in self_cgroup_text.splitlines():
        hierarchy_id, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy_id == "0" and controllers == "":
            own_v2 = path
        for controller in controllers.split(","):
            own_v1[controller] = path
    if "memory" in v1_mounts:
        return CgroupLayout("v1", v1_mounts, {name: own_v1.get(name, "/") for name in v1_mounts})
    if v2_mount is not None and (v2_mount / "cgroup.controllers").exists():
        enabled = (v2_mount / "cgroup.controllers").read_text().split()
        if "memory" in enabled:
            return CgroupLayout("v2", {"unified": v2_mount}, {"unified": own_v2})
    return None


def cpu_shares(request_millicores: int | None) -> int:
    """The kubelet's MilliCPUToShares."""
    if request_millicores is None or request_millicores <= 0:
        return MIN_CPU_SHARES
    return max(MIN_CPU_SHARES, min(MAX_CPU_SHARES, request_millicores * 1024 // 1000))


def cpu_quota_microseconds(limit_millicores: int) -> int:
    """The kubelet's MilliCPUToQuota for the default 100 ms CFS period."""
    return max(MIN_CFS_QUOTA_MICROSECONDS, limit_millicores * CFS_PERIOD_MICROSECONDS // 1000)


def cpu_weight_from_shares(shares: int) -> int:
    """cgroup v2 cpu.weight (1..10000) for a v1 shares value, as runc and crun convert it."""
    return 1 + ((shares - 2) * 9999) // 262142


@dataclass(frozen=True)
class CgroupLimits:
    """What to write into a container's cgroup. None leaves a controller unlimited."""

    memory_bytes: int | None = None
    cpu_limit_millicores: int | None = None
    cpu_request_millicores: int | None = None
    pids: int | None = None


PlanAction = Literal["mkdir", "write", "write_if_exists"]
PlanStep = tuple[PlanAction, Path, str]


@dataclass(frozen=True)
class CgroupPlan:
    """The file system steps that create a cgroup and set its limits, in order.

    The agent can run them itself (`execute`) or hand them to the container's own shell step
    (`shell`), which keeps a dozen GIL-releasing system calls per start off the agent's threads:
    under a busy event loop each re-acquisition of the GIL waits up to a switch interval."""

    steps: tuple[PlanStep, ...]

    def execute(self) -> None:
        for action, path, value in self.steps:
            if action == "mkdir":
                path.mkdir(parents=True, exist_ok=True)
            elif action == "write" or path.exists():
                _write(path, value)

    def shell(self) -> str:
        """The same steps as POSIX shell commands, each failing the script (exit 125) on error."""
        commands = []
        for action, path, value in self.steps:
            target, text = shlex.quote(str(path)), shlex.quote(value)
            if action == "mkdir":
                commands.append(f"mkdir -p {target} || exit 125")
            elif action == "write":
                commands.append(f"echo {text} > {target} || exit 125")
            else:
                commands.append(f"if [ -e {target} ]; then echo {text} > {target} || exit 125; fi")
        return "; ".join(commands)


class Cgroup:
    """One container's cgroup, at the same relative path in every hierarchy the agent uses."""

    def __init__(self, layout: CgroupLayout, relative_path: str) -> None:
        self.layout = layout
        self.relative_path = relative_path.strip("/")

    def directory(self, controller: str) -> Path:
        """The directory of this cgroup in `controller`'s hierarchy ("unified" on v2)."""
        hierarchy = "unified" if self.layout.version == "v2" else controller
        own = self.layout.own_paths[hierarchy].strip("/")
        return self.layout.mounts[hierarchy] / own / self.relative_path

    def directories(self) -> list[Path]:
        if self.layout.version == "v2":
            return [self.directory("unified")]
        return [self.directory(name) for name in V1_CONTROLLERS if name in self.layout.mounts]

    def create(self, limits: CgroupLimits) -> None:
        """Make the directories and write the limits."""
        self.plan(limits).execute()

    def plan(self, limits: CgroupLimits) -> CgroupPlan:
        """The steps that create this cgroup with `limits`, to run here or in the container's shell."""
        steps: list[PlanStep] = []
        if self.layout.version == "v2":
            # In v2 a child only gets a controller its parent enables in cgroup.subtree_control.
            top = self.layout.mounts["unified"] / self.layout.own_paths["unified"].strip("/")
            current = top
            for part in self.directory("unified").relative_to(top).parts:
                steps.append(("mkdir", current, ""))
                steps.append(("write", current / "cgroup.subtree_control", "+memory +cpu +pids"))
                current = current / part
        steps.extend(("mkdir", directory, "") for directory in self.directories())
        steps.extend(self._limits_v1(limits) if self.layout.version == "v1" else self._limits_v2(limits))
        return CgroupPlan(tuple(steps))

    def _limits_v1(self, limits: CgroupLimits) -> list[PlanStep]:
        steps: list[PlanStep] = []
        if limits.memory_bytes is not None:
            memory = self.directory("memory")
            steps.append(("write", memory / "memory.limit_in_bytes", str(limits.memory_bytes)))
            # Without swap accounting the limit above already bounds memory; with it, forbid swap.
            steps.append(("write_if_exists", memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes)))
        cpu = self.directory("cpu")
        shares = cpu_shares(limits.cpu_request_millicores or limits.cpu_limit_millicores)
        steps.append(("write", cpu / "cpu.shares", str(shares)))
        if limits.cpu_limit_millicores is not None:
            steps.append(("write", cpu / "cpu.cfs_period_us", str(CFS_PERIOD_MICROSECONDS)))
            quota = cpu_quota_microseconds(limits.cpu_limit_millicores)
            steps.append(("write", cpu / "cpu.cfs_quota_us", str(quota)))
        if limits.pids is not None and "pids" in self.layout.mounts:
            steps.append(("write", self.directory("pids") / "pids.max", str(limits.pids)))
        return steps

    def _limits_v2(self, limits: CgroupLimits) -> list[PlanStep]:
        directory = self.directory("unified")
        steps: list[PlanStep] = []
        if limits.memory_bytes is not None:
            steps.append(("write", directory / "memory.max", str(limits.memory_bytes)))
            steps.append(("write_if_exists", directory / "memory.swap.max", "0"))
        shares = cpu_shares(limits.cpu_request_millicores or limits.cpu_limit_millicores)
        steps.append(("write", directory / "cpu.weight", str(cpu_weight_from_shares(shares))))
        if limits.cpu_limit_millicores is not None:
            quota = cpu_quota_microseconds(limits.cpu_limit_millicores)
            steps.append(("write", directory / "cpu.max", f"{quota} {CFS_PERIOD_MICROSECONDS}"))
        if limits.pids is not None:
            steps.append(("write", directory / "pids.max", str(limits.pids)))
        return steps

    def procs_files(self) -> list[Path]:
        """The cgroup.procs files a new process writes its pid into to join this cgroup."""
        return [directory / "cgroup.procs" for directory in self.directories()]

    def add_process(self, pid: int) -> None:
        for procs in self.procs_files():
            _write(procs, str(pid))

    def pids(self) -> list[int]:
        procs = self.procs_files()[0]
        try:
            return [int(line) for line in procs.read_text().split()]
        except FileNotFoundError:
            return []

    def oom_kill_count(self) -> int:
        """How many processes the kernel's OOM killer has killed in this cgroup."""
        if self.layout.version == "v1":
            text = _read(self.directory("memory") / "memory.oom_control")
        else:
            text = _read(self.directory("unified") / "memory.events")
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def cpu_usage_nanoseconds(self) -> int:
        if self.layout.version == "v1":
            text = _read(self.directory("cpuacct") / "cpuacct.usage").strip()
            return int(text) if text else 0
        for line in _read(self.directory("unified") / "cpu.stat").splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) * 1000
        return 0

    def memory_working_set_bytes(self) -> int:
        if self.layout.version == "v1":
            usage_text = _read(self.directory("memory") / "memory.usage_in_bytes").strip()
            stat = _parse_stat(_read(self.directory("memory") / "memory.stat"))
            inactive_file = stat.get("total_inactive_file", 0)
        else:
            usage_text = _read(self.directory("unified") / "memory.current").strip()
            inactive_file = _parse_stat(_read(self.directory("unified") / "memory.stat")).get(
                "inactive_file", 0
            )
        usage = int(usage_text) if usage_text else 0
        return max(0, usage - inactive_file)

    def kill_all(self, signal_number: int) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal_number)

    def remove(self, timeout: float = 2.0) -> bool:
        """Remove the directories (they must be empty of processes); True when all are gone."""
        deadline = time.monotonic() + timeout
        remaining = [directory for directory in self.directories() if directory.exists()]
        while remaining:
            still: list[Path] = []
            for directory in remaining:
                try:
                    directory.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    still.append(directory)
            remaining = still
            if not remaining or time.monotonic() > deadline:
                break
            # The kernel frees a cgroup a moment after its last process is reaped.
            time.sleep(0.01)
        return not remaining


def _parse_stat(text: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            values[key] = int(value)
    return values


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _write(path: Path, value: str) -> None:
    # os-level I/O only: this also runs between fork and exec, where buffered file objects are unsafe.
    descriptor = os.open(path, os.O_WRONLY)
    try:
        os.write(descriptor, value.encode())
    finally:
        os.close(descriptor)
