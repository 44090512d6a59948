"""Pod predicates and scale-down ranking shared by the ReplicaSet and Deployment controllers.

Pure functions over pod dicts (the wire JSON), after kube-controller-manager's
`pkg/controller/controller_utils.go` and `pkg/api/v1/pod/util.go`:

- `is_pod_active`, `is_pod_ready`, `is_pod_available` (readiness held for `minReadySeconds`);
- `pods_to_delete`: which `count` pods a ReplicaSet removes first, by `ActivePodsWithRanks`
  order (unassigned, pending, not ready, cheaper deletion cost, doubled up on a node, ready
  more recently, restarted more, created more recently), with the logarithmic time buckets of
  the LogarithmicScaleDown behaviour (GA since Kubernetes 1.31);
- `slow_start_batches`: the 1, 2, 4, ... batch sizes in which creations are issued, so that a
  quota or admission failure stops the burst after one small batch instead of a thousand calls.

Time is passed in (epoch seconds from the injected Clock); nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

from kubelite.client.events import parse_time as parse_timestamp

JSONObject = dict[str, Any]

POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
SLOW_START_INITIAL_BATCH_SIZE = 1
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _field(obj: Mapping[str, Any], section: str) -> Mapping[str, Any]:
    value = obj.get(section)
    return value if isinstance(value, Mapping) else {}


def pod_phase(pod: Mapping[str, Any]) -> str:
    return str(_field(pod, "status").get("phase") or "")


def node_name(pod: Mapping[str, Any]) -> str:
    return str(_field(pod, "spec").get("nodeName") or "")


def is_pod_active(pod: Mapping[str, Any]) -> bool:
    """Counts towards replicas: not Succeeded, not Failed, not being deleted."""
    return pod_phase(pod) not in ("Succeeded", "Failed") and not _meta(pod).get("deletionTimestamp")


def ready_condition(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for condition in _field(pod, "status").get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return condition
    return None


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def pod_ready_since(pod: Mapping[str, Any]) -> float | None:
    """When the pod last became ready, or None when it is not ready (or the time is unknown)."""
    condition = ready_condition(pod)
    if condition is None or condition.get("status") != "True":
        return None
    return parse_timestamp(condition.get("lastTransitionTime"))


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> bool:
    """Ready for at least `min_ready_seconds` (podutil.IsPodAvailable: strictly before `now`)."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = pod_ready_since(pod)
    return since is not None and since + min_ready_seconds < now


def available_after(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> float | None:
    """Seconds until a ready pod becomes available, None if not ready or already available."""
    since = pod_ready_since(pod)
    if since is None or min_ready_seconds <= 0:
        return None
    remaining = since + min_ready_seconds - now
    return remaining if remaining >= 0 else None


def deletion_cost(pod: Mapping[str, Any]) -> int:
    """The pod-deletion-cost annotation; absent or malformed counts as 0, as the controller does."""
    raw = (_meta(pod).get("annotations") or {}).get(POD_DELETION_COST_ANNOTATION)
    if raw is None:
        return 0
    try:
        value = int(str(raw))
    except ValueError:
        return 0
    return value if -(2**31) <= value < 2**31 else 0


def max_container_restarts(pod: Mapping[str, Any]) -> int:
    statuses = _field(pod, "status").get("containerStatuses") or []
    return max((int(status.get("restartCount") or 0) for status in statuses), default=0)


def _log2_bucket(moment: float, now: float) -> int:
    """Logarithmic age bucket on nanoseconds, as `logarithmicRankDiff` computes it."""
    age_ns = (now - moment) * 1e9
    return int(math.log2(age_ns)) if age_ns > 0 else -1


def _newer_first(first: float | None, second: float | None, now: float) -> int | None:
    """-1 when `first` goes first (newer), 1 when `second` does, None to fall through.

    A missing time sorts first (`afterOrZero`); equal log2 age buckets count as equal, which
    makes scale-down spread its choice across pods of a similar age.
    """
    if first == second:
        return None
    if first is None or second is None:
        return -1 if first is None else 1
    bucket_difference = _log2_bucket(first, now) - _log2_bucket(second, now)
    if bucket_difference == 0:
        return 0
    return -1 if bucket_difference < 0 else 1


def deletion_sort_key(pod: Mapping[str, Any], related_on_node: int, now: float) -> tuple[Any, ...]:
    """The leading, time-independent part of the ranking (smaller is deleted first)."""
    ready = is_pod_ready(pod)
    return (
        1 if node_name(pod) else 0,
        _PHASE_ORDINAL.get(pod_phase(pod), 0),
        1 if ready else 0,
        deletion_cost(pod),
        -related_on_node,
    )


def compare_for_deletion(
    first: Mapping[str, Any], first_rank: int, second: Mapping[str, Any], second_rank: int, now: float
) -> int:
    """ActivePodsWithRanks.Less as a three-way comparison: negative deletes `first` first."""
    key_first = deletion_sort_key(first, first_rank, now)
    key_second = deletion_sort_key(second, second_rank, now)
    if key_first != key_second:
        return -1 if key_first < key_second else 1
    uid_order = (str(_meta(first).get("uid") or ""), str(_meta(first).get("name") or "")) < (
        str(_meta(second).get("uid") or ""),
        str(_meta(second).get("name") or ""),
    )
    tie = -1 if uid_order else 1
    if is_pod_ready(first) and is_pod_ready(second):
        verdict = _newer_first(pod_ready_since(first), pod_ready_since(second), now)
        if verdict is not None:
            return tie if verdict == 0 else verdict
    restarts = max_container_restarts(first) - max_container_restarts(second)
    if restarts != 0:
        return -1 if restarts > 0 else 1
    created = _newer_first(
        parse_timestamp(_meta(first).get("creationTimestamp")),
        parse_timestamp(_meta(second).get("creationTimestamp")),
        now,
    )
    if created is not None:
        return tie if created == 0 else created
    return tie


def related_pods_per_node(related_pods: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """How many active related pods (same owner, any of its ReplicaSets) each node runs."""
    return Counter(node_name(pod) for pod in related_pods if is_pod_active(pod))


def pods_to_delete(
    pods: Sequence[JSONObject], related_pods: Sequence[Mapping[str, Any]], count: int, now: float
) -> list[JSONObject]:
    """The `count` pods to delete first (getPodsToDelete)."""
    if count >= len(pods):
        return list(pods)
    per_node = related_pods_per_node(related_pods)
    ranked = [(pod, per_node[node_name(pod)]) for pod in pods]

    def compare(first: tuple[JSONObject, int], second: tuple[JSONObject, int]) -> int:
        return compare_for_deletion(first[0], first[1], second[0], second[1], now)

    ranked.sort(key=cmp_to_key(compare))
    return [pod for pod, _ in ranked[:count]]


def slow_start_batches(total: int, initial: int = SLOW_START_INITIAL_BATCH_SIZE) -> Iterator[int]:
    """Batch sizes 1, 2, 4, ... summing to `total` (controller.slowStartBatch)."""
    remaining = total
    size = min(remaining, initial)
    while size > 0:
        yield size
        remaining -= size
        size = min(2 * size, remaining)
