"""RBAC with Kubernetes semantics: rule matching, aggregation, bindings, and a per-user rule cache.

The evaluation follows `plugin/pkg/auth/authorizer/rbac` in kubernetes/kubernetes:
- A request is allowed if any rule reachable from the user's bindings covers it; there are no
  deny rules. ClusterRoleBindings grant everywhere; RoleBindings grant in their namespace and may
  reference a Role (same namespace) or a ClusterRole.
- A rule covers a resource request when verb, API group, resource (`pods`, `pods/status`, `*`,
  `*/status`) and, if the rule lists `resourceNames`, the name all match. Non-resource requests
  (`/healthz`) match `nonResourceURLs`, where a trailing `*` is a prefix match.
- A ClusterRole with an `aggregationRule` holds the union of the rules of every ClusterRole its
  label selectors match (the clusterrole-aggregation controller's result, computed on read).
- Subjects: User by name, Group by membership, ServiceAccount as
  `system:serviceaccount:<namespace>:<name>`.

`RbacIndex` is built from the four object lists once per change (the API server rebuilds it when
an RBAC object changes) and memoises each user's effective rules, so a request costs one dict
lookup plus a scan of that user's few rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .tokens import UserInfo

Rule = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Attributes:
    """What a request asks to do, as Kubernetes' authorizer.Attributes."""

    user: UserInfo
    verb: str
    namespace: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    resource_request: bool = True
    path: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""


def _matches(values: Iterable[str], wanted: str) -> bool:
    return any(value == "*" or value == wanted for value in values)


def rule_covers(rule: Rule, attributes: Attributes) -> bool:
    verbs = rule.get("verbs") or []
    if not _matches(verbs, attributes.verb):
        return False
    if not attributes.resource_request:
        for url in rule.get("nonResourceURLs") or []:
            if url == "*" or url == attributes.path or (url.endswith("*") and attributes.path.startswith(url[:-1])):
                return True
        return False
    if not _matches(rule.get("apiGroups") or [], attributes.api_group):
        return False
    combined = f"{attributes.resource}/{attributes.subresource}" if attributes.subresource else attributes.resource
    resources = rule.get("resources") or []
    resource_ok = any(
        item == "*"
        or item == combined
        or (attributes.subresource and item == f"*/{attributes.subresource}")
        for item in resources
    )
    if not resource_ok:
        return False
    names = rule.get("resourceNames") or []
    return not names or attributes.name in names


def subject_matches(subject: dict[str, Any], user: UserInfo, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"system:serviceaccount:{namespace}:{name}"
    return False


def _labels_match(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if operator == "In" and (not present or labels[key] not in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def aggregate_cluster_roles(cluster_roles: list[dict[str, Any]]) -> dict[str, list[Rule]]:
    """Each ClusterRole's effective rules, with aggregation resolved (one level, as the controller does)."""
    effective: dict[str, list[Rule]] = {}
    for role in cluster_roles:
        name = str((role.get("metadata") or {}).get("name", ""))
        effective[name] = list(role.get("rules") or [])
    for role in cluster_roles:
        aggregation = role.get("aggregationRule")
        if not isinstance(aggregation, dict):
            continue
        name = str((role.get("metadata") or {}).get("name", ""))
        rules: list[Rule] = list(role.get("rules") or [])
        for selector in aggregation.get("clusterRoleSelectors") or []:
            for other in cluster_roles:
                other_meta = other.get("metadata") or {}
                if other is role or other.get("aggregationRule"):
                    continue
                if _labels_match(selector, other_meta.get("labels") or {}):
                    rules.extend(rule for rule in other.get("rules") or [] if rule not in rules)
        effective[name] = rules
    return effective


@dataclass(frozen=True, slots=True)
class EffectiveRules:
    """A user's rules: those granted cluster-wide, and those granted per namespace."""

    cluster: tuple[Rule, ...]
    by_namespace: dict[str, tuple[Rule, ...]]


class RbacIndex:
    """The RBAC objects of one moment, with memoised per-user rule sets."""

    def __init__(
        self,
        roles: list[dict[str, Any]],
        cluster_roles: list[dict[str, Any]],
        role_bindings: list[dict[str, Any]],
        cluster_role_bindings: list[dict[str, Any]],
    ) -> None:
        self._cluster_roles = aggregate_cluster_roles(cluster_roles)
        self._roles = {
            ((role.get("metadata") or {}).get("namespace", ""), (role.get("metadata") or {}).get("name", "")): list(
                role.get("rules") or []
            )
            for role in roles
        }
        self._role_bindings = role_bindings
        self._cluster_role_bindings = cluster_role_bindings
        self._memo: dict[tuple[str, tuple[str, ...]], EffectiveRules] = {}

    def rules_for(self, user: UserInfo) -> EffectiveRules:
        key = (user.name, user.groups)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._resolve(user)
        return found

    def _resolve(self, user: UserInfo) -> EffectiveRules:
        cluster: list[Rule] = []
        for binding in self._cluster_role_bindings:
            ref = binding.get("roleRef") or {}
            if ref.get("kind") != "ClusterRole":
                continue
            if any(subject_matches(subject, user, "") for subject in binding.get("subjects") or []):
                cluster.extend(self._cluster_roles.get(str(ref.get("name", "")), []))
        by_namespace: dict[str, list[Rule]] = {}
        for binding in self._role_bindings:
            namespace = str((binding.get("metadata") or {}).get("namespace", ""))
            if not any(subject_matches(subject, user, namespace) for subject in binding.get("subjects") or []):
                continue
            ref = binding.get("roleRef") or {}
            name = str(ref.get("name", ""))
            if ref.get("kind") == "ClusterRole":
                granted = self._cluster_roles.get(name, [])
            else:
                granted = self._roles.get((namespace, name), [])
            by_namespace.setdefault(namespace, []).extend(granted)
        return EffectiveRules(tuple(cluster), {ns: tuple(rules) for ns, rules in by_namespace.items()})

    def authorize(self, attributes: Attributes) -> Decision:
        rules = self.rules_for(attributes.user)
        for rule in rules.cluster:
            if rule_covers(rule, attributes):
                return Decision(True, "allowed by ClusterRoleBinding")
        if attributes.namespace and attributes.resource_request:
            for rule in rules.by_namespace.get(attributes.namespace, ()):
                # Non-resource URLs are cluster-scoped: a RoleBinding never grants them.
                if rule_covers(rule, attributes):
                    return Decision(True, "allowed by RoleBinding")
        return Decision(False, "")


def forbidden_message(attributes: Attributes) -> str:
    """kube-apiserver's wording for a 403, which kubectl prints as is."""
    user = attributes.user.name
    if not attributes.resource_request:
        return f'forbidden: User "{user}" cannot {attributes.verb} path "{attributes.path}"'
    resource = attributes.resource + (f"/{attributes.subresource}" if attributes.subresource else "")
    where = f' in the namespace "{attributes.namespace}"' if attributes.namespace else " at the cluster scope"
    label = f"{attributes.resource}.{attributes.api_group}" if attributes.api_group else attributes.resource
    prefix = f'{label} "{attributes.name}"' if attributes.name else label
    return (
        f'{prefix} is forbidden: User "{user}" cannot {attributes.verb} resource "{resource}" '
        f'in API group "{attributes.api_group}"{where}'
    )
