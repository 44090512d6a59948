"""The agent's Prometheus metrics, on a registry of its own (never the module-global default).

Names follow the kubelet's where one exists (`kubelet_running_pods`, `kubelet_running_containers`,
`kubelet_pod_start_duration_seconds`), prefixed `kubelite_agent_` so that they are not mistaken for
a real kubelet's. The endpoint serves `exposition()` at `/metrics`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class AgentMetrics:
    def __init__(self, node_name: str) -> None:
        self.registry = CollectorRegistry()
        labels = ["node"]
        self._node = node_name
        self.running_pods = Gauge(
            "kubelite_agent_running_pods", "Pods with a running container.", labels, registry=self.registry
        )
        self.running_containers = Gauge(
            "kubelite_agent_running_containers", "Running containers.", labels, registry=self.registry
        )
        self.pod_start_seconds = Histogram(
            "kubelite_agent_pod_start_duration_seconds",
            "From the pod's first sighting by the agent to all its containers started.",
            labels,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.container_restarts = Counter(
            "kubelite_agent_container_restarts", "Container restarts.", labels, registry=self.registry
        )
        self.admission_rejections = Counter(
            "kubelite_agent_admission_rejections",
            "Pods rejected at admission.",
            labels,
            registry=self.registry,
        )
        self.node_cpu_nanocores = Gauge(
            "kubelite_agent_node_cpu_usage_nanocores", "Node CPU usage.", labels, registry=self.registry
        )
        self.node_memory_bytes = Gauge(
            "kubelite_agent_node_memory_working_set_bytes",
            "Node memory working set.",
            labels,
            registry=self.registry,
        )

    @property
    def node(self) -> str:
        return self._node

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
