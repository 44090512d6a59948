"""The default RBAC policy the API server creates at start-up, after Kubernetes' bootstrap policy.

Mirrors `plugin/pkg/auth/authorizer/rbac/bootstrappolicy` in kubernetes/kubernetes, trimmed to
the kinds kubelite serves:
- user-facing roles `cluster-admin`, `admin`, `edit`, `view`, where admin/edit/view aggregate
  the `aggregate-to-*` roles by label, so a user's own ClusterRoles can extend them;
- discovery for everyone authenticated, and health/version for everyone (`system:public-info-viewer`);
- one least-privilege role per kubelite component, each bound to that component's user name:
  `system:kube-scheduler`, `system:kube-controller-manager`, `kubelite:autoscaler`,
  `kubelite:anomaly-detector`, plus node bootstrap (`system:node-bootstrapper`, CSR auto-approval
  roles) and `system:node` for what the Node authorizer does not decide.
Objects carry the `kubernetes.io/bootstrapping: rbac-defaults` label as in Kubernetes.
"""

from __future__ import annotations

from typing import Any

READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete", "deletecollection"]
_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"

# Component identities: the user names their client certificates carry.
SCHEDULER_USER = "system:kube-scheduler"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
AUTOSCALER_USER = "system:kubelite-autoscaler"
ANOMALY_DETECTOR_USER = "system:kubelite-anomaly-detector"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"

_WORKLOADS = ["pods", "deployments", "replicasets", "services", "endpoints", "configmaps", "events", "leases"]


def _rule(groups: list[str], resources: list[str], verbs: list[str], names: list[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def _urls(urls: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"nonResourceURLs": urls, "verbs": verbs}


def _cluster_role(
    name: str, rules: list[dict[str, Any]], labels: dict[str, str] | None = None, aggregate: str | None = None
) -> dict[str, Any]:
    role: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {**_LABELS, **(labels or {})}},
        "rules": rules,
    }
    if aggregate is not None:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {AGGREGATE_TO + aggregate: "true"}}]}
        role["rules"] = []
    return role


def _binding(role: str, subjects: list[tuple[str, str]], name: str | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name or role, "labels": dict(_LABELS)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [
            {"kind": kind, "name": subject, "apiGroup": "rbac.authorization.k8s.io"} for kind, subject in subjects
        ],
    }


