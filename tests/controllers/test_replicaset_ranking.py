"""Pure ReplicaSet logic: which pods go first on scale-down, slow-start batches, claim decisions."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.labels import selector_from_object
from kubelite.client.events import format_time
from kubelite.controllers.rs_claims import decide_claim
from kubelite.controllers.rs_pods import is_pod_available, pods_to_delete, slow_start_batches

NOW = 1_700_000_000.0


def pod(
    name: str,
    *,
    node: str = "n1",
    phase: str = "Running",
    ready_for: float | None = 1000.0,
    created_ago: float = 5000.0,
    restarts: int = 0,
    cost: str | None = None,
) -> dict[str, Any]:
    conditions = []
    if ready_for is not None:
        conditions = [{"type": "Ready", "status": "True", "lastTransitionTime": format_time(NOW - ready_for)}]
    meta: dict[str, Any] = {"name": name, "uid": name, "creationTimestamp": format_time(NOW - created_ago)}
    if cost is not None:
        meta["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": cost}
    return {
        "metadata": meta,
        "spec": {"nodeName": node} if node else {},
        "status": {
            "phase": phase,
            "conditions": conditions,
            "containerStatuses": [{"restartCount": restarts}],
        },
    }


RANKING = [
    ("unassigned-before-assigned", pod("a", node=""), pod("b")),
    ("pending-before-running", pod("a", phase="Pending", ready_for=None), pod("b")),
    ("not-ready-before-ready", pod("a", ready_for=None), pod("b")),
    ("lower-deletion-cost-first", pod("a", cost="-5"), pod("b", cost="10")),
    ("doubled-up-node-first", pod("a", node="crowded"), pod("b", node="n1")),
    ("recently-ready-first", pod("a", ready_for=10), pod("b", ready_for=100_000)),
    ("more-restarts-first", pod("a", restarts=5), pod("b")),
    ("newer-first", pod("a", created_ago=10), pod("b", created_ago=100_000)),
]


@pytest.mark.parametrize(("first", "second"), [(a, b) for _, a, b in RANKING], ids=[i for i, _, _ in RANKING])
def test_scale_down_order(first: dict[str, Any], second: dict[str, Any]) -> None:
    related = [first, second, pod("x", node="crowded"), pod("y", node="crowded")]
    for order in ([first, second], [second, first]):
        assert pods_to_delete(order, related, 1, NOW) == [first]


def test_similar_ages_fall_in_one_bucket_and_tie_break_by_uid() -> None:
    # 1200 s and 1300 s share the log2 bucket of nanoseconds [2^40, 2^41), so age does not decide;
    # 1000 s is one bucket younger, so it goes first whatever its uid.
    assert (
        pods_to_delete([pod("a", ready_for=1200), pod("b", ready_for=1000)], [], 1, NOW)[0]["metadata"]["uid"]
        == "b"
    )
    assert (
        pods_to_delete([pod("b", ready_for=1200), pod("a", ready_for=1300)], [], 1, NOW)[0]["metadata"]["uid"]
        == "a"
    )


@pytest.mark.parametrize(
    ("total", "batches"),
    [(0, []), (1, [1]), (3, [1, 2]), (10, [1, 2, 4, 3]), (16, [1, 2, 4, 8, 1])],
    ids=["none", "one", "three", "ten", "sixteen"],
)
def test_slow_start_batches(total: int, batches: list[int]) -> None:
    assert list(slow_start_batches(total)) == batches


@pytest.mark.parametrize(
    ("min_ready", "ready_for", "available"),
    [(0, 0.0, True), (10, 5.0, False), (10, 10.0, False), (10, 11.0, True)],
    ids=["no-min-ready", "too-early", "exactly-at-boundary", "after"],
)
def test_availability_needs_min_ready_seconds(min_ready: int, ready_for: float, available: bool) -> None:
    assert is_pod_available(pod("a", ready_for=ready_for), min_ready, NOW) is available


OWNER = {"metadata": {"uid": "rs-1", "name": "web"}}
DELETING_OWNER = {"metadata": {"uid": "rs-1", "name": "web", "deletionTimestamp": "2024-01-01T00:00:00Z"}}
MINE = [{"controller": True, "uid": "rs-1", "kind": "ReplicaSet", "name": "web"}]
THEIRS = [{"controller": True, "uid": "rs-2", "kind": "ReplicaSet", "name": "other"}]


@pytest.mark.parametrize(
    ("owner", "labels", "references", "decision"),
    [
        (OWNER, {"app": "web"}, MINE, "claim"),
        (OWNER, {"app": "other"}, MINE, "release"),
        (DELETING_OWNER, {"app": "other"}, MINE, "ignore"),
        (OWNER, {"app": "web"}, THEIRS, "ignore"),
        (OWNER, {"app": "web"}, None, "adopt"),
        (DELETING_OWNER, {"app": "web"}, None, "ignore"),
        (OWNER, {"app": "other"}, None, "ignore"),
    ],
    ids=[
        "owned-match",
        "owned-mismatch",
        "owner-deleting-keeps",
        "other-owner",
        "orphan",
        "no-adopt-while-deleting",
        "orphan-mismatch",
    ],
)
def test_claim_decisions(
    owner: dict[str, Any], labels: dict[str, str], references: Any, decision: str
) -> None:
    dependent: dict[str, Any] = {"metadata": {"name": "p", "uid": "p", "labels": labels}}
    if references:
        dependent["metadata"]["ownerReferences"] = references
    selector = selector_from_object({"matchLabels": {"app": "web"}})
    assert decide_claim(owner, "rs-1", selector, dependent) == decision
