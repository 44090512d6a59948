"""Pure Deployment arithmetic: fenceposts, rolling steps, proportional scaling, hashing, history."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.client.events import format_time
from kubelite.controllers import deployment_rollout as rollout
from kubelite.controllers import deployment_util as du


def deployment(replicas: int, surge: Any = "25%", unavailable: Any = "25%", **spec: Any) -> dict[str, Any]:
    body = {
        "replicas": replicas,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
        },
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        },
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    body.update(spec)
    return {"metadata": {"name": "web", "generation": 1}, "spec": body, "status": {}}


def rs(name: str, replicas: int, available: int, created: str, **annotations: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "uid": name,
            "creationTimestamp": created,
            "annotations": dict(annotations),
        },
        "spec": {"replicas": replicas},
        "status": {"replicas": replicas, "availableReplicas": available},
    }


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [(10, "25%", "25%", (3, 2)), (1, "25%", "25%", (1, 0)), (4, 0, 0, (0, 1)), (3, 1, "50%", (1, 1))],
    ids=["ten-default", "one-default", "both-zero-allows-one", "mixed"],
)
def test_fenceposts(replicas: int, surge: Any, unavailable: Any, expected: tuple[int, int]) -> None:
    d = deployment(replicas, surge, unavailable)
    assert (du.max_surge(d), du.max_unavailable(d)) == expected


def test_rolling_update_walks_within_surge_and_unavailability() -> None:
    d = deployment(4, 1, 1)
    old = rs("old", 4, 4, "2024-01-01T00:00:00Z")
    new = rs("new", 0, 0, "2024-01-02T00:00:00Z")
    [step] = rollout.plan_rolling_new(d, [old, new], new)
    assert (step.previous, step.size) == (0, 1)  # surge of one: 5 pods at most
    # With the new pod not yet available, only one old pod may go (4 - 1 unavailable = 3 must stay).
    steps = rollout.plan_rolling_old(d, [old], new)
    assert [(s.replicaset["metadata"]["name"], s.size) for s in steps] == [("old", 3)]


def test_unhealthy_old_replicas_are_cleaned_up_first() -> None:
    d = deployment(4, 1, 1)
    broken = rs("broken", 2, 0, "2024-01-01T00:00:00Z")
    healthy = rs("healthy", 2, 2, "2024-01-02T00:00:00Z")
    new = rs("new", 1, 1, "2024-01-03T00:00:00Z")
    steps = rollout.plan_rolling_old(d, [broken, healthy], new)
    assert (steps[0].replicaset["metadata"]["name"], steps[0].size) == ("broken", 0)


def test_proportional_scaling_spreads_by_size_and_gives_leftovers_to_the_largest() -> None:
    d = deployment(20, 3, 2)  # was 10 with surge 3: max-replicas annotation 13
    old = rs("old", 8, 8, "2024-01-01T00:00:00Z", **{du.MAX_REPLICAS_ANNOTATION: "13"})
    new = rs("new", 5, 0, "2024-01-02T00:00:00Z", **{du.MAX_REPLICAS_ANNOTATION: "13"})
    steps = rollout.plan_proportional(d, new, [old])
    sizes = {s.replicaset["metadata"]["name"]: s.size for s in steps}
    assert sum(sizes.values()) == 23  # 20 + surge 3
    assert sizes == {"old": 14, "new": 9}


def test_single_active_replicaset_takes_the_whole_scale() -> None:
    d = deployment(7)
    only = rs("only", 3, 3, "2024-01-01T00:00:00Z")
    [step] = rollout.plan_proportional(d, only, [rs("empty", 0, 0, "2023-01-01T00:00:00Z")])
    assert (step.replicaset["metadata"]["name"], step.size, step.direction) == ("only", 7, "up")


def test_hash_ignores_its_own_label_and_changes_with_collisions() -> None:
    template = deployment(1)["spec"]["template"]
    first = du.compute_hash(template, None)
    assert first == du.compute_hash(template, None)
    assert first != du.compute_hash(template, 1)
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")
    labelled = {**template, "metadata": {"labels": {"app": "web", du.POD_TEMPLATE_HASH_LABEL: first}}}
    assert du.equal_ignore_hash(template, labelled)


def test_history_keeps_the_newest_revisions_and_only_prunes_empty_sets() -> None:
    d = deployment(1, revisionHistoryLimit=1)
    old = [
        rs(f"r{i}", 0, 0, f"2024-01-0{i}T00:00:00Z", **{du.REVISION_ANNOTATION: str(i)}) for i in (1, 2, 3)
    ]
    old[0]["spec"]["replicas"] = 1  # still scaled: never deleted
    names = [r["metadata"]["name"] for r in rollout.history_to_delete(d, old)]
    assert names == ["r2"]


def test_rollback_annotation_history() -> None:
    d = deployment(1)
    target = rs("r1", 0, 0, "2024-01-01T00:00:00Z", **{du.REVISION_ANNOTATION: "1"})
    assert du.set_new_replicaset_annotations(d, target, 3, exists=True)
    annotations = target["metadata"]["annotations"]
    assert (annotations[du.REVISION_ANNOTATION], annotations[du.REVISION_HISTORY_ANNOTATION]) == ("3", "1")


@pytest.mark.parametrize(
    ("reason", "updated_ago", "timed_out"),
    [
        (du.REASON_RS_UPDATED, 50, False),
        (du.REASON_RS_UPDATED, 700, True),
        (du.REASON_NEW_RS_AVAILABLE, 700, False),
    ],
    ids=["within-deadline", "past-deadline", "complete-never-times-out"],
)
def test_progress_deadline(reason: str, updated_ago: float, timed_out: bool) -> None:
    now = 1_700_000_000.0
    condition = du.new_condition("Progressing", "True", reason, "", format_time(now - updated_ago))
    assert du.deployment_timed_out(deployment(1), {"conditions": [condition]}, now) is timed_out