def default_cluster_roles() -> list[dict[str, Any]]:
    core_apps = ["", "apps", "coordination.k8s.io", "autoscaling"]
    view_resources = [*_WORKLOADS, "serviceaccounts", "horizontalpodautoscalers", "pods/log", "pods/status",
                      "deployments/scale", "replicasets/scale", "deployments/status", "replicasets/status"]
    return [
        _cluster_role("cluster-admin", [_rule(["*"], ["*"], ["*"]), _urls(["*"], ["*"])]),
        _cluster_role("admin", [], aggregate="admin"),
        _cluster_role("edit", [], {AGGREGATE_TO + "admin": "true"}, aggregate="edit"),
        _cluster_role("view", [], {AGGREGATE_TO + "edit": "true"}, aggregate="view"),
        _cluster_role(
            "system:aggregate-to-view",
            [_rule(core_apps, view_resources, READ), _rule([""], ["namespaces"], READ)],
            {AGGREGATE_TO + "view": "true"},
        ),
        _cluster_role(
            "system:aggregate-to-edit",
            [
                _rule(core_apps, [*view_resources, "secrets", "pods/eviction"], WRITE),
                _rule([""], ["secrets"], READ),
                _rule([""], ["serviceaccounts/token"], ["create"]),
            ],
            {AGGREGATE_TO + "edit": "true"},
        ),
        _cluster_role(
            "system:aggregate-to-admin",
            [
                _rule(["rbac.authorization.k8s.io"], ["roles", "rolebindings"], [*READ, *WRITE]),
                _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
            ],
            {AGGREGATE_TO + "admin": "true"},
        ),
        _cluster_role(
            "system:basic-user",
            [
                _rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
                _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
            ],
        ),
        _cluster_role(
            "system:discovery",
            [_urls(["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version", "/version/",
                    "/healthz", "/livez", "/readyz"], ["get"])],
        ),
        _cluster_role("system:public-info-viewer", [_urls(["/healthz", "/livez", "/readyz", "/version", "/version/"], ["get"])]),
        _cluster_role("system:monitoring", [_urls(["/metrics", "/livez", "/readyz", "/healthz"], ["get"])]),
        _cluster_role(
            SCHEDULER_USER,
            [
                _rule([""], ["pods", "nodes", "namespaces", "persistentvolumeclaims"], READ),
                _rule([""], ["pods"], ["delete"]),
                _rule([""], ["pods/binding", "bindings"], ["create"]),
                _rule([""], ["pods/status"], ["patch", "update"]),
                _rule([""], ["pods/eviction"], ["create"]),
                _rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
                _rule(["coordination.k8s.io"], ["leases"], ["create", *READ, "update"]),
                _rule(["scheduling.k8s.io", "node.k8s.io", "apps"], ["*"], READ),
            ],
        ),
        _cluster_role(
            CONTROLLER_MANAGER_USER,
            [
                _rule(["", "apps", "coordination.k8s.io", "autoscaling"], ["*"], [*READ, *WRITE]),
                _rule([""], ["namespaces/finalize", "namespaces/status", "pods/status", "nodes/status"], ["update", "patch"]),
                _rule(["certificates.k8s.io"], ["certificatesigningrequests", "certificatesigningrequests/approval",
                                                "certificatesigningrequests/status"], [*READ, "update", "patch"]),
                _rule(["certificates.k8s.io"], ["signers"], ["approve", "sign"]),
                _rule(["scheduling.k8s.io", "node.k8s.io"], ["*"], READ),
                # The garbage collector and namespace controller act on every kind, as
                # Kubernetes' own controller roles for them do.
                _rule(["*"], ["*"], [*READ, "patch", "update", "delete", "deletecollection"]),
            ],
        ),
        _cluster_role(
            AUTOSCALER_USER,
            [
                _rule(["autoscaling"], ["horizontalpodautoscalers"], READ),
                _rule(["autoscaling"], ["horizontalpodautoscalers/status"], ["update", "patch"]),
                _rule(["apps"], ["deployments/scale", "replicasets/scale"], ["get", "update", "patch"]),
                _rule(["apps"], ["deployments", "replicasets"], READ),
                _rule([""], ["pods"], READ),
                _rule([""], ["events"], ["create", "patch"]),
                _rule(["metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"], ["*"], ["get", "list"]),
            ],
        ),
        _cluster_role(
            ANOMALY_DETECTOR_USER,
            [_rule(["", "apps"], ["pods", "nodes", "deployments"], READ), _rule([""], ["events"], ["create", "patch"]),
             _rule(["metrics.k8s.io"], ["pods", "nodes"], ["get", "list"]), _urls(["/metrics"], ["get"])],
        ),
        _cluster_role(
            "system:node-bootstrapper",
            [_rule(["certificates.k8s.io"], ["certificatesigningrequests"], ["create", "get", "list", "watch"])],
        ),
        _cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            [_rule(["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"], ["create"])],
        ),
        _cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            [_rule(["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"], ["create"])],
        ),
        _cluster_role(
            "system:node",
            [
                _rule([""], ["nodes", "pods", "services", "endpoints", "namespaces"], ["list", "watch"]),
                _rule([""], ["services", "endpoints", "namespaces"], ["get"]),
                _rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
                _rule(["certificates.k8s.io"], ["certificatesigningrequests"], ["create", "get", "list", "watch"]),
                _rule(["node.k8s.io"], ["runtimeclasses"], READ),
            ],
        ),
    ]


def default_cluster_role_bindings() -> list[dict[str, Any]]:
    return [
        _binding("cluster-admin", [("Group", "system:masters")]),
        _binding("system:basic-user", [("Group", "system:authenticated")]),
        _binding("system:discovery", [("Group", "system:authenticated")]),
        _binding("system:public-info-viewer", [("Group", "system:authenticated"), ("Group", "system:unauthenticated")]),
        _binding(SCHEDULER_USER, [("User", SCHEDULER_USER)]),
        _binding(CONTROLLER_MANAGER_USER, [("User", CONTROLLER_MANAGER_USER)]),
        _binding(AUTOSCALER_USER, [("User", AUTOSCALER_USER)]),
        _binding(ANOMALY_DETECTOR_USER, [("User", ANOMALY_DETECTOR_USER)]),
        _binding("system:monitoring", [("User", ANOMALY_DETECTOR_USER)]),
        _binding("system:node-bootstrapper", [("Group", "system:bootstrappers")], "kubeadm:kubelet-bootstrap"),
        _binding(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            [("Group", "system:bootstrappers")],
            "kubeadm:node-autoapprove-bootstrap",
        ),
        _binding(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            [("Group", NODES_GROUP)],
            "kubeadm:node-autoapprove-certificate-rotation",
        ),
        _binding("system:node", [("Group", NODES_GROUP)]),
    ]
