"""Rollout planning for Deployments: what size each ReplicaSet gets next, and the new status.

Pure functions, after Kubernetes' `pkg/controller/deployment/{rolling,recreate,sync,progress}.go`.
Planners take copies of the Deployment's ReplicaSets, decide, and return `Scale` steps in the
order the controller must write them; the controller applies them and records events. Because
Kubernetes' own code reads back each scaled ReplicaSet before the next decision, planners update
the in-memory copies as they go, so later steps see earlier ones.

- `plan_rolling_new` / `plan_rolling_old`: scale the new ReplicaSet up within maxSurge, then the
  old ones down within maxUnavailable (unhealthy old replicas first, oldest ReplicaSets first);
- `plan_proportional`: a scaling event in the middle of a rollout spreads the difference over
  the active ReplicaSets in proportion to their size (largest, then newest, take leftovers);
- `deployment_status` and `rollout_status`: the counts and the Available / Progressing /
  ReplicaFailure conditions, including progressDeadlineSeconds;
- `history_to_delete`: old, empty ReplicaSets beyond revisionHistoryLimit, oldest revision first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kubelite.client.events import format_time, parse_time
from kubelite.controllers import deployment_util as du

JSONObject = dict[str, Any]
Direction = Literal["up", "down", ""]


@dataclass(frozen=True, slots=True)
class Scale:
    """Set one ReplicaSet's replicas (and its desired/max annotations) to `size`."""

    replicaset: JSONObject
    previous: int
    size: int
    direction: Direction


def _resize(replicaset: JSONObject, size: int) -> None:
    replicaset.setdefault("spec", {})["replicas"] = size


def scale_to(replicaset: JSONObject, size: int) -> list[Scale]:
    """scaleReplicaSetAndRecordEvent: nothing when the size already matches."""
    current = du.spec_replicas(replicaset)
    if current == size:
        return []
    _resize(replicaset, size)
    return [Scale(replicaset, current, size, "up" if size > current else "down")]


def plan_rolling_new(
    deployment: Mapping[str, Any], all_replicasets: Sequence[JSONObject], new: JSONObject
) -> list[Scale]:
    """reconcileNewReplicaSet."""
    desired = du.spec_replicas(deployment)
    current = du.spec_replicas(new)
    if current == desired:
        return []
    if current > desired:
        return scale_to(new, desired)
    return scale_to(new, du.new_rs_new_replicas(deployment, all_replicasets, new))


def plan_rolling_old(
    deployment: Mapping[str, Any], old: Sequence[JSONObject], new: JSONObject | None
) -> list[Scale]:
    """reconcileOldReplicaSets: clean up unhealthy old replicas, then scale down within budget."""
    active_old = du.active(old)
    if du.total_spec_replicas(active_old) == 0:
        return []
    all_sets: list[JSONObject | None] = [*active_old, new]
    min_available = du.spec_replicas(deployment) - du.max_unavailable(deployment)
    new_unavailable = (
        du.spec_replicas(new) - du.status_int(new, "availableReplicas") if new is not None else 0
    )
    max_scaled_down = du.total_spec_replicas(all_sets) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return []
    steps: list[Scale] = []
    cleaned = 0
    # Unhealthy replicas would otherwise block the rollout until its deadline (kubernetes#16737).
    for replicaset in du.by_creation(active_old):
        if cleaned >= max_scaled_down:
            break
        size, available = du.spec_replicas(replicaset), du.status_int(replicaset, "availableReplicas")
        if size == 0 or size == available:
            continue
        count = min(max_scaled_down - cleaned, size - available)
        steps.extend(scale_to(replicaset, size - count))
        cleaned += count
    available_total = du.total_status(all_sets, "availableReplicas")
    if available_total <= min_available:
        return steps
    budget = available_total - min_available
    scaled = 0
    for replicaset in du.by_creation(active_old):
        if scaled >= budget:
            break
        size = du.spec_replicas(replicaset)
        if size == 0:
            continue
        count = min(size, budget - scaled)
        steps.extend(scale_to(replicaset, size - count))
        scaled += count
    return steps


