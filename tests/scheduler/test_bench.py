"""The benchmark runs every workload end to end at a small scale and schedules every pod."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.scheduler.bench import Workload, run_in_process


@pytest.mark.parametrize("workload", ["basic", "spread", "affinity", "mixed"])
def test_every_workload_schedules_all_pods(workload: Workload) -> None:
    result = asyncio.run(run_in_process(nodes=60, pods=150, existing_pods=30, workload=workload))
    assert result.scheduled == 150 and result.unschedulable == 0
    assert result.mode == "in-process" and result.pods_per_second > 0
    assert 0 < result.p50_latency_ms <= result.p99_latency_ms
