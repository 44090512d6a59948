"""`validate_object`: Kubernetes' create and update validation for every served kind.

Data flow: the API server passes the defaulted JSON object (and, on update, the stored one).
The object is first type-checked by decoding it into its model (a mismatch is one
FieldValueTypeInvalid or FieldValueRequired error with its field path); then the metadata rules
common to all kinds, then the kind's own rules and, on update, its immutability rules run on the
typed model. The result is the list of causes for a 422 Invalid Status; it is empty when the
object is valid. No input makes it raise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.api.models import MODEL_BY_KEY, TopLevel
from kubelite.api.models.apps import Deployment, ReplicaSet
from kubelite.api.models.authentication import SelfSubjectReview
from kubelite.api.models.authorization import SelfSubjectAccessReview
from kubelite.api.models.autoscaling import HorizontalPodAutoscaler
from kubelite.api.models.certificates import CertificateSigningRequest
from kubelite.api.models.cluster import Lease, PriorityClass
from kubelite.api.models.core import ConfigMap, Endpoints, Event, Namespace, Secret, Service
from kubelite.api.models.node import Node, RuntimeClass
from kubelite.api.models.pod import Pod
from kubelite.api.models.rbac import ClusterRole, ClusterRoleBinding, Role, RoleBinding
from kubelite.api.resources import ResourceType
from kubelite.api.validation import certificates, core_kinds, rbac, workloads
from kubelite.api.validation.decode import decode
from kubelite.api.validation.errors import FieldError, aggregate_message, invalid_status_message
from kubelite.api.validation.meta import NAME_RULES, validate_object_meta, validate_object_meta_update
from kubelite.api.validation.pod import validate_pod_spec, validate_pod_update

KindValidator = Callable[[Any, Any], list[FieldError]]


def _pod(new: Pod, old: Pod | None) -> list[FieldError]:
    errors = validate_pod_spec(new.spec)
    if old is not None:
        errors.extend(validate_pod_update(new, old))
    return errors


_KIND_VALIDATORS: dict[type[TopLevel], KindValidator] = {
    Pod: _pod,
    Deployment: workloads.validate_deployment,
    ReplicaSet: workloads.validate_replicaset,
    HorizontalPodAutoscaler: lambda new, old: workloads.validate_hpa(new),
    Namespace: lambda new, old: core_kinds.validate_namespace(new),
    Node: lambda new, old: core_kinds.validate_node(new),
    ConfigMap: core_kinds.validate_config_map,
    Secret: core_kinds.validate_secret,
    Service: core_kinds.validate_service,
    Endpoints: lambda new, old: core_kinds.validate_endpoints(new),
    Event: lambda new, old: core_kinds.validate_event(new),
    Lease: lambda new, old: core_kinds.validate_lease(new),
    PriorityClass: core_kinds.validate_priority_class,
    RuntimeClass: core_kinds.validate_runtime_class,
    # security kinds
    Role: rbac.validate_role,
    ClusterRole: rbac.validate_cluster_role,
    RoleBinding: rbac.validate_role_binding,
    ClusterRoleBinding: rbac.validate_cluster_role_binding,
    CertificateSigningRequest: certificates.validate_csr,
    SelfSubjectAccessReview: certificates.validate_self_subject_access_review,
}
NAME_RULES.update(rbac.RBAC_NAME_RULES)
#: Answered from the request, never stored: their metadata carries no name to check.
_REVIEW_KINDS: tuple[type[TopLevel], ...] = (SelfSubjectAccessReview, SelfSubjectReview)


def validate_object(
    resource: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None
) -> list[FieldError]:
    """Validate a create (`old` None) or an update of `obj`; returns Kubernetes-style causes."""
    model = MODEL_BY_KEY.get(resource.key)
    if model is None:
        return []
    new = decode(model, obj)
    if isinstance(new, FieldError):
        return [new]
    previous = decode(model, old) if old is not None else None
    if isinstance(previous, FieldError):
        # The stored object is kubelite's own; if it no longer decodes, judge the update as a create.
        previous = None
    errors = [] if model in _REVIEW_KINDS else validate_object_meta(resource, new.metadata)  # type: ignore[attr-defined]
    if previous is not None:
        errors.extend(validate_object_meta_update(new.metadata, previous.metadata))  # type: ignore[attr-defined]
    validator = _KIND_VALIDATORS.get(model)
    if validator is not None:
        errors.extend(validator(new, previous))
    return errors


__all__ = [
    "FieldError",
    "aggregate_message",
    "invalid_status_message",
    "validate_object",
]
