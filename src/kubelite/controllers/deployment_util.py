"""Deployment arithmetic and bookkeeping: hashes, revisions, annotations, surge and conditions.

Pure functions over Deployment and ReplicaSet dicts, after Kubernetes'
`pkg/controller/deployment/util/deployment_util.go`:

- the `pod-template-hash` label (FNV-1a 32 over the canonical JSON of the pod template and the
  collision count, spelled with Kubernetes' vowel-free alphabet so it never forms words);
- new and old ReplicaSets (`find_new_replicaset`, `find_old_replicasets`): the new one is the
  oldest ReplicaSet whose template equals the Deployment's, ignoring the hash label;
- revisions and the annotations `deployment.kubernetes.io/revision`, `revision-history`,
  `desired-replicas` and `max-replicas`, and the Deployment annotations a ReplicaSet inherits
  (so `kubernetes.io/change-cause` shows in `kubectl rollout history`);
- `max_surge` / `max_unavailable` (percentages round surge up and unavailability down, and both
  zero becomes one unavailable), `new_rs_new_replicas` and the proportional-scaling fraction;
- Deployment conditions (`set_condition` keeps lastTransitionTime while the status holds) and
  the rollout predicates `deployment_complete`, `deployment_progressing`, `deployment_timed_out`.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubelite.client.events import parse_time as parse_timestamp

JSONObject = dict[str, Any]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
DEPRECATED_ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
MAX_REVISION_HISTORY_CHARS = 2000
_NO_DEADLINE = 2**31 - 1
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Condition reasons, as kubectl and users match on them.
REASON_FOUND_NEW_RS = "FoundNewReplicaSet"
REASON_NEW_RS_CREATED = "NewReplicaSetCreated"
REASON_RS_UPDATED = "ReplicaSetUpdated"
REASON_NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
REASON_TIMED_OUT = "ProgressDeadlineExceeded"
REASON_FAILED_RS_CREATE = "ReplicaSetCreateError"
REASON_PAUSED = "DeploymentPaused"
REASON_RESUMED = "DeploymentResumed"
REASON_MIN_AVAILABLE = "MinimumReplicasAvailable"
REASON_MIN_UNAVAILABLE = "MinimumReplicasUnavailable"
_SKIPPED_ANNOTATIONS = frozenset(
    {
        LAST_APPLIED_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        DEPRECATED_ROLLBACK_TO_ANNOTATION,
    }
)


def section(obj: Mapping[str, Any], *path: str) -> JSONObject:
    """The nested dict at `path`, or an empty dict (never None) when any step is missing."""
    value: Any = obj
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, dict) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str(section(obj, "metadata").get("name") or "")


def uid_of(obj: Mapping[str, Any]) -> str:
    return str(section(obj, "metadata").get("uid") or "")


def spec_replicas(obj: Mapping[str, Any]) -> int:
    value = section(obj, "spec").get("replicas")
    return int(value) if isinstance(value, int) else 1


def status_int(obj: Mapping[str, Any], field: str) -> int:
    value = section(obj, "status").get(field)
    return int(value) if isinstance(value, int) else 0


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(section(obj, "metadata").get("annotations") or {})


# --- hashing ------------------------------------------------------------------------------------


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: each character mapped into a vowel-free alphabet."""
    return "".join(_SAFE_ALPHABET[ord(character) % len(_SAFE_ALPHABET)] for character in text)


def compute_hash(template: Mapping[str, Any], collision_count: int | None) -> str:
    """The pod-template-hash of a template; a collision count perturbs it after a clash."""
    value = 0x811C9DC5
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += collision_count.to_bytes(4, "little", signed=False)
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return safe_encode(str(value))


def template_without_hash(template: Mapping[str, Any]) -> JSONObject:
    stripped = copy.deepcopy(dict(template))
    labels = section(stripped, "metadata").get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
        if not labels:
            stripped["metadata"].pop("labels")
    return stripped