def find_active_or_latest(new: JSONObject | None, old: Sequence[JSONObject]) -> JSONObject | None:
    """The only active ReplicaSet, or the newest one if none is active; None if several are."""
    if new is None and not old:
        return None
    newest_first = list(reversed(du.by_creation(old)))
    active_sets = du.active([*newest_first, new])
    if len(active_sets) == 0:
        return new if new is not None else newest_first[0]
    return active_sets[0] if len(active_sets) == 1 else None


def _created(replicaset: Mapping[str, Any]) -> str:
    return str(du.section(replicaset, "metadata").get("creationTimestamp") or "")


def plan_proportional(
    deployment: Mapping[str, Any], new: JSONObject | None, old: Sequence[JSONObject]
) -> list[Scale]:
    """The `scale` step of sync.go: resize ReplicaSets after `spec.replicas` changed."""
    desired = du.spec_replicas(deployment)
    only = find_active_or_latest(new, old)
    if only is not None:
        return scale_to(only, desired)
    if du.is_saturated(deployment, new):
        return [step for replicaset in du.active(old) for step in scale_to(replicaset, 0)]
    if not du.is_rolling_update(deployment):
        return []
    active_sets = du.active([*old, new])
    allowed = desired + du.max_surge(deployment) if desired > 0 else 0
    to_add = allowed - du.total_spec_replicas(active_sets)
    direction: Direction = "up" if to_add > 0 else "down" if to_add < 0 else ""
    # Larger first; among equals, newer first when growing and older first when shrinking.
    active_sets.sort(key=_created, reverse=to_add > 0)
    active_sets.sort(key=du.spec_replicas, reverse=True)
    sizes: dict[int, int] = {}
    added = 0
    for index, replicaset in enumerate(active_sets):
        share = du.proportion(replicaset, deployment, to_add, added) if to_add else 0
        sizes[index] = du.spec_replicas(replicaset) + share
        added += share
    steps: list[Scale] = []
    for index, replicaset in enumerate(active_sets):
        size = sizes[index]
        if index == 0 and to_add:
            size = max(0, size + to_add - added)
        previous = du.spec_replicas(replicaset)
        _resize(replicaset, size)
        steps.append(Scale(replicaset, previous, size, direction))
    return steps


