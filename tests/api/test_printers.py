"""Table printers: Kubernetes' columns per kind, derived STATUS cells and HumanDuration ages."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.printers import human_duration, print_table
from kubelite.api.resources import (
    DEPLOYMENTS,
    EVENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    NODES,
    PODS,
    RESOURCE_TYPES,
    SERVICES,
    ResourceType,
)

CREATED = "2024-01-01T00:00:00Z"
EPOCH = 1704067200.0


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (59, "59s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600 + 20 * 60, "3h20m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (2 * 86400 + 5 * 3600, "2d5h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400 + 30 * 86400, "3y30d"),
        (9 * 365 * 86400, "9y"),
    ],
    ids=str,
)
def test_human_duration(seconds: int, expected: str) -> None:
    assert human_duration(seconds) == expected


COLUMNS = [
    (
        PODS,
        ["Name", "Ready", "Status", "Restarts", "Age"],
        ["IP", "Node", "Nominated Node", "Readiness Gates"],
    ),
    (NODES, ["Name", "Status", "Roles", "Age", "Version"], ["Internal-IP", "External-IP", "OS-Image"]),
    (DEPLOYMENTS, ["Name", "Ready", "Up-to-date", "Available", "Age"], ["Containers", "Images", "Selector"]),
    (SERVICES, ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"], ["Selector"]),
    (EVENTS, ["Last Seen", "Type", "Reason", "Object", "Message"], ["Subobject", "Source", "First Seen"]),
    (
        HORIZONTAL_POD_AUTOSCALERS,
        ["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"],
        [],
    ),
]


@pytest.mark.parametrize(("resource", "narrow", "wide_only"), COLUMNS, ids=[c[0].key for c in COLUMNS])
def test_columns(resource: ResourceType, narrow: list[str], wide_only: list[str]) -> None:
    definitions, _ = print_table(resource, [], EPOCH, wide=False)
    assert [d["name"] for d in definitions] == narrow
    all_definitions, _ = print_table(resource, [], EPOCH, wide=True)
    wide_names = [d["name"] for d in all_definitions if d["priority"] == 1]
    assert wide_names[: len(wide_only)] == wide_only
    assert all({"name", "type", "format", "description", "priority"} <= set(d) for d in all_definitions)


@pytest.mark.parametrize("resource", RESOURCE_TYPES, ids=[r.key for r in RESOURCE_TYPES])
def test_every_kind_prints_one_cell_per_column(resource: ResourceType) -> None:
    definitions, rows = print_table(
        resource, [{"metadata": {"name": "x", "creationTimestamp": CREATED}}], EPOCH + 90
    )
    assert len(rows) == 1 and len(rows[0]) == len(definitions)


def _pod(status: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "creationTimestamp": CREATED},
        "spec": {"containers": [{"name": "a"}], **spec},
        "status": status,
    }


RUNNING = {"name": "a", "ready": True, "restartCount": 0, "state": {"running": {}}}
POD_CASES = [
    ("pending", _pod({"phase": "Pending"}), "0/1", "Pending", "0"),
    ("running", _pod({"phase": "Running", "containerStatuses": [RUNNING]}), "1/1", "Running", "0"),
    (
        "crashloop",
        _pod(
            {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "name": "a",
                        "ready": False,
                        "restartCount": 4,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-01-01T00:01:00Z"}},
                    }
                ],
            }
        ),
        "0/1",
        "CrashLoopBackOff",
        "4 (60s ago)",
    ),
    (
        "exit-code",
        _pod(
            {
                "phase": "Failed",
                "containerStatuses": [{**RUNNING, "ready": False, "state": {"terminated": {"exitCode": 3}}}],
            }
        ),
        "0/1",
        "ExitCode:3",
        "0",
    ),
    (
        "init-progress",
        _pod(
            {
                "phase": "Pending",
                "initContainerStatuses": [{"name": "i", "ready": False, "restartCount": 0, "state": {}}],
            },
            initContainers=[{"name": "i"}, {"name": "j"}],
        ),
        "0/1",
        "Init:0/2",
        "0",
    ),
    (
        "terminating",
        {**_pod({"phase": "Running"}), "metadata": {"name": "web", "deletionTimestamp": CREATED}},
        "0/1",
        "Terminating",
        "0",
    ),
]


@pytest.mark.parametrize(
    ("pod", "ready", "status", "restarts"), [c[1:] for c in POD_CASES], ids=[c[0] for c in POD_CASES]
)
def test_pod_rows(pod: dict[str, Any], ready: str, status: str, restarts: str) -> None:
    _, (row,) = print_table(PODS, [pod], EPOCH + 120, wide=False)
    assert row[1:4] == [ready, status, restarts]


def test_node_and_deployment_rows() -> None:
    node = {
        "metadata": {
            "name": "n1",
            "creationTimestamp": CREATED,
            "labels": {"node-role.kubernetes.io/control-plane": ""},
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.32.0"},
        },
    }
    _, (row,) = print_table(NODES, [node], EPOCH + 3600, wide=False)
    assert row == ["n1", "Ready,SchedulingDisabled", "control-plane", "60m", "v1.32.0"]
    deployment = {
        "metadata": {"name": "web", "creationTimestamp": CREATED},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    _, (row,) = print_table(DEPLOYMENTS, [deployment], EPOCH + 30)
    assert row == ["web", "2/3", 3, 2, "30s", "c", "nginx", "app=web"]