def equal_ignore_hash(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    return template_without_hash(first) == template_without_hash(second)


# --- ReplicaSet families ------------------------------------------------------------------------


def by_creation(replicasets: Iterable[JSONObject]) -> list[JSONObject]:
    """Oldest first, then by name (ReplicaSetsByCreationTimestamp)."""
    return sorted(
        replicasets,
        key=lambda rs: (str(section(rs, "metadata").get("creationTimestamp") or ""), name_of(rs)),
    )


def find_new_replicaset(deployment: Mapping[str, Any], replicasets: Sequence[JSONObject]) -> JSONObject | None:
    template = section(deployment, "spec", "template")
    for replicaset in by_creation(replicasets):
        if equal_ignore_hash(section(replicaset, "spec", "template"), template):
            return replicaset
    return None


def find_old_replicasets(
    replicasets: Sequence[JSONObject], new_replicaset: JSONObject | None
) -> list[JSONObject]:
    new_uid = uid_of(new_replicaset) if new_replicaset is not None else None
    return [replicaset for replicaset in replicasets if uid_of(replicaset) != new_uid]


def active(replicasets: Iterable[JSONObject | None]) -> list[JSONObject]:
    """ReplicaSets that want pods (FilterActiveReplicaSets)."""
    return [rs for rs in replicasets if rs is not None and spec_replicas(rs) > 0]


def total_spec_replicas(replicasets: Iterable[JSONObject | None]) -> int:
    return sum(spec_replicas(rs) for rs in replicasets if rs is not None)


def total_status(replicasets: Iterable[JSONObject | None], field: str) -> int:
    return sum(status_int(rs, field) for rs in replicasets if rs is not None)


# --- revisions and annotations ------------------------------------------------------------------


def revision(obj: Mapping[str, Any]) -> int:
    try:
        return int(annotations_of(obj).get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def max_revision(replicasets: Iterable[JSONObject]) -> int:
    return max((revision(rs) for rs in replicasets), default=0)


def _annotation_int(obj: Mapping[str, Any], key: str) -> int | None:
    try:
        return int(annotations_of(obj)[key])
    except (KeyError, ValueError):
        return None


def desired_replicas_annotation(obj: Mapping[str, Any]) -> int | None:
    return _annotation_int(obj, DESIRED_REPLICAS_ANNOTATION)


def replicas_annotations_need_update(replicaset: Mapping[str, Any], desired: int, max_replicas: int) -> bool:
    annotations = annotations_of(replicaset)
    return annotations.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or annotations.get(
        MAX_REPLICAS_ANNOTATION
    ) != str(max_replicas)


def set_replicas_annotations(replicaset: JSONObject, desired: int, max_replicas: int) -> bool:
    """Record the Deployment's size on the ReplicaSet; True if anything changed."""
    if not replicas_annotations_need_update(replicaset, desired, max_replicas):
        return False
    annotations = replicaset.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[DESIRED_REPLICAS_ANNOTATION] = str(desired)
    annotations[MAX_REPLICAS_ANNOTATION] = str(max_replicas)
    return True


def copy_deployment_annotations(deployment: Mapping[str, Any], replicaset: JSONObject) -> bool:
    """Deployment annotations flow to its new ReplicaSet, except the controller's own keys."""
    annotations = replicaset.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in annotations_of(deployment).items():
        if key in _SKIPPED_ANNOTATIONS or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    return changed


def set_new_replicaset_annotations(
    deployment: Mapping[str, Any], replicaset: JSONObject, new_revision: int, exists: bool
) -> bool:
    """SetNewReplicaSetAnnotations: copied annotations, the revision and its history."""
    changed = copy_deployment_annotations(deployment, replicaset)
    annotations = replicaset["metadata"]["annotations"]
    old_text = annotations.get(REVISION_ANNOTATION)
    old_revision = revision(replicaset)
    if old_revision < new_revision:
        annotations[REVISION_ANNOTATION] = str(new_revision)
        changed = True
        if old_text is not None:
            # A ReplicaSet that gets a newer revision is being rolled back to: keep its old numbers.
            history = [part for part in annotations.get(REVISION_HISTORY_ANNOTATION, "").split(",") if part]
            history.append(str(old_text))
            while history and len(",".join(history)) > MAX_REVISION_HISTORY_CHARS:
                history.pop(0)
            annotations[REVISION_HISTORY_ANNOTATION] = ",".join(history)
    if not exists:
        desired = spec_replicas(deployment)
        changed = set_replicas_annotations(replicaset, desired, desired + max_surge(deployment)) or changed
    return changed


# --- rollout arithmetic -------------------------------------------------------------------------


def is_rolling_update(deployment: Mapping[str, Any]) -> bool:
    return bool(section(deployment, "spec", "strategy").get("type", "RollingUpdate") == "RollingUpdate")


def scaled_value(value: int | str | None, total: int, round_up: bool, default: str = "25%") -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    value = default if value is None else value
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%"):
        return int(text)
    scaled = int(text[:-1]) * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def resolve_fenceposts(deployment: Mapping[str, Any]) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as pod counts; both zero would deadlock, so allow one unavailable."""
    rolling = section(deployment, "spec", "strategy", "rollingUpdate")
    desired = spec_replicas(deployment)
    surge = scaled_value(rolling.get("maxSurge"), desired, round_up=True)
    unavailable = scaled_value(rolling.get("maxUnavailable"), desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(deployment: Mapping[str, Any]) -> int:
    return resolve_fenceposts(deployment)[0] if is_rolling_update(deployment) else 0


def max_unavailable(deployment: Mapping[str, Any]) -> int:
    desired = spec_replicas(deployment)
    if not is_rolling_update(deployment) or desired == 0:
        return 0
    return min(resolve_fenceposts(deployment)[1], desired)


def new_rs_new_replicas(
    deployment: Mapping[str, Any], all_replicasets: Sequence[JSONObject | None], new_replicaset: JSONObject
) -> int:
    """How big the new ReplicaSet may grow this round (NewRSNewReplicas)."""
    desired = spec_replicas(deployment)
    if not is_rolling_update(deployment):
        return desired
    current = total_spec_replicas(all_replicasets)
    ceiling = desired + max_surge(deployment)
    if current >= ceiling:
        return spec_replicas(new_replicaset)
    scale_up = min(ceiling - current, desired - spec_replicas(new_replicaset))
    return spec_replicas(new_replicaset) + scale_up


def is_saturated(deployment: Mapping[str, Any], replicaset: Mapping[str, Any] | None) -> bool:
    if replicaset is None:
        return False
    desired = spec_replicas(deployment)
    return (
        spec_replicas(replicaset) == desired
        and desired_replicas_annotation(replicaset) == desired
        and status_int(replicaset, "availableReplicas") == desired
    )


def _round_half_away(value: float) -> int:
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def proportion(
    replicaset: Mapping[str, Any], deployment: Mapping[str, Any], to_add: int, added: int
) -> int:
    """A ReplicaSet's share of a scaling event, bounded by what is left to add (GetProportion)."""
    current = spec_replicas(replicaset)
    if current == 0 or to_add == 0 or to_add == added:
        return 0
    desired = spec_replicas(deployment)
    if desired == 0:
        fraction = -current
    else:
        target = desired + max_surge(deployment)
        annotated = _annotation_int(replicaset, MAX_REPLICAS_ANNOTATION)
        if annotated is None:
            annotated = status_int(deployment, "replicas")
        fraction = _round_half_away(current * target / annotated) - current if annotated else 0
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


# --- conditions ---------------------------------------------------------------------------------


def get_condition(status: Mapping[str, Any], condition_type: str) -> JSONObject | None:
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == condition_type:
            return condition
    return None


def new_condition(condition_type: str, status: str, reason: str, message: str, now: str) -> JSONObject:
    return {
        "type": condition_type,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def set_condition(status: JSONObject, condition: JSONObject) -> None:
    """Replace the condition of that type unless status and reason are unchanged."""
    current = get_condition(status, condition["type"])
    if current is not None and current.get("status") == condition["status"]:
        if current.get("reason") == condition["reason"]:
            return
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    remove_condition(status, condition["type"])
    status.setdefault("conditions", []).append(condition)


def remove_condition(status: JSONObject, condition_type: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != condition_type]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def progress_deadline(deployment: Mapping[str, Any]) -> int | None:
    value = section(deployment, "spec").get("progressDeadlineSeconds")
    return int(value) if isinstance(value, int) and value != _NO_DEADLINE else None


def observed_generation_current(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    generation = section(deployment, "metadata").get("generation") or 0
    return int(status.get("observedGeneration") or 0) >= int(generation)


def deployment_complete(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    desired = spec_replicas(deployment)
    return (
        int(status.get("updatedReplicas") or 0) == desired
        and int(status.get("replicas") or 0) == desired
        and int(status.get("availableReplicas") or 0) == desired
        and observed_generation_current(deployment, status)
    )


def deployment_progressing(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """More updated, fewer old, more ready or more available pods than the stored status says."""
    old = section(deployment, "status")

    def count(source: Mapping[str, Any], field: str) -> int:
        return int(source.get(field) or 0)

    old_old_pods = count(old, "replicas") - count(old, "updatedReplicas")
    new_old_pods = count(status, "replicas") - count(status, "updatedReplicas")
    return (
        count(status, "updatedReplicas") > count(old, "updatedReplicas")
        or new_old_pods < old_old_pods
        or count(status, "readyReplicas") > count(old, "readyReplicas")
        or count(status, "availableReplicas") > count(old, "availableReplicas")
    )


def deployment_timed_out(deployment: Mapping[str, Any], status: Mapping[str, Any], now: float) -> bool:
    """The Progressing condition has not moved for progressDeadlineSeconds."""
    deadline = progress_deadline(deployment)
    condition = get_condition(status, "Progressing")
    if deadline is None or condition is None:
        return False
    if condition.get("reason") == REASON_NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == REASON_TIMED_OUT:
        return True
    updated = parse_timestamp(condition.get("lastUpdateTime"))
    return updated is not None and updated + deadline < now