def deployment_status(
    deployment: Mapping[str, Any],
    all_replicasets: Sequence[JSONObject | None],
    new: JSONObject | None,
    now: float,
) -> JSONObject:
    """calculateStatus: counts summed over the ReplicaSets, plus the Available condition."""
    available = du.total_status(all_replicasets, "availableReplicas")
    total = du.total_spec_replicas(all_replicasets)
    old_status = du.section(deployment, "status")
    status: JSONObject = {
        "observedGeneration": du.section(deployment, "metadata").get("generation") or 0,
        "replicas": du.total_status(all_replicasets, "replicas"),
        "updatedReplicas": du.total_status([new], "replicas"),
        "readyReplicas": du.total_status(all_replicasets, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(0, total - available),
    }
    if old_status.get("collisionCount") is not None:
        status["collisionCount"] = old_status["collisionCount"]
    if old_status.get("conditions"):
        status["conditions"] = [dict(condition) for condition in old_status["conditions"]]
    stamp = format_time(now)
    if available >= du.spec_replicas(deployment) - du.max_unavailable(deployment):
        condition = du.new_condition(
            "Available", "True", du.REASON_MIN_AVAILABLE, "Deployment has minimum availability.", stamp
        )
    else:
        condition = du.new_condition(
            "Available",
            "False",
            du.REASON_MIN_UNAVAILABLE,
            "Deployment does not have minimum availability.",
            stamp,
        )
    du.set_condition(status, condition)
    return status


def rollout_status(
    deployment: Mapping[str, Any],
    all_replicasets: Sequence[JSONObject | None],
    new: JSONObject | None,
    now: float,
) -> JSONObject:
    """syncRolloutStatus: the status plus Progressing (with its deadline) and ReplicaFailure."""
    status = deployment_status(deployment, all_replicasets, new, now)
    name = du.name_of(deployment)
    subject = f'ReplicaSet "{du.name_of(new)}"' if new is not None else f'Deployment "{name}"'
    stamp = format_time(now)
    if du.progress_deadline(deployment) is None:
        du.remove_condition(status, "Progressing")
    current = du.get_condition(du.section(deployment, "status"), "Progressing")
    complete_before = (
        status["replicas"] == status["updatedReplicas"]
        and current is not None
        and current.get("reason") == du.REASON_NEW_RS_AVAILABLE
    )
    if du.progress_deadline(deployment) is not None and not complete_before:
        if du.deployment_complete(deployment, status):
            du.set_condition(
                status,
                du.new_condition(
                    "Progressing",
                    "True",
                    du.REASON_NEW_RS_AVAILABLE,
                    f"{subject} has successfully progressed.",
                    stamp,
                ),
            )
        elif du.deployment_progressing(deployment, status):
            condition = du.new_condition(
                "Progressing", "True", du.REASON_RS_UPDATED, f"{subject} is progressing.", stamp
            )
            # Progress moves lastUpdateTime even when the reason stays the same.
            if current is not None:
                if current.get("status") == "True":
                    condition["lastTransitionTime"] = current.get("lastTransitionTime")
                du.remove_condition(status, "Progressing")
            du.set_condition(status, condition)
        elif du.deployment_timed_out(deployment, status, now):
            du.set_condition(
                status,
                du.new_condition(
                    "Progressing",
                    "False",
                    du.REASON_TIMED_OUT,
                    f"{subject} has timed out progressing.",
                    stamp,
                ),
            )
    failure = next(
        (
            du.get_condition(du.section(rs, "status"), "ReplicaFailure")
            for rs in all_replicasets
            if rs is not None and du.get_condition(du.section(rs, "status"), "ReplicaFailure")
        ),
        None,
    )
    if failure is not None:
        du.set_condition(
            status,
            du.new_condition(
                "ReplicaFailure",
                str(failure.get("status")),
                str(failure.get("reason")),
                str(failure.get("message")),
                stamp,
            ),
        )
    else:
        du.remove_condition(status, "ReplicaFailure")
    return status


def seconds_until_deadline_check(
    deployment: Mapping[str, Any], status: Mapping[str, Any], now: float
) -> float | None:
    """requeueStuckDeployment: when to look again for a timed-out rollout (None: no need)."""
    deadline = du.progress_deadline(deployment)
    current = du.get_condition(du.section(deployment, "status"), "Progressing")
    if deadline is None or current is None:
        return None
    if du.deployment_complete(deployment, status) or current.get("reason") == du.REASON_TIMED_OUT:
        return None
    updated = parse_time(current.get("lastUpdateTime"))
    if updated is None:
        return None
    after = updated + deadline - now
    return 0.0 if after < 1 else after + 1


def history_to_delete(deployment: Mapping[str, Any], old: Sequence[JSONObject]) -> list[JSONObject]:
    """cleanupDeployment: surplus old ReplicaSets that are empty, settled and not being deleted."""
    limit = du.section(deployment, "spec").get("revisionHistoryLimit")
    if not isinstance(limit, int):
        return []
    alive = [rs for rs in old if not du.section(rs, "metadata").get("deletionTimestamp")]
    surplus = len(alive) - limit
    if surplus <= 0:
        return []
    by_revision = sorted(alive, key=lambda rs: (du.revision(rs), _created(rs)))
    return [
        rs
        for rs in by_revision[:surplus]
        if du.status_int(rs, "replicas") == 0
        and du.spec_replicas(rs) == 0
        and int(du.section(rs, "metadata").get("generation") or 0) <= du.status_int(rs, "observedGeneration")
    ]


def old_pods_running(
    new: JSONObject | None,
    old: Sequence[JSONObject],
    pods_by_owner: Mapping[str, Sequence[Mapping[str, Any]]],
) -> bool:
    """Recreate waits until no pod of an old ReplicaSet is left outside a terminal phase."""
    if du.total_status(old, "replicas") > 0:
        return True
    new_uid = du.uid_of(new) if new is not None else None
    for owner_uid, pods in pods_by_owner.items():
        if owner_uid == new_uid:
            continue
        for pod in pods:
            if du.section(pod, "status").get("phase") not in ("Failed", "Succeeded"):
                return True
    return False
