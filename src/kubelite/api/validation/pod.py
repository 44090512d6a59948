"""Validation of a PodSpec (pods and workload templates) and of pod updates.

Mirrors pkg/apis/core/validation ValidatePodSpec: containers, volumes, restart and DNS policy,
node selection (nodeSelector, affinity, tolerations, topology spread) and names of the objects a
pod refers to. A pod update may change only what Kubernetes lets it change.
"""

from __future__ import annotations

from typing import Any

import msgspec

from kubelite.api.models.pod import VOLUME_SOURCE_FIELDS, NodeSelectorTerm, Pod, PodSpec, Toleration
from kubelite.api.names import is_dns1123_label, is_dns1123_subdomain, is_qualified_name
from kubelite.api.validation.container import validate_container_list, validate_resource_list
from kubelite.api.validation.errors import FieldError, duplicate, forbidden, invalid, not_supported, required
from kubelite.api.validation.meta import validate_labels

RESTART_POLICIES = ("Always", "Never", "OnFailure")
DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")
TOLERATION_OPERATORS = ("Equal", "Exists")
NODE_SELECTOR_OPERATORS = ("DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn")
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
PREEMPTION_POLICIES = ("Never", "PreemptLowerPriority")


def _name_errors(value: str | None, field: str, label: bool = False) -> list[FieldError]:
    if not value:
        return []
    rule = is_dns1123_label if label else is_dns1123_subdomain
    return [invalid(field, value, problem) for problem in rule(value)]


def _validate_volumes(spec: PodSpec) -> tuple[list[FieldError], set[str]]:
    errors: list[FieldError] = []
    names: set[str] = set()
    for index, volume in enumerate(spec.volumes or []):
        field = f"spec.volumes[{index}]"
        if not volume.name:
            errors.append(required(f"{field}.name"))
        else:
            errors.extend(_name_errors(volume.name, f"{field}.name", label=True))
            if volume.name in names:
                errors.append(duplicate(f"{field}.name", volume.name))
            names.add(volume.name)
        sources = [name for name in VOLUME_SOURCE_FIELDS if getattr(volume, name) is not None]
        if not sources:
            errors.append(required(field, "must specify a volume type"))
        elif len(sources) > 1:
            errors.append(forbidden(f"{field}", "may not specify more than 1 volume type"))
        if volume.host_path is not None and not volume.host_path.path:
            errors.append(required(f"{field}.hostPath.path"))
        if volume.persistent_volume_claim is not None and not volume.persistent_volume_claim.claim_name:
            errors.append(required(f"{field}.persistentVolumeClaim.claimName"))
        if volume.empty_dir is not None and volume.empty_dir.size_limit is not None:
            size_errors, _ = validate_resource_list(
                {"storage": volume.empty_dir.size_limit}, f"{field}.emptyDir.sizeLimit"
            )
            errors.extend(size_errors)
    return errors, names


