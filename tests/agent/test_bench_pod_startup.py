"""`kubelite bench pod-startup` end to end on a few pods: every pod starts and every stage is timed.

A smoke test of the benchmark's plumbing (server, scheduler, agent, load-generator process); the
latency figures themselves are measured with the CLI, not asserted here.
"""

from __future__ import annotations

import asyncio

import pytest

from kubelite.cli.bench_pod_startup import STAGES, measure

pytestmark = pytest.mark.timeout(60)


def test_few_pods_start_and_every_stage_is_stamped() -> None:
    result = asyncio.run(measure("process", 5, 20.0, "", None))
    assert (result["started"], result["pods"]) == (5, 5)
    stages = result["stages_since_create"]
    assert set(stages) == set(STAGES)
    assert all(stages[stage]["p50_ms"] is not None for stage in STAGES), stages
    # The agent writes Running before any watcher can see it; everything follows the create.
    assert stages["running_written"]["p50_ms"] <= stages["running_seen"]["p50_ms"]
    assert 0 <= stages["create_acknowledged"]["p50_ms"] <= result["p50_ms"]
    assert result["sustained_pods_per_second"] > 0
