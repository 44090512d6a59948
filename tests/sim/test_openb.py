"""OpenB replay: arrival sequence, metric, and placements that never over-commit (every policy)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kubelite.cli.sim import app
from kubelite.scheduler.gpu.policies import POLICIES
from kubelite.sim.openb.metrics import unallocated_gpu_percent
from kubelite.sim.openb.trace import arrival_sequence, gpu_capacity_milli, read_nodes, read_pods

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "openb"
NODES = DATA / "openb_node_list_gpu_node.csv"
PODS = DATA / "openb_pod_list_default.csv"
needs_data = pytest.mark.skipif(not NODES.exists(), reason="OpenB data not present")


def small_trace(tmp_path: Path, node_count: int = 60, pod_count: int = 400) -> tuple[Path, Path]:
    """The first rows of the real trace, so a run takes about a second."""
    paths = []
    for source, count in ((NODES, node_count), (PODS, pod_count)):
        lines = source.read_text().splitlines()[: count + 1]
        target = tmp_path / source.name
        target.write_text("\n".join(lines) + "\n")
        paths.append(target)
    return paths[0], paths[1]


@needs_data
def test_arrivals_are_a_shuffle_then_copies_up_to_130_percent() -> None:
    nodes, pods = read_nodes(NODES), read_pods(PODS)
    capacity = gpu_capacity_milli(nodes)
    arrivals = arrival_sequence(pods, capacity, seed=42)
    assert sorted(p.name for p in arrivals[: len(pods)]) == sorted(p.name for p in pods)
    assert [p.name for p in arrivals[: len(pods)]] != [p.name for p in pods]
    demand = sum(p.demand.total_gpu_milli for p in arrivals)
    assert 1.29 * capacity < demand <= 1.3 * capacity
    assert capacity == 6212 * 1000


def test_metric_averages_the_arrivals_that_round_to_each_checkpoint() -> None:
    arrived = np.array([890, 995, 1000, 1004, 1200])
    allocated = np.array([890, 950, 960, 970, 980])
    result = unallocated_gpu_percent(arrived, allocated, 1000, checkpoints=(100, 120, 130))
    assert result == {100: pytest.approx(100 - 96.0), 120: pytest.approx(2.0)}


@needs_data
@pytest.mark.parametrize("policy", list(POLICIES))
def test_placements_never_over_commit(tmp_path: Path, policy: str) -> None:
    nodes_csv, pods_csv = small_trace(tmp_path)
    out = tmp_path / "placements.csv"
    args = ["openb", "--nodes", str(nodes_csv), "--pods", str(pods_csv), "--policy", policy]
    result = CliRunner().invoke(app, [*args, "--seeds", "2", "--json", "--placements", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary["unallocated_gpu_percent"]) >= {"100", "130"}
    capacity = {n.name: n for n in read_nodes(nodes_csv)}
    used_cpu: dict[tuple[str, str], int] = defaultdict(int)
    used_memory: dict[tuple[str, str], int] = defaultdict(int)
    used_gpu: dict[tuple[str, str, int], int] = defaultdict(int)
    rows = list(csv.DictReader(out.open()))
    assert {row["seed"] for row in rows} == {"42", "43"}
    placed = 0
    for row in rows:
        if not row["node"]:
            continue
        placed += 1
        key = (row["seed"], row["node"])
        used_cpu[key] += int(row["cpu_milli"])
        used_memory[key] += int(row["memory_mib"]) * 2**20
        for index in filter(None, row["gpu_indices"].split(",")):
            assert int(index) < capacity[row["node"]].gpu_count
            used_gpu[(*key, int(index))] += int(row["gpu_milli"])
    assert placed > 0
    assert all(used_cpu[key] <= capacity[key[1]].cpu_milli for key in used_cpu)
    assert all(used_memory[key] <= capacity[key[1]].memory_bytes for key in used_memory)
    assert all(milli <= 1000 for milli in used_gpu.values())


@needs_data
def test_unknown_policy_is_a_usage_error(tmp_path: Path) -> None:
    nodes_csv, pods_csv = small_trace(tmp_path, 5, 5)
    args = ["openb", "--nodes", str(nodes_csv), "--pods", str(pods_csv), "--policy", "Nope"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
