"""What the agent reports about its node: capacity, allocatable, labels, addresses, conditions.

Data flow: `measure_host` reads the host (/proc/meminfo, /proc/loadavg-free counters, statvfs of the
data directory, /proc/sys/kernel/pid_max and the live process count) into a `HostReading`;
`node_capacity` turns a reading plus overrides into integer resources; `node_conditions` applies the
kubelet's default hard-eviction thresholds to the same reading (memory.available < 100Mi,
nodefs.available < 10%, and, as kubelet's pid-pressure heuristic, fewer than 10% of pid_max left);
`node_object` and `node_status` assemble the Node, and `lease_object` the heartbeat Lease in
`kube-node-lease`. Everything but `measure_host` is pure, so conditions are tested on readings.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from kubelite.agent.settings import DEFAULT_MAX_PODS, AgentSettings
from kubelite.api.quantity import format_bytes, format_milli, parse_resource

Object = dict[str, Any]
ConditionStatus = Literal["True", "False", "Unknown"]

# The kubelet's default hard-eviction thresholds (pkg/kubelet/eviction/defaults_linux.go).
MEMORY_AVAILABLE_THRESHOLD_BYTES = 100 * 2**20
NODEFS_AVAILABLE_THRESHOLD_FRACTION = 0.10
PID_AVAILABLE_THRESHOLD_FRACTION = 0.10
RUNTIME_CLASS_NAMES = ("process", "wasm", "oci")


def rfc3339(seconds: float) -> str:
    """Kubernetes' timestamp format (second precision, UTC)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(seconds: float) -> str:
    """MicroTime, as Lease renewTime uses."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class HostReading:
    """One measurement of the host, in base units."""

    cpu_count: int
    memory_total_bytes: int
    memory_available_bytes: int
    disk_total_bytes: int
    disk_available_bytes: int
    pid_max: int
    processes: int


def _meminfo() -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            values[name] = int(parts[0]) * (1024 if len(parts) > 1 else 1)
    return values


def measure_host(data_dir: Path) -> HostReading:
    """Read the host's current resources (I/O: /proc and statvfs)."""
    memory = _meminfo()
    data_dir.mkdir(parents=True, exist_ok=True)
    disk = os.statvfs(data_dir)
    processes = sum(1 for entry in os.listdir("/proc") if entry.isdigit())
    return HostReading(
        cpu_count=len(os.sched_getaffinity(0)),
        memory_total_bytes=memory.get("MemTotal", 0),
        memory_available_bytes=memory.get("MemAvailable", memory.get("MemFree", 0)),
        disk_total_bytes=disk.f_blocks * disk.f_frsize,
        disk_available_bytes=disk.f_bavail * disk.f_frsize,
        pid_max=int(Path("/proc/sys/kernel/pid_max").read_text()),
        processes=processes,
    )


def node_capacity(reading: HostReading, overrides: dict[str, str]) -> dict[str, int]:
    """Capacity in base units (cpu in millicores); an override replaces the measured value."""
    capacity = {
        "cpu": reading.cpu_count * 1000,
        "memory": reading.memory_total_bytes,
        "ephemeral-storage": reading.disk_total_bytes,
        "pods": DEFAULT_MAX_PODS,
    }
    for name, quantity in overrides.items():
        capacity[name] = parse_resource(name, quantity)
    return capacity


def node_allocatable(capacity: dict[str, int], reserved: dict[str, str]) -> dict[str, int]:
    """Capacity minus what is reserved for the system, never below zero."""
    allocatable = dict(capacity)
    for name, quantity in reserved.items():
        allocatable[name] = max(0, allocatable.get(name, 0) - parse_resource(name, quantity))
    return allocatable


def format_resources(resources: dict[str, int]) -> dict[str, str]:
    """Base units back to the quantity strings the API carries."""
    formatted: dict[str, str] = {}
    for name, value in resources.items():
        if name == "cpu":
            formatted[name] = format_milli(value)
        elif name in ("memory", "ephemeral-storage"):
            formatted[name] = format_bytes(value)
        else:
            formatted[name] = str(value)
    return formatted


@dataclass(frozen=True)
class ConditionReading:
    type: str
    status: ConditionStatus
    reason: str
    message: str


