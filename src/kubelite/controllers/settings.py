"""The controller-manager's settings: one nested dataclass, a docstring per field.

Defaults are kube-controller-manager's (Kubernetes 1.32) unless a field says otherwise; the CLI
exposes the ones operators tune as flags of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NodeLifecycleSettings:
    """How node health is judged from Lease heartbeats, and how fast pods are evicted."""

    #: --node-monitor-grace-period: a node whose Lease (and Ready condition) was not renewed for
    #: this long becomes Ready=Unknown and gets the `unreachable` taint.
    grace_period: float = 40.0
    #: --node-monitor-period: how often every node's health is checked.
    monitor_period: float = 5.0
    #: --node-startup-grace-period: a node that never reported gets this long before it is lost.
    startup_grace_period: float = 60.0
    #: --node-eviction-rate: nodes per second whose pods are evicted in a healthy zone.
    eviction_rate: float = 0.1
    #: --secondary-node-eviction-rate: the rate once a large zone is partially disrupted.
    secondary_eviction_rate: float = 0.01
    #: --unhealthy-zone-threshold: the share of not-Ready nodes (at least 3) above which a zone
    #: is partially disrupted and evictions slow down.
    unhealthy_zone_threshold: float = 0.55
    #: --large-cluster-size-threshold: zones at most this large stop evicting when partially
    #: disrupted (the secondary rate drops to 0 there).
    large_cluster_size_threshold: int = 50


@dataclass(frozen=True, slots=True)
class LeaderElectionFlags:
    """--leader-elect and its timings (see `kubelite.client.leaderelection`)."""

    #: Run only while holding the `kube-controller-manager` Lease in kube-system.
    enabled: bool = False
    lease_name: str = "kube-controller-manager"
    namespace: str = "kube-system"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


@dataclass(frozen=True, slots=True)
class ControllerManagerSettings:
    """Everything `run_controller_manager` needs besides a client, a clock and a stop event."""

    #: Which controllers run: names, "*" for all, "-name" to leave one out (--controllers).
    controllers: tuple[str, ...] = ("*",)
    #: Concurrent syncs per controller, by controller name; others get `default_workers`.
    workers: dict[str, int] = field(
        default_factory=lambda: {"garbagecollector": 20, "namespace": 10, "nodelifecycle": 1}
    )
    #: --concurrent-*-syncs for controllers not listed in `workers`.
    default_workers: int = 5
    #: --min-resync-period: how often informers redeliver every object (0: never).
    resync_period: float = 0.0
    #: The Events' `source.component`.
    component: str = "kubelite-controller-manager"
    #: This process's identity for leader election and Events (host name plus a suffix).
    identity: str = ""
    #: Seed for the jitter of informers, so that runs are reproducible.
    seed: int = 0
    leader_election: LeaderElectionFlags = field(default_factory=LeaderElectionFlags)
    node_lifecycle: NodeLifecycleSettings = field(default_factory=NodeLifecycleSettings)

    def workers_for(self, name: str) -> int:
        return self.workers.get(name, self.default_workers)

    def enabled(self, name: str) -> bool:
        """kube-controller-manager's --controllers rule: explicit "-name" wins, then name or "*"."""
        if f"-{name}" in self.controllers:
            return False
        return name in self.controllers or "*" in self.controllers
