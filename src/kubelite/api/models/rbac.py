"""rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding and ClusterRoleBinding.

The API server stores these as JSON; the RBAC authorizer (`kubelite.security.rbac`) reads them
from the watch cache. `verbs` and `roleRef` are required on the wire, so they have no default.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import Model, TopLevel
from kubelite.api.models.meta import LabelSelector, ObjectMeta

RBAC_GROUP = "rbac.authorization.k8s.io"


class PolicyRule(Model, kw_only=True):
    """Verbs allowed on resources (by API group, optional names) or on non-resource URLs."""

    verbs: list[str]
    api_groups: list[str] | None = None
    resources: list[str] | None = None
    resource_names: list[str] | None = None
    non_resource_urls: list[str] | None = msgspec.field(default=None, name="nonResourceURLs")


class AggregationRule(Model, kw_only=True):
    """A ClusterRole whose rules are the union of the ClusterRoles these selectors match."""

    cluster_role_selectors: list[LabelSelector] | None = None


class Subject(Model, kw_only=True):
    """Who a binding grants to: a User, a Group or a ServiceAccount."""

    kind: str
    name: str
    api_group: str | None = None
    namespace: str | None = None


class RoleRef(Model, kw_only=True):
    """The Role or ClusterRole a binding grants; immutable once written."""

    api_group: str
    kind: str
    name: str


class Role(TopLevel, kw_only=True):
    API_VERSION = f"{RBAC_GROUP}/v1"
    KIND = "Role"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    rules: list[PolicyRule] | None = None


class ClusterRole(TopLevel, kw_only=True):
    API_VERSION = f"{RBAC_GROUP}/v1"
    KIND = "ClusterRole"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    rules: list[PolicyRule] | None = None
    aggregation_rule: AggregationRule | None = None


class RoleBinding(TopLevel, kw_only=True):
    """`roleRef` is required by validation, not by decoding, so a missing one is a 422 with its path."""

    API_VERSION = f"{RBAC_GROUP}/v1"
    KIND = "RoleBinding"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    subjects: list[Subject] | None = None
    role_ref: RoleRef | None = None


class ClusterRoleBinding(TopLevel, kw_only=True):
    API_VERSION = f"{RBAC_GROUP}/v1"
    KIND = "ClusterRoleBinding"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    subjects: list[Subject] | None = None
    role_ref: RoleRef | None = None
