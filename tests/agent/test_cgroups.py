"""cgroup layout detection from mount tables, and the kubelet's CPU conversions."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.agent.cgroups import (
    cpu_quota_microseconds,
    cpu_shares,
    cpu_weight_from_shares,
    detect_layout,
)

HYBRID_MOUNTS = """\
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
"""
HYBRID_SELF = "8:pids:/\n4:memory:/agents/a1\n2:cpuacct:/\n1:cpu:/\n0::/\n"


def test_hybrid_host_uses_v1_controllers_under_the_agents_own_cgroup() -> None:
    layout = detect_layout(HYBRID_MOUNTS, HYBRID_SELF)
    assert layout is not None and layout.version == "v1"
    assert layout.mounts["memory"] == Path("/sys/fs/cgroup/memory")
    assert layout.own_paths["memory"] == "/agents/a1"
    assert layout.own_paths["cpu"] == "/"


def test_no_cgroups_gives_no_layout() -> None:
    assert detect_layout("proc /proc proc rw 0 0\n", "0::/\n") is None


@pytest.mark.parametrize(
    ("millicores", "shares"),
    [(None, 2), (0, 2), (1, 2), (100, 102), (250, 256), (1000, 1024), (10**6, 262144)],
    ids=["unset", "zero", "tiny", "100m", "250m", "1-core", "huge"],
)
def test_cpu_shares(millicores: int | None, shares: int) -> None:
    assert cpu_shares(millicores) == shares


@pytest.mark.parametrize(
    ("millicores", "quota"),
    [(5, 1000), (250, 25000), (1500, 150000)],
    ids=["floor", "quarter", "one-and-half"],
)
def test_cpu_quota(millicores: int, quota: int) -> None:
    assert cpu_quota_microseconds(millicores) == quota


@pytest.mark.parametrize(
    ("shares", "weight"), [(2, 1), (1024, 39), (262144, 10000)], ids=["min", "default", "max"]
)
def test_cpu_weight(shares: int, weight: int) -> None:
    assert cpu_weight_from_shares(shares) == weight
