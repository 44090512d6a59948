"""Usage sampling: a CPU rate appears only once two samples exist, as in the kubelet's Summary API."""

from __future__ import annotations

from pathlib import Path

from kubelite.agent.runtime.interface import ContainerExit, ContainerStats, LogPaths
from kubelite.agent.stats import PodRef, StatsSampler


class SampledContainer:
    """A `ContainerHandle` whose usage the test dictates: 0.25 cores busy, 1 MiB resident."""

    container_id = "c"
    logs = LogPaths(Path("/dev/null"), Path("/dev/null"))

    def __init__(self) -> None:
        self.now = 100.0

    def stats(self) -> ContainerStats:
        return ContainerStats(self.now, int(self.now * 0.25e9), 1 << 20)

    def poll(self) -> ContainerExit | None:
        return None

    def wait(self, timeout: float | None = None) -> ContainerExit | None:
        return None

    def stop(self, grace_seconds: float) -> ContainerExit:
        raise AssertionError("not stopped in this test")

    def notify_exit(self, callback: object) -> None:
        pass


def test_rates_need_two_samples() -> None:
    sampler = StatsSampler("node")
    container = SampledContainer()
    pods = [(PodRef("p", "default", "uid"), [("main", "process://c", container)])]
    first = sampler.sample(100.0, pods)
    assert "usageNanoCores" not in first.node["cpu"]
    assert "usageNanoCores" not in first.pods[0]["cpu"]
    assert "usageNanoCores" not in first.pods[0]["containers"][0]["cpu"]
    container.now = 102.0
    second = sampler.sample(102.0, pods)
    assert second.pods[0]["containers"][0]["cpu"]["usageNanoCores"] == 250_000_000
    assert second.pods[0]["cpu"]["usageNanoCores"] == 250_000_000
    assert second.pods[0]["memory"]["workingSetBytes"] == 1 << 20
    assert "usageNanoCores" in second.node["cpu"]
