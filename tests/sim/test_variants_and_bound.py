"""Synthetic OpenB variants hit their requested mix, and the share-packing bound is exact on small cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubelite.cli.sim import app
from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.sim.openb.bound import packing_patterns, share_packing_bound
from kubelite.sim.openb.trace import TraceNode, TracePod, read_pods
from kubelite.sim.openb.variants import VariantKind, synthesise, write_pods

NODES = [TraceNode("g2", 96000, 2**38, 8, "G2"), TraceNode("t4", 104000, 2**38, 2, "T4")]


def share(milli: int) -> PodDemand:
    return PodDemand(4000, 0, 1, milli)


def trace(count: int) -> list[TracePod]:
    """A mix of shares, whole GPUs, 4-GPU and CPU-only pods."""
    kinds = [share(470), PodDemand(8000, 0, 1, 1000), PodDemand(32000, 0, 4, 1000), PodDemand(16000, 0, 0, 0)]
    return [TracePod(f"p{i}", kinds[i % len(kinds)]) for i in range(count)]


@pytest.mark.parametrize(
    ("kind", "percent", "member"),
    [
        pytest.param("share", 80, lambda d: d.is_shared, id="share-80"),
        pytest.param("multi", 50, lambda d: d.gpu_count > 1, id="multi-50"),
    ],
)
def test_resampled_variant_has_the_requested_share_of_gpu_pods(
    kind: VariantKind, percent: int, member: Callable[[PodDemand], bool]
) -> None:
    pods = trace(400)
    variant = synthesise(pods, NODES, kind, percent, seed=1)
    gpu_pods = [p.demand for p in variant if p.demand.gpu_count > 0]
    assert len(variant) == len(pods)
    assert sum(1 for p in variant if p.demand.gpu_count == 0) == 100
    assert sum(1 for d in gpu_pods if member(d)) == round(len(gpu_pods) * percent / 100)
    assert len({p.name for p in variant}) == len(variant)


def test_model_constraints_go_to_models_that_can_host_the_pod() -> None:
    variant = synthesise(trace(4000), NODES, "spec", 50, seed=3)
    constrained = [p.demand for p in variant if p.demand.allowed_models]
    gpu_pods = sum(1 for p in variant if p.demand.gpu_count > 0)
    assert 0.45 < len(constrained) / gpu_pods < 0.55
    assert all(d.gpu_count > 0 for d in constrained)
    # A 4-GPU pod only fits the 8-GPU G2 node; otherwise G2 is 8 of the 10 GPUs.
    assert all(d.allowed_models == {"G2"} for d in constrained if d.gpu_count == 4)
    singles = [d for d in constrained if d.gpu_count == 1]
    assert 0.7 < sum(1 for d in singles if d.allowed_models == {"G2"}) / len(singles) < 0.9


def test_written_variant_reads_back(tmp_path: Path) -> None:
    variant = synthesise(trace(40), NODES, "spec", 100, seed=0)
    write_pods(tmp_path / "v.csv", variant)
    assert [p.demand for p in read_pods(tmp_path / "v.csv")] == [p.demand for p in variant]


def test_patterns_are_every_fitting_multiset() -> None:
    patterns = packing_patterns([300, 600], capacity=1000)
    assert sorted(map(tuple, patterns.T.tolist())) == [(0, 1), (1, 0), (1, 1), (2, 0), (3, 0)]


@pytest.mark.parametrize(
    ("shares", "whole_gpus", "all_placed", "any_policy"),
    [
        # Two 500s fill a GPU exactly: nothing is lost.
        pytest.param([500, 500], 3, 0.0, 0.0, id="perfect-pairs"),
        # Each 810 wastes 190 when placed; failing a fraction f of them costs 810 f, and
        # 810 f = 190 (1 - f) at f = 0.19, i.e. 153.9 per 810-pod.
        pytest.param([810] * 10, 0, 1900.0, 1539.0, id="unpairable-810s"),
        # 810 + 190 pair exactly.
        pytest.param([810, 190], 1, 0.0, 0.0, id="complements"),
    ],
)
def test_share_packing_bound(
    shares: list[int], whole_gpus: int, all_placed: float, any_policy: float
) -> None:
    demands = [share(m) for m in shares] + [PodDemand(1000, 0, 1, 1000)] * whole_gpus
    bound = share_packing_bound(demands)
    assert bound.all_shares_placed_milli == pytest.approx(all_placed, abs=1e-6)
    assert bound.any_policy_milli == pytest.approx(any_policy, abs=1e-6)
    assert bound.trace_gpu_milli == sum(shares) + 1000 * whole_gpus


def test_cli_writes_a_variant_and_bounds_it(tmp_path: Path) -> None:
    nodes_csv, pods_csv, out = tmp_path / "nodes.csv", tmp_path / "pods.csv", tmp_path / "variant.csv"
    nodes_csv.write_text("sn,cpu_milli,memory_mib,gpu,model\ng2,96000,262144,8,G2\n")
    write_pods(pods_csv, trace(80))
    runner = CliRunner()
    args = ["openb-variant", "--nodes", str(nodes_csv), "--pods", str(pods_csv), "--kind", "share"]
    result = runner.invoke(app, [*args, "--percent", "100", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert all(p.demand.gpu_count == 0 or p.demand.is_shared for p in read_pods(out))
    bound = runner.invoke(app, ["openb-bound", "--pods", str(out)])
    assert bound.exit_code == 0, bound.output
    # 470s pair into 940: 60 of every 1000 milli lost when all are placed.
    figures = json.loads(bound.output)["unallocated_gpu_percent_at_100"]
    assert figures["every_share_placed"] == pytest.approx(100 * 60 / 940, abs=0.01)
    bad = runner.invoke(app, [*args[:-1], "nope", "--percent", "5", "--out", str(out)])
    assert bad.exit_code != 0
