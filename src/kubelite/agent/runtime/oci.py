"""The oci runtime: real runc containers from the local image store.

`start` looks the image up in the `ImageStore`, writes an OCI bundle (`config.json`, runtime-spec
1.0) into the container's state directory, and runs `runc run --keep` in the foreground with the log
files as the container's stdout and stderr, so runc's own exit status is the container's. The bundle
has:
- new pid, ipc, uts and mount namespaces; the host network (no CNI here, so pods reach each other and
  the host as host-network pods do);
- the image rootfs read-only (it is shared by every container of the image) with a tmpfs on /tmp,
  the standard /proc, /dev, /sys mounts, and each volume bind-mounted at its container path;
- process args (the container's command and args, else the image's entrypoint and cmd), env (a PATH,
  then the image's, then the container's), cwd, and runc's default capability set;
- linux.resources with the memory limit (swap forbidden), CPU quota, period and shares, and pids;
- a relative cgroupsPath `<parent>/<container id>`, which runc resolves under its own cgroup, the
  same place `Cgroup` puts it, so the agent reads usage and the OOM-kill counter from it.
`--keep` leaves the container (and its cgroup) after exit so the OOM-kill counter can be read; the
handle then runs `runc delete --force`. Stop sends SIGTERM through `runc kill`, then SIGKILL.
`start` returns once runc has written `--pid-file` (the container's init exists and is about to exec
the workload), so Running means the container exists; a runc that exits first is a start failure
(`RunContainerError` with runc's last stderr line).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from kubelite.agent.cgroups import (
    CFS_PERIOD_MICROSECONDS,
    Cgroup,
    CgroupLayout,
    cpu_quota_microseconds,
    cpu_shares,
)
from kubelite.agent.images import ImageRecord, ImageStore
from kubelite.agent.runtime.interface import ContainerSpec, StartFailure
from kubelite.agent.runtime.process import DEFAULT_PATH, PopenChild, open_logs
from kubelite.agent.runtime.supervised import SupervisedContainer
from kubelite.clock import Clock

OCI_VERSION = "1.0.2"
DEFAULT_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
MASKED_PATHS = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
]  # fmt: skip
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def bundle_config(spec: ContainerSpec, image: ImageRecord, cgroups_path: str) -> dict[str, Any]:
    """The runtime-spec config.json for one container (a pure function of its inputs)."""
    argv = list(spec.argv) if spec.command else [*image.entrypoint, *(spec.args or image.cmd)]
    environment = {"PATH": DEFAULT_PATH}
    for entry in image.env:
        name, _, value = entry.partition("=")
        environment[name] = value
    environment.update(dict(spec.env))
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=1777"]},
    ]  # fmt: skip
    for mount in spec.mounts:
        options = ["rbind", "ro" if mount.read_only else "rw"]
        bind = {"destination": mount.container_path, "type": "bind", "source": str(mount.host_path)}
        mounts.append({**bind, "options": options})
    resources: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}]}
    limits = spec.limits
    if limits.memory_limit_bytes is not None:
        resources["memory"] = {"limit": limits.memory_limit_bytes, "swap": limits.memory_limit_bytes}
    cpu: dict[str, Any] = {"shares": cpu_shares(limits.cpu_request_millicores or limits.cpu_limit_millicores)}
    if limits.cpu_limit_millicores is not None:
        cpu["quota"] = cpu_quota_microseconds(limits.cpu_limit_millicores)
        cpu["period"] = CFS_PERIOD_MICROSECONDS
    resources["cpu"] = cpu
    if limits.pids_limit is not None:
        resources["pids"] = {"limit": limits.pids_limit}
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": False,
            "user": {
                "uid": spec.user_id or 0,
                "gid": spec.group_id if spec.group_id is not None else (spec.user_id or 0),
            },
            "args": argv,
            "env": [f"{name}={value}" for name, value in environment.items()],
            "cwd": spec.working_dir or image.working_dir or "/",
            "capabilities": {kind: DEFAULT_CAPABILITIES for kind in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": image.content_path, "readonly": True},
        "hostname": spec.name,
        "mounts": mounts,
        "linux": {
            "resources": resources,
            "cgroupsPath": cgroups_path,
            "namespaces": [{"type": kind} for kind in ("pid", "ipc", "uts", "mount")],
            "maskedPaths": MASKED_PATHS,
            "readonlyPaths": READONLY_PATHS,
        },
    }


# runc writes --pid-file once the container's init process exists, just before it execs the
# workload: that, not the launch of runc, is when the container is "started" (CRI StartContainer).
CREATE_TIMEOUT_SECONDS = 30.0
CREATE_CHECK_SECONDS = 0.002


def _wait_created(popen: subprocess.Popen[bytes], pid_file: Path, timeout: float) -> bool:
    """Whether runc created the container (its pid file appeared) before it exited or time ran out."""
    deadline = time.monotonic() + timeout
    while not pid_file.exists():
        if popen.poll() is not None or time.monotonic() > deadline:
            return pid_file.exists()
        time.sleep(CREATE_CHECK_SECONDS)
    return True


class OciRuntime:
    """Runs containers with runc from imported rootfs images."""

    NAME = "oci"

    def __init__(
        self,
        clock: Clock,
        cgroup_layout: CgroupLayout | None,
        images: ImageStore,
        runc_root: Path,
        runc: str = "runc",
        cgroup_parent: str = "kubelite",
    ) -> None:
        self._clock = clock
        self._layout = cgroup_layout
        self._images = images
        self._runc_root = runc_root
        self._runc = runc
        self._cgroup_parent = cgroup_parent

    def _runc_command(self, *arguments: str) -> list[str]:
        return [self._runc, "--root", str(self._runc_root), *arguments]

    def exec_command(self, container_id: str, argv: list[str]) -> list[str]:
        """The host command that runs `argv` inside a running container (exec probes)."""
        return self._runc_command("exec", container_id, *argv)

    def start(self, spec: ContainerSpec) -> SupervisedContainer | StartFailure:
        image = self._images.lookup(spec.image)
        if image is None or image.kind != "rootfs":
            return StartFailure("ErrImageNeverPull", f"image {spec.image!r} is not in the local image store")
        argv_known = bool(spec.command or image.entrypoint or image.cmd or spec.args)
        if not argv_known:
            return StartFailure("CreateContainerError", "no command specified and the image has no default")
        logs = open_logs(spec.state_dir)
        bundle = spec.state_dir / "bundle"
        bundle.mkdir(parents=True, exist_ok=True)
        relative_cgroup = f"{self._cgroup_parent}/{spec.container_id}"
        config = bundle_config(spec, image, relative_cgroup)
        (bundle / "config.json").write_text(json.dumps(config, indent=1))
        self._runc_root.mkdir(parents=True, exist_ok=True)
        pid_file = spec.state_dir / "container.pid"
        command = self._runc_command(
            "run", "--keep", "--pid-file", str(pid_file), "--bundle", str(bundle), spec.container_id
        )
        try:
            with open(logs.stdout, "ab") as output:
                popen = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True
                )
        except OSError as error:
            return StartFailure("RunContainerError", f"running runc failed: {error}")
        cgroup = Cgroup(self._layout, relative_cgroup) if self._layout is not None else None
        if not _wait_created(popen, pid_file, CREATE_TIMEOUT_SECONDS):
            # runc gave up before the container existed: a start failure, as CRI reports it.
            if popen.poll() is None:
                popen.kill()
                popen.wait()
            subprocess.run(self._runc_command("delete", "--force", spec.container_id), capture_output=True, check=False)
            if cgroup is not None:
                cgroup.remove()
            detail = logs.stderr.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            return StartFailure("RunContainerError", f"runc could not create the container: {detail[0]}")

        def send_signal(signal_number: int) -> None:
            subprocess.run(
                self._runc_command("kill", spec.container_id, str(signal_number)),
                capture_output=True,
                check=False,
            )

        def delete_container() -> None:
            delete = self._runc_command("delete", "--force", spec.container_id)
            subprocess.run(delete, capture_output=True, check=False)

        return SupervisedContainer(
            spec.container_id,
            PopenChild(popen),
            cgroup,
            logs,
            spec.state_dir,
            self._clock,
            self._clock.now(),
            send_signal=send_signal,
            on_release=delete_container,
        )
