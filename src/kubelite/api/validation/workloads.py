"""Validation of apps/v1 Deployment and ReplicaSet and autoscaling/v2 HorizontalPodAutoscaler.

Follows pkg/apis/apps/validation and pkg/apis/autoscaling/validation: selectors must be non-empty
and match the template's labels, templates are valid pods that restart Always, counts are
non-negative, and a workload's selector is immutable after creation.
"""

from __future__ import annotations

import re
from dataclasses import replace

from kubelite.api.labels import SelectorError, selector_from_object
from kubelite.api.models.apps import Deployment, ReplicaSet
from kubelite.api.models.autoscaling import HorizontalPodAutoscaler, HPAScalingRules
from kubelite.api.models.base import IntOrString, to_dict
from kubelite.api.models.meta import LabelSelector
from kubelite.api.models.pod import PodTemplateSpec
from kubelite.api.validation.errors import FieldError, forbidden, invalid, not_supported, required
from kubelite.api.validation.meta import validate_annotations, validate_labels
from kubelite.api.validation.pod import validate_pod_spec

_PERCENT = re.compile(r"^[0-9]+%$")
DEPLOYMENT_STRATEGIES = ("Recreate", "RollingUpdate")
METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
SELECT_POLICIES = ("Disabled", "Max", "Min")
SCALING_POLICY_TYPES = ("Percent", "Pods")


def _non_negative(value: int | None, field: str) -> list[FieldError]:
    if value is not None and value < 0:
        return [invalid(field, value, "must be greater than or equal to 0")]
    return []


def _validate_selector_and_template(
    selector: LabelSelector | None, template: PodTemplateSpec | None, kind: str
) -> list[FieldError]:
    errors: list[FieldError] = []
    if selector is None:
        return [required("spec.selector")]
    selector_dict = to_dict(selector)
    errors.extend(validate_labels(selector.match_labels, "spec.selector.matchLabels"))
    try:
        compiled = selector_from_object(selector_dict)
    except SelectorError as error:
        return [*errors, invalid("spec.selector", selector_dict, str(error))]
    if compiled.empty():
        errors.append(invalid("spec.selector", selector_dict, f"empty selector is invalid for {kind}"))
    if template is None:
        return [*errors, required("spec.template")]
    labels = template.metadata.labels or {}
    errors.extend(validate_labels(labels, "spec.template.metadata.labels"))
    errors.extend(validate_annotations(template.metadata.annotations, "spec.template.metadata.annotations"))
    if not compiled.empty() and not compiled.matches(labels):
        errors.append(
            invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")
        )
    errors.extend(
        replace(spec_error, field="spec.template." + spec_error.field)
        for spec_error in validate_pod_spec(template.spec, template=True)
    )
    policy = template.spec.restart_policy
    if policy is not None and policy != "Always":
        errors.append(not_supported("spec.template.spec.restartPolicy", policy, ("Always",)))
    return errors


def _int_or_percent(value: IntOrString | None, field: str, at_most_100: bool) -> list[FieldError]:
    if value is None:
        return []
    if isinstance(value, str):
        if not _PERCENT.match(value):
            return [invalid(field, value, "must be an integer or percentage (e.g '5%')")]
        if at_most_100 and int(value[:-1]) > 100:
            return [invalid(field, value, "must not be greater than 100%")]
        return []
    return _non_negative(value, field)


def _is_zero(value: IntOrString | None) -> bool:
    return value in (0, "0%")


def validate_deployment(deployment: Deployment, old: Deployment | None) -> list[FieldError]:
    spec = deployment.spec
    errors = _non_negative(spec.replicas, "spec.replicas")
    errors.extend(_validate_selector_and_template(spec.selector, spec.template, "deployment"))
    errors.extend(_non_negative(spec.min_ready_seconds, "spec.minReadySeconds"))
    errors.extend(_non_negative(spec.revision_history_limit, "spec.revisionHistoryLimit"))
    if spec.progress_deadline_seconds is not None:
        errors.extend(_non_negative(spec.progress_deadline_seconds, "spec.progressDeadlineSeconds"))
        if spec.progress_deadline_seconds <= (spec.min_ready_seconds or 0):
            detail = "must be greater than minReadySeconds"
            errors.append(invalid("spec.progressDeadlineSeconds", spec.progress_deadline_seconds, detail))
    strategy = spec.strategy
    if strategy is not None:
        if strategy.type not in DEPLOYMENT_STRATEGIES:
            errors.append(not_supported("spec.strategy.type", strategy.type, DEPLOYMENT_STRATEGIES))
        rolling = strategy.rolling_update
        if strategy.type == "Recreate" and rolling is not None:
            detail = "may not be specified when strategy `type` is 'Recreate'"
            errors.append(forbidden("spec.strategy.rollingUpdate", detail))
        if strategy.type == "RollingUpdate" and rolling is not None:
            errors.extend(_int_or_percent(rolling.max_surge, "spec.strategy.rollingUpdate.maxSurge", False))
            path = "spec.strategy.rollingUpdate.maxUnavailable"
            errors.extend(_int_or_percent(rolling.max_unavailable, path, True))
            if _is_zero(rolling.max_surge) and _is_zero(rolling.max_unavailable):
                errors.append(invalid(path, rolling.max_unavailable, "may not be 0 when `maxSurge` is 0"))
    if old is not None and old.spec.selector != spec.selector:
        errors.append(
            invalid("spec.selector", to_dict(spec.selector) if spec.selector else None, "field is immutable")
        )
    return errors


