"""The table of resource types the API serves: group, version, kind, names and scope.

This is the single place a kind is declared. The API server builds its routes, discovery and
OpenAPI from it; the client builds request paths from it; validation and printing look kinds up
by its `key`.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One served resource, as Kubernetes discovery describes it."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS

    @property
    def listable(self) -> bool:
        """Whether the resource can be listed and watched (review kinds are create-only)."""
        return "list" in self.verbs and "watch" in self.verbs

    @property
    def api_version(self) -> str:
        """The apiVersion written in objects: "v1" for the core group, else "group/version"."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def key(self) -> str:
        """A stable identifier: "pods", "deployments.apps", "leases.coordination.k8s.io"."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(
        self, namespace: str | None = None, name: str | None = None, subresource: str | None = None
    ) -> str:
        """The REST path of a collection, an object or a subresource."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{name}"
            if subresource is not None:
                base += f"/{subresource}"
        return base


_ALL = "all"

NAMESPACES = ResourceType(
    "", "v1", "Namespace", "namespaces", "namespace", False, ("ns",), ("status", "finalize")
)
NODES = ResourceType("", "v1", "Node", "nodes", "node", False, ("no",), ("status",))
PODS = ResourceType(
    "", "v1", "Pod", "pods", "pod", True, ("po",), ("status", "binding", "log", "eviction"), (_ALL,)
)
EVENTS = ResourceType("", "v1", "Event", "events", "event", True, ("ev",))
CONFIGMAPS = ResourceType("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",))
SECRETS = ResourceType("", "v1", "Secret", "secrets", "secret", True)
SERVICES = ResourceType("", "v1", "Service", "services", "service", True, ("svc",), ("status",), (_ALL,))
ENDPOINTS = ResourceType("", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",))
SERVICE_ACCOUNTS = ResourceType(
    "", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", True, ("sa",), ("token",)
)
LEASES = ResourceType("coordination.k8s.io", "v1", "Lease", "leases", "lease", True)
DEPLOYMENTS = ResourceType(
    "apps", "v1", "Deployment", "deployments", "deployment", True, ("deploy",), ("status", "scale"), (_ALL,)
)
REPLICASETS = ResourceType(
    "apps", "v1", "ReplicaSet", "replicasets", "replicaset", True, ("rs",), ("status", "scale"), (_ALL,)
)
HORIZONTAL_POD_AUTOSCALERS = ResourceType(
    "autoscaling",
    "v2",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers",
    "horizontalpodautoscaler",
    True,
    ("hpa",),
    ("status",),
    (_ALL,),
)
#: autoscaling/v1 is served by converting to and from the stored autoscaling/v2 objects
#: (`kubectl autoscale` still posts v1); it is not a separate stored resource.
HORIZONTAL_POD_AUTOSCALERS_V1 = ResourceType(
    "autoscaling",
    "v1",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers",
    "horizontalpodautoscaler",
    True,
    ("hpa",),
    ("status",),
    (_ALL,),
)
CONVERTED_RESOURCE_TYPES: tuple[ResourceType, ...] = (HORIZONTAL_POD_AUTOSCALERS_V1,)
PRIORITY_CLASSES = ResourceType(
    "scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", False, ("pc",)
)
RUNTIME_CLASSES = ResourceType("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", "runtimeclass", False)

# --- security: RBAC, certificates, access reviews (served by the API server's security gate) ---
_RBAC = "rbac.authorization.k8s.io"
ROLES = ResourceType(_RBAC, "v1", "Role", "roles", "role", True)
CLUSTER_ROLES = ResourceType(_RBAC, "v1", "ClusterRole", "clusterroles", "clusterrole", False)
ROLE_BINDINGS = ResourceType(_RBAC, "v1", "RoleBinding", "rolebindings", "rolebinding", True)
CLUSTER_ROLE_BINDINGS = ResourceType(
    _RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", False
)
CERTIFICATE_SIGNING_REQUESTS = ResourceType(
    "certificates.k8s.io",
    "v1",
    "CertificateSigningRequest",
    "certificatesigningrequests",
    "certificatesigningrequest",
    False,
    ("csr",),
    ("approval", "status"),
)
#: Create-only: the answer is computed, never stored.
SELF_SUBJECT_ACCESS_REVIEWS = ResourceType(
    "authorization.k8s.io",
    "v1",
    "SelfSubjectAccessReview",
    "selfsubjectaccessreviews",
    "selfsubjectaccessreview",
    False,
    verbs=("create",),
)
SELF_SUBJECT_REVIEWS = ResourceType(
    "authentication.k8s.io",
    "v1",
    "SelfSubjectReview",
    "selfsubjectreviews",
    "selfsubjectreview",
    False,
    verbs=("create",),
)
# --- end security ---

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    EVENTS,
    CONFIGMAPS,
    SECRETS,
    SERVICES,
    ENDPOINTS,
    SERVICE_ACCOUNTS,
    LEASES,
    DEPLOYMENTS,
    REPLICASETS,
    HORIZONTAL_POD_AUTOSCALERS,
    PRIORITY_CLASSES,
    RUNTIME_CLASSES,
    ROLES,
    CLUSTER_ROLES,
    ROLE_BINDINGS,
    CLUSTER_ROLE_BINDINGS,
    CERTIFICATE_SIGNING_REQUESTS,
    SELF_SUBJECT_ACCESS_REVIEWS,
    SELF_SUBJECT_REVIEWS,
)

_BY_KEY = {resource.key: resource for resource in RESOURCE_TYPES}
_BY_KIND = {(resource.api_version, resource.kind): resource for resource in RESOURCE_TYPES}


def by_key(key: str) -> ResourceType | None:
    """Look a resource up by its key ("pods", "deployments.apps")."""
    return _BY_KEY.get(key)


def by_kind(api_version: str, kind: str) -> ResourceType | None:
    """Look a resource up by the apiVersion and kind written in an object."""
    return _BY_KIND.get((api_version, kind))
