"""Validation of rbac.authorization.k8s.io/v1 kinds, as pkg/apis/rbac/validation words it.

- Names are path segments (`system:node` is valid), not DNS subdomains: `RBAC_NAME_RULES`.
- A PolicyRule needs verbs; resource rules need apiGroups and resources; non-resource URLs are
  for ClusterRoles only and exclude resources.
- A binding's roleRef names a Role or ClusterRole in the RBAC group (a ClusterRoleBinding only a
  ClusterRole) and may never change; each subject is a User, Group or ServiceAccount.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubelite.api.models.rbac import (
    RBAC_GROUP,
    ClusterRole,
    ClusterRoleBinding,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
)
from kubelite.api.names import is_dns1123_subdomain
from kubelite.api.validation.errors import FieldError, invalid, not_supported, required

SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def is_path_segment_name(name: str) -> list[str]:
    """apimachinery's IsValidPathSegmentName: the name must be usable as one URL path segment."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{character}'" for character in ("/", "%") if character in name]


RBAC_NAME_RULES = {
    "roles.rbac.authorization.k8s.io": is_path_segment_name,
    "clusterroles.rbac.authorization.k8s.io": is_path_segment_name,
    "rolebindings.rbac.authorization.k8s.io": is_path_segment_name,
    "clusterrolebindings.rbac.authorization.k8s.io": is_path_segment_name,
}
"""Name rules for the RBAC kinds, merged into the metadata validator's table."""


def validate_policy_rules(rules: Sequence[PolicyRule] | None, namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, rule in enumerate(rules or []):
        path = f"rules[{index}]"
        if not rule.verbs:
            errors.append(required(f"{path}.verbs", "verbs must contain at least one value"))
        if rule.non_resource_urls:
            if namespaced:
                errors.append(
                    invalid(f"{path}.nonResourceURLs", rule.non_resource_urls,
                            "namespaced rules cannot apply to non-resource URLs")
                )
            if rule.api_groups or rule.resources:
                errors.append(
                    invalid(f"{path}.nonResourceURLs", rule.non_resource_urls,
                            "rules cannot apply to both regular resources and non-resource URLs")
                )
            continue
        if not rule.api_groups:
            errors.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
        if not rule.resources:
            errors.append(required(f"{path}.resources", "resource rules must supply at least one resource"))
    return errors


def validate_role(new: Role, old: Role | None) -> list[FieldError]:
    return validate_policy_rules(new.rules, namespaced=True)


def validate_cluster_role(new: ClusterRole, old: ClusterRole | None) -> list[FieldError]:
    # An aggregated ClusterRole's rules are the controller's to fill; they are checked the same way.
    return validate_policy_rules(new.rules, namespaced=False)


def _validate_subject(subject: Subject, path: str, binding_namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    if not subject.name:
        errors.append(required(f"{path}.name"))
    if subject.kind == "ServiceAccount":
        if subject.name:
            errors.extend(invalid(f"{path}.name", subject.name, problem) for problem in is_dns1123_subdomain(subject.name))
        if subject.api_group:
            errors.append(not_supported(f"{path}.apiGroup", subject.api_group, [""]))
        if not binding_namespaced and not subject.namespace:
            errors.append(required(f"{path}.namespace"))
    elif subject.kind in ("User", "Group"):
        if subject.api_group != RBAC_GROUP:
            errors.append(not_supported(f"{path}.apiGroup", subject.api_group or "", [RBAC_GROUP]))
    else:
        errors.append(not_supported(f"{path}.kind", subject.kind, SUBJECT_KINDS))
    return errors


def _validate_binding(
    role_ref: RoleRef | None,
    subjects: Sequence[Subject] | None,
    old_role_ref: RoleRef | None,
    allowed_kinds: tuple[str, ...],
    namespaced: bool,
) -> list[FieldError]:
    errors: list[FieldError] = []
    if role_ref is None:
        errors.append(required("roleRef"))
    else:
        if role_ref.api_group != RBAC_GROUP:
            errors.append(not_supported("roleRef.apiGroup", role_ref.api_group, [RBAC_GROUP]))
        if role_ref.kind not in allowed_kinds:
            errors.append(not_supported("roleRef.kind", role_ref.kind, allowed_kinds))
        if not role_ref.name:
            errors.append(required("roleRef.name"))
        else:
            errors.extend(invalid("roleRef.name", role_ref.name, problem) for problem in is_path_segment_name(role_ref.name))
        if old_role_ref is not None and role_ref != old_role_ref:
            errors.append(invalid("roleRef", role_ref.name, "cannot change roleRef"))
    for index, subject in enumerate(subjects or []):
        errors.extend(_validate_subject(subject, f"subjects[{index}]", namespaced))
    return errors


def validate_role_binding(new: RoleBinding, old: RoleBinding | None) -> list[FieldError]:
    previous = old.role_ref if old is not None else None
    return _validate_binding(new.role_ref, new.subjects, previous, ("Role", "ClusterRole"), namespaced=True)


def validate_cluster_role_binding(new: ClusterRoleBinding, old: ClusterRoleBinding | None) -> list[FieldError]:
    previous = old.role_ref if old is not None else None
    return _validate_binding(new.role_ref, new.subjects, previous, ("ClusterRole",), namespaced=False)