def validate_replicaset(replicaset: ReplicaSet, old: ReplicaSet | None) -> list[FieldError]:
    spec = replicaset.spec
    errors = _non_negative(spec.replicas, "spec.replicas")
    errors.extend(_non_negative(spec.min_ready_seconds, "spec.minReadySeconds"))
    errors.extend(_validate_selector_and_template(spec.selector, spec.template, "replicaset"))
    if old is not None and old.spec.selector != spec.selector:
        errors.append(
            invalid("spec.selector", to_dict(spec.selector) if spec.selector else None, "field is immutable")
        )
    return errors


def _validate_scaling_rules(rules: HPAScalingRules | None, field: str) -> list[FieldError]:
    if rules is None:
        return []
    errors: list[FieldError] = []
    window = rules.stabilization_window_seconds
    if window is not None and not 0 <= window <= 3600:
        errors.append(
            invalid(f"{field}.stabilizationWindowSeconds", window, "must be less than or equal to 3600")
        )
    if rules.select_policy is not None and rules.select_policy not in SELECT_POLICIES:
        errors.append(not_supported(f"{field}.selectPolicy", rules.select_policy, SELECT_POLICIES))
    if rules.policies is not None and not rules.policies and rules.select_policy != "Disabled":
        errors.append(required(f"{field}.policies", "must specify at least one Policy"))
    for index, policy in enumerate(rules.policies or []):
        path = f"{field}.policies[{index}]"
        if policy.type not in SCALING_POLICY_TYPES:
            errors.append(not_supported(f"{path}.type", policy.type, SCALING_POLICY_TYPES))
        if policy.value <= 0:
            errors.append(invalid(f"{path}.value", policy.value, "must be greater than zero"))
        if not 0 < policy.period_seconds <= 1800:
            detail = "must be greater than zero and less than or equal to 1800"
            errors.append(invalid(f"{path}.periodSeconds", policy.period_seconds, detail))
    return errors


def validate_hpa(hpa: HorizontalPodAutoscaler) -> list[FieldError]:
    spec = hpa.spec
    errors: list[FieldError] = []
    if not spec.scale_target_ref.kind:
        errors.append(required("spec.scaleTargetRef.kind"))
    if not spec.scale_target_ref.name:
        errors.append(required("spec.scaleTargetRef.name"))
    if spec.min_replicas is not None and spec.min_replicas < 1:
        errors.append(invalid("spec.minReplicas", spec.min_replicas, "must be greater than or equal to 1"))
    if spec.max_replicas < 1:
        errors.append(invalid("spec.maxReplicas", spec.max_replicas, "must be greater than 0"))
    elif spec.min_replicas is not None and spec.max_replicas < spec.min_replicas:
        detail = "must be greater than or equal to `minReplicas`"
        errors.append(invalid("spec.maxReplicas", spec.max_replicas, detail))
    for index, metric in enumerate(spec.metrics or []):
        path = f"spec.metrics[{index}]"
        if metric.type not in METRIC_TYPES:
            errors.append(not_supported(f"{path}.type", metric.type, METRIC_TYPES))
            continue
        source_name = metric.type[0].lower() + metric.type[1:]
        attribute = "container_resource" if metric.type == "ContainerResource" else source_name
        source = getattr(metric, attribute)
        if source is None:
            errors.append(
                required(f"{path}.{source_name}", "must populate information for the given metric source")
            )
            continue
        target = source.target
        if target.type not in ("AverageValue", "Utilization", "Value"):
            errors.append(
                not_supported(
                    f"{path}.{source_name}.target.type", target.type, ("AverageValue", "Utilization", "Value")
                )
            )
        if target.average_utilization is not None and target.average_utilization <= 0:
            detail = "must be greater than 0"
            errors.append(
                invalid(f"{path}.{source_name}.target.averageUtilization", target.average_utilization, detail)
            )
    if spec.behavior is not None:
        errors.extend(_validate_scaling_rules(spec.behavior.scale_up, "spec.behavior.scaleUp"))
        errors.extend(_validate_scaling_rules(spec.behavior.scale_down, "spec.behavior.scaleDown"))
    return errors