def node_conditions(reading: HostReading, runtimes_ready: bool = True) -> list[ConditionReading]:
    """Ready and the three pressure conditions, from a reading (the kubelet's reasons and messages)."""
    memory_pressure = reading.memory_available_bytes < MEMORY_AVAILABLE_THRESHOLD_BYTES
    disk_pressure = reading.disk_total_bytes > 0 and (
        reading.disk_available_bytes < reading.disk_total_bytes * NODEFS_AVAILABLE_THRESHOLD_FRACTION
    )
    pid_pressure = reading.pid_max - reading.processes < reading.pid_max * PID_AVAILABLE_THRESHOLD_FRACTION
    conditions = [
        ConditionReading(
            "MemoryPressure",
            "True" if memory_pressure else "False",
            "KubeletHasInsufficientMemory" if memory_pressure else "KubeletHasSufficientMemory",
            "kubelet has insufficient memory available"
            if memory_pressure
            else "kubelet has sufficient memory available",
        ),
        ConditionReading(
            "DiskPressure",
            "True" if disk_pressure else "False",
            "KubeletHasDiskPressure" if disk_pressure else "KubeletHasNoDiskPressure",
            "kubelet has disk pressure" if disk_pressure else "kubelet has no disk pressure",
        ),
        ConditionReading(
            "PIDPressure",
            "True" if pid_pressure else "False",
            "KubeletHasInsufficientPID" if pid_pressure else "KubeletHasSufficientPID",
            "kubelet has insufficient PID available"
            if pid_pressure
            else "kubelet has sufficient PID available",
        ),
    ]
    ready_message = "kubelet is posting ready status" if runtimes_ready else "container runtime is down"
    conditions.append(
        ConditionReading(
            "Ready",
            "True" if runtimes_ready else "False",
            "KubeletReady" if runtimes_ready else "KubeletNotReady",
            ready_message,
        )
    )
    return conditions


def condition_objects(readings: list[ConditionReading], previous: list[Object], now: float) -> list[Object]:
    """Conditions as the API carries them; lastTransitionTime moves only when the status changes."""
    earlier = {str(item.get("type")): item for item in previous}
    stamp = rfc3339(now)
    result = []
    for reading in readings:
        before = earlier.get(reading.type)
        transition = (
            str(before.get("lastTransitionTime"))
            if before is not None and before.get("status") == reading.status
            else stamp
        )
        result.append(
            {
                "type": reading.type,
                "status": reading.status,
                "reason": reading.reason,
                "message": reading.message,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": transition,
            }
        )
    return result


def node_labels(settings: AgentSettings, node_name: str) -> dict[str, str]:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "kubernetes.io/hostname": node_name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": arch,
        "node.kubernetes.io/instance-type": settings.instance_type,
        **settings.labels,
    }


def node_status(
    capacity: dict[str, int],
    allocatable: dict[str, int],
    conditions: list[Object],
    address: str,
    hostname: str,
    port: int,
) -> Object:
    return {
        "capacity": format_resources(capacity),
        "allocatable": format_resources(allocatable),
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": hostname}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        "nodeInfo": {
            "machineID": "",
            "systemUUID": "",
            "bootID": "",
            "kernelVersion": platform.release(),
            "osImage": platform.platform(),
            "containerRuntimeVersion": "kubelite://" + ",".join(RUNTIME_CLASS_NAMES),
            "kubeletVersion": "v1.32.0-kubelite",
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": node_labels_arch(),
        },
    }


def node_labels_arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def node_object(name: str, labels: dict[str, str], status: Object) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {},
        "status": status,
    }


def lease_object(node_name: str, node_uid: str, duration_seconds: int, now: float) -> Object:
    """The node's heartbeat Lease, owned by its Node so it goes when the Node does."""
    metadata: Object = {"name": node_name, "namespace": "kube-node-lease"}
    if node_uid:
        metadata["ownerReferences"] = [
            {"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node_uid}
        ]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {
            "holderIdentity": node_name,
            "leaseDurationSeconds": duration_seconds,
            "renewTime": rfc3339_micro(now),
        },
    }


def runtime_class_objects() -> list[Object]:
    """One RuntimeClass per runtime; the handler is the runtime's name, as CRI handlers are."""
    return [
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "kubelite"}},
            "handler": name,
        }
        for name in RUNTIME_CLASS_NAMES
    ]