def _validate_toleration(toleration: Toleration, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if toleration.key:
        errors.extend(invalid(f"{field}.key", toleration.key, p) for p in is_qualified_name(toleration.key))
    operator = toleration.operator or "Equal"
    if operator not in TOLERATION_OPERATORS:
        errors.append(not_supported(f"{field}.operator", operator, TOLERATION_OPERATORS))
    if not toleration.key and operator != "Exists":
        detail = 'operator must be Exists when `key` is empty, which means "match all values and all keys"'
        errors.append(invalid(f"{field}.operator", operator, detail))
    if operator == "Exists" and toleration.value:
        errors.append(
            invalid(f"{field}.operator", toleration.value, "value must be empty when `operator` is 'Exists'")
        )
    if toleration.effect and toleration.effect not in TAINT_EFFECTS:
        errors.append(not_supported(f"{field}.effect", toleration.effect, TAINT_EFFECTS))
    if toleration.toleration_seconds is not None and toleration.effect != "NoExecute":
        detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
        errors.append(invalid(f"{field}.effect", toleration.effect or "", detail))
    return errors


def _validate_node_selector_term(term: NodeSelectorTerm, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for kind, requirements in (
        ("matchExpressions", term.match_expressions),
        ("matchFields", term.match_fields),
    ):
        for index, requirement in enumerate(requirements or []):
            path = f"{field}.{kind}[{index}]"
            if requirement.operator not in NODE_SELECTOR_OPERATORS:
                errors.append(
                    not_supported(f"{path}.operator", requirement.operator, NODE_SELECTOR_OPERATORS)
                )
            values = requirement.values or []
            if requirement.operator in ("In", "NotIn") and not values:
                errors.append(
                    required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'")
                )
            if requirement.operator in ("Exists", "DoesNotExist") and values:
                detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                errors.append(forbidden(f"{path}.values", detail))
            if requirement.operator in ("Gt", "Lt") and (
                len(values) != 1 or not values[0].lstrip("-").isdigit()
            ):
                errors.append(
                    required(
                        f"{path}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'"
                    )
                )
            if kind == "matchExpressions":
                errors.extend(
                    invalid(f"{path}.key", requirement.key, p) for p in is_qualified_name(requirement.key)
                )
    return errors


def _validate_affinity(spec: PodSpec) -> list[FieldError]:
    errors: list[FieldError] = []
    affinity = spec.affinity
    if affinity is None:
        return errors
    node = affinity.node_affinity
    if node is not None:
        base = "spec.affinity.nodeAffinity"
        required_selector = node.required_during_scheduling_ignored_during_execution
        if required_selector is not None:
            path = f"{base}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
            if not required_selector.node_selector_terms:
                errors.append(required(path, "must have at least one node selector term"))
            for index, term in enumerate(required_selector.node_selector_terms):
                errors.extend(_validate_node_selector_term(term, f"{path}[{index}]"))
        for index, preferred in enumerate(node.preferred_during_scheduling_ignored_during_execution or []):
            path = f"{base}.preferredDuringSchedulingIgnoredDuringExecution[{index}]"
            if not 1 <= preferred.weight <= 100:
                errors.append(invalid(f"{path}.weight", preferred.weight, "must be in the range 1-100"))
            errors.extend(_validate_node_selector_term(preferred.preference, f"{path}.preference"))
    for name, pod_affinity in (
        ("podAffinity", affinity.pod_affinity),
        ("podAntiAffinity", affinity.pod_anti_affinity),
    ):
        if pod_affinity is None:
            continue
        base = f"spec.affinity.{name}"
        for index, affinity_term in enumerate(
            pod_affinity.required_during_scheduling_ignored_during_execution or []
        ):
            if not affinity_term.topology_key:
                errors.append(
                    required(f"{base}.requiredDuringSchedulingIgnoredDuringExecution[{index}].topologyKey")
                )
        for index, weighted in enumerate(
            pod_affinity.preferred_during_scheduling_ignored_during_execution or []
        ):
            path = f"{base}.preferredDuringSchedulingIgnoredDuringExecution[{index}]"
            if not 1 <= weighted.weight <= 100:
                errors.append(invalid(f"{path}.weight", weighted.weight, "must be in the range 1-100"))
            if not weighted.pod_affinity_term.topology_key:
                errors.append(required(f"{path}.podAffinityTerm.topologyKey"))
    return errors


def _validate_spread(spec: PodSpec) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for index, constraint in enumerate(spec.topology_spread_constraints or []):
        path = f"spec.topologySpreadConstraints[{index}]"
        if constraint.max_skew <= 0:
            errors.append(invalid(f"{path}.maxSkew", constraint.max_skew, "must be greater than zero"))
        if not constraint.topology_key:
            errors.append(required(f"{path}.topologyKey", "can not be empty"))
        if constraint.when_unsatisfiable not in WHEN_UNSATISFIABLE:
            errors.append(
                not_supported(f"{path}.whenUnsatisfiable", constraint.when_unsatisfiable, WHEN_UNSATISFIABLE)
            )
        pair = (constraint.topology_key, constraint.when_unsatisfiable)
        if pair in seen:
            errors.append(duplicate(f"{path}", f"{{{pair[0]}, {pair[1]}}}"))
        seen.add(pair)
    return errors


def validate_pod_spec(spec: PodSpec, template: bool = False) -> list[FieldError]:
    """ValidatePodSpec; field paths are rooted at "spec" (callers re-root template errors)."""
    errors, volume_names = _validate_volumes(spec)
    if not spec.containers:
        errors.append(required("spec.containers"))
    container_names: set[str] = set()
    errors.extend(
        validate_container_list(
            ((f"spec.initContainers[{i}]", c) for i, c in enumerate(spec.init_containers or [])),
            volume_names,
            container_names,
        )
    )
    errors.extend(
        validate_container_list(
            ((f"spec.containers[{i}]", c) for i, c in enumerate(spec.containers)),
            volume_names,
            container_names,
        )
    )
    errors.extend(
        validate_container_list(
            ((f"spec.ephemeralContainers[{i}]", c) for i, c in enumerate(spec.ephemeral_containers or [])),
            volume_names,
            container_names,
            ephemeral=True,
        )
    )
    if spec.restart_policy is None:
        errors.append(required("spec.restartPolicy"))
    elif spec.restart_policy not in RESTART_POLICIES:
        errors.append(not_supported("spec.restartPolicy", spec.restart_policy, RESTART_POLICIES))
    if spec.dns_policy is None:
        errors.append(required("spec.dnsPolicy"))
    elif spec.dns_policy not in DNS_POLICIES:
        errors.append(not_supported("spec.dnsPolicy", spec.dns_policy, DNS_POLICIES))
    if spec.termination_grace_period_seconds is not None and spec.termination_grace_period_seconds < 0:
        grace = spec.termination_grace_period_seconds
        errors.append(
            invalid("spec.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0")
        )
    if spec.active_deadline_seconds is not None and spec.active_deadline_seconds <= 0:
        errors.append(
            invalid("spec.activeDeadlineSeconds", spec.active_deadline_seconds, "must be greater than 0")
        )
    errors.extend(validate_labels(spec.node_selector, "spec.nodeSelector"))
    for field, reference in (
        ("spec.serviceAccountName", spec.service_account_name),
        ("spec.nodeName", spec.node_name),
        ("spec.priorityClassName", spec.priority_class_name),
        ("spec.runtimeClassName", spec.runtime_class_name),
    ):
        errors.extend(_name_errors(reference, field))
    errors.extend(_name_errors(spec.hostname, "spec.hostname", label=True))
    errors.extend(_name_errors(spec.subdomain, "spec.subdomain", label=True))
    if spec.preemption_policy is not None and spec.preemption_policy not in PREEMPTION_POLICIES:
        errors.append(not_supported("spec.preemptionPolicy", spec.preemption_policy, PREEMPTION_POLICIES))
    for index, toleration in enumerate(spec.tolerations or []):
        errors.extend(_validate_toleration(toleration, f"spec.tolerations[{index}]"))
    overhead_errors, _ = validate_resource_list(spec.overhead, "spec.overhead")
    errors.extend(overhead_errors)
    errors.extend(_validate_affinity(spec))
    errors.extend(_validate_spread(spec))
    if template and spec.ephemeral_containers:
        errors.append(
            forbidden("spec.ephemeralContainers", "ephemeral containers not allowed in pod template")
        )
    return errors


_POD_UPDATE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _mutable_parts_cleared(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of a pod spec without the fields a pod update may change."""
    cleared = dict(spec)
    for key in ("containers", "initContainers"):
        cleared[key] = [{**c, "image": None} for c in cleared.get(key) or [] if isinstance(c, dict)]
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "schedulingGates"):
        cleared.pop(key, None)
    return cleared


def validate_pod_update(new: Pod, old: Pod) -> list[FieldError]:
    """ValidatePodUpdate: only images, a shorter activeDeadlineSeconds, added tolerations, removed gates."""
    errors: list[FieldError] = []
    new_spec = msgspec.to_builtins(new.spec)
    old_spec = msgspec.to_builtins(old.spec)
    if _mutable_parts_cleared(new_spec) != _mutable_parts_cleared(old_spec):
        errors.append(forbidden("spec", _POD_UPDATE_MESSAGE))
    old_deadline, new_deadline = old.spec.active_deadline_seconds, new.spec.active_deadline_seconds
    if old_deadline is not None and (new_deadline is None or new_deadline > old_deadline):
        detail = "must be less than or equal to previous value"
        errors.append(invalid("spec.activeDeadlineSeconds", new_deadline, detail))
    old_tolerations = old_spec.get("tolerations") or []
    new_tolerations = new_spec.get("tolerations") or []
    if any(toleration not in new_tolerations for toleration in old_tolerations):
        errors.append(
            forbidden(
                "spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"
            )
        )
    old_gates = old_spec.get("schedulingGates") or []
    if any(gate not in old_gates for gate in new_spec.get("schedulingGates") or []):
        errors.append(
            forbidden("spec.schedulingGates", "only deletion is allowed, but found new scheduling gate")
        )
    return errors
