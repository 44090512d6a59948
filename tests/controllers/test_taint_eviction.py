"""Toleration matching and eviction deadlines, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.nodelifecycle import (
    NOT_READY_TAINT,
    UNREACHABLE_TAINT,
    ReadyState,
    wanted_taints,
    zone_state,
)
from kubelite.controllers.taint_eviction import eviction_time, tolerates

UNREACHABLE = {
    "key": "node.kubernetes.io/unreachable",
    "effect": "NoExecute",
    "timeAdded": "2023-11-14T22:13:20Z",
}
ADDED = 1_700_000_000.0


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}, True),
        ({"key": "node.kubernetes.io/unreachable", "operator": "Exists"}, True),
        ({"operator": "Exists"}, True),
        ({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoSchedule"}, False),
        ({"key": "node.kubernetes.io/unreachable", "value": "", "effect": "NoExecute"}, True),
        ({"key": "node.kubernetes.io/unreachable", "value": "x", "effect": "NoExecute"}, False),
        ({"operator": "Equal", "value": ""}, False),
    ],
    ids=[
        "exists",
        "exists-any-effect",
        "wildcard",
        "other-key",
        "other-effect",
        "equal",
        "wrong-value",
        "empty-key-equal",
    ],
)
def test_tolerates(toleration: dict[str, Any], expected: bool) -> None:
    assert tolerates(toleration, UNREACHABLE) is expected


def _pod(*tolerations: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"tolerations": list(tolerations)}}


def _tolerate(seconds: int | None) -> dict[str, Any]:
    toleration: dict[str, Any] = {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
    }
    if seconds is not None:
        toleration["tolerationSeconds"] = seconds
    return toleration


@pytest.mark.parametrize(
    ("pod", "taints", "expected"),
    [
        (_pod(), [UNREACHABLE], ADDED + 5),
        (_pod(_tolerate(300)), [UNREACHABLE], ADDED + 300),
        (_pod(_tolerate(300), _tolerate(30)), [UNREACHABLE], ADDED + 30),
        (_pod(_tolerate(300), _tolerate(None)), [UNREACHABLE], None),
        (_pod(_tolerate(None)), [UNREACHABLE], None),
        (_pod(), [], None),
        (_pod(_tolerate(-5)), [UNREACHABLE], ADDED),
    ],
    ids=[
        "untolerated-now",
        "default-300s",
        "shortest-wins",
        "unbounded-wins",
        "forever",
        "no-taint",
        "negative",
    ],
)
def test_eviction_time(pod: dict[str, Any], taints: list[dict[str, Any]], expected: float | None) -> None:
    assert eviction_time(pod, taints, now=ADDED + 5) == expected


@pytest.mark.parametrize(
    ("ready", "not_ready", "expected"),
    [
        (10, 0, "Normal"),
        (8, 2, "Normal"),
        (2, 2, "Normal"),
        (4, 5, "PartialDisruption"),
        (45, 55, "PartialDisruption"),
        (46, 54, "Normal"),
        (0, 1, "FullDisruption"),
        (0, 0, "Normal"),
    ],
    ids=[
        "healthy",
        "few-down",
        "two-of-four",
        "most-down",
        "at-threshold",
        "below-threshold",
        "all-down",
        "empty",
    ],
)
def test_zone_state(ready: int, not_ready: int, expected: str) -> None:
    assert zone_state(ready, not_ready, 0.55) == expected


def _node(*conditions: tuple[str, str], unschedulable: bool = False) -> dict[str, Any]:
    return {
        "spec": {"unschedulable": unschedulable},
        "status": {"conditions": [{"type": kind, "status": status} for kind, status in conditions]},
    }


@pytest.mark.parametrize(
    ("node", "state", "expected"),
    [
        (_node(("Ready", "True")), "True", set()),
        (
            _node(("Ready", "False")),
            "False",
            {(NOT_READY_TAINT, "NoSchedule"), (NOT_READY_TAINT, "NoExecute")},
        ),
        (_node(), "Unknown", {(UNREACHABLE_TAINT, "NoSchedule"), (UNREACHABLE_TAINT, "NoExecute")}),
        (
            _node(("Ready", "True"), ("MemoryPressure", "True"), ("DiskPressure", "False")),
            "True",
            {("node.kubernetes.io/memory-pressure", "NoSchedule")},
        ),
        (
            _node(("Ready", "True"), unschedulable=True),
            "True",
            {("node.kubernetes.io/unschedulable", "NoSchedule")},
        ),
        (
            _node(("NetworkUnavailable", "True"), ("PIDPressure", "True")),
            "True",
            {
                ("node.kubernetes.io/network-unavailable", "NoSchedule"),
                ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            },
        ),
    ],
    ids=["ready", "not-ready", "unreachable", "memory-pressure", "cordoned", "network-and-pid"],
)
def test_wanted_taints(node: dict[str, Any], state: ReadyState, expected: set[tuple[str, str]]) -> None:
    assert wanted_taints(node, state) == expected
