"""The agent's settings: who the node is, where its state lives, and how often it reports.

One frozen record, passed to `run_agent` and `run_hollow_nodes`. Intervals follow the kubelet's
defaults: the Lease is renewed every 10 s with a 40 s duration, node status is recomputed every 10 s
and written when it changed (or every 5 minutes regardless, nodeStatusReportFrequency).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_PODS = 110


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "kubelite" / "agent"


@dataclass(frozen=True)
class AgentSettings:
    """How one node agent (or one process of hollow nodes) behaves."""

    #: The Node's name (and its `kubernetes.io/hostname` label).
    node_name: str = field(default_factory=socket.gethostname)
    #: Pod state (volumes, container logs, runtime bundles) lives under here.
    data_dir: Path = field(default_factory=default_data_dir)
    #: Root of the local image store; None uses the `kubelite image` default.
    image_root: Path | None = None
    #: The node's InternalIP, and the address its endpoint (logs, stats, metrics) listens on.
    address: str = "127.0.0.1"
    #: The endpoint's port (the kubelet's 10250); 0 picks a free port, reported in the Node.
    port: int = 10250
    #: Overrides of measured capacity, as quantities: cpu, memory, ephemeral-storage, pods.
    capacity_overrides: dict[str, str] = field(default_factory=dict)
    #: Capacity kept back from pods (kube-reserved + system-reserved), as quantities.
    reserved: dict[str, str] = field(default_factory=dict)
    #: The `node.kubernetes.io/instance-type` label.
    instance_type: str = "kubelite-local"
    #: Extra node labels.
    labels: dict[str, str] = field(default_factory=dict)
    #: Lease duration and renewal interval (kubelet: 40 s and a quarter of it).
    lease_duration_seconds: int = 40
    lease_renew_seconds: float = 10.0
    #: How often node conditions are measured, and the longest gap between two status writes.
    node_status_seconds: float = 10.0
    node_status_report_seconds: float = 300.0
    #: The longest a pod worker sleeps with nothing due. Container exits are pushed by the runtimes
    #: (pidfd), so this is only a safety net, like the kubelet's periodic pod resync.
    pod_resync_seconds: float = 10.0
    #: When the agent itself stops: the longest its containers get between SIGTERM and SIGKILL
    #: (each pod's own grace period is shorter when it is). Pods keep their status and are started
    #: again when the agent comes back.
    shutdown_grace_seconds: float = 2.0
    #: How often CPU and memory usage are sampled for metrics.k8s.io.
    stats_seconds: float = 10.0
    #: The cgroup (under the agent's own) in which containers get their cgroups.
    cgroup_parent: str = "kubelite"
    #: Hollow nodes only: seconds between a pod's binding and it showing Running.
    hollow_start_delay_seconds: float = 0.0
    #: Hollow nodes only: in-flight API writes at once.
    hollow_write_concurrency: int = 32
    #: Hollow nodes only: capacity advertised by each fake node.
    hollow_capacity: dict[str, str] = field(
        default_factory=lambda: {"cpu": "32", "memory": "256Gi", "ephemeral-storage": "1Ti", "pods": "110"}
    )
