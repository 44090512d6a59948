"""The Node authorizer and NodeRestriction: what a node's identity may touch.

After `plugin/pkg/auth/authorizer/node` and `plugin/pkg/admission/noderestriction` in Kubernetes.
A node authenticates as `system:node:<name>` in group `system:nodes`. Beyond what the `system:node`
ClusterRole grants every node (listing and watching nodes and pods, events, CSRs), this
authorizer allows exactly:
- its own Node object (and `nodes/status`): get, create, update, patch, delete;
- its own Lease in `kube-node-lease`;
- pods bound to it (`spec.nodeName`): get, delete, and `pods/status` update and patch;
- Secrets and ConfigMaps that a pod bound to it references (volumes, projected sources, env,
  envFrom, imagePullSecrets): get only; never list or watch.
Everything else gets no opinion here, so RBAC decides, and RBAC gives nodes nothing more. For a
create, the object's name comes from the request body, which is how NodeRestriction stops a node
from registering someone else's Node or Lease.

The pod graph is read through `PodGraph`, which the API server backs with its watch cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from .policy import NODE_USER_PREFIX, NODES_GROUP
from .rbac import Attributes, Decision

NODE_LEASE_NAMESPACE = "kube-node-lease"


class PodGraph(Protocol):
    def pod(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def pods_on_node(self, node: str) -> Iterable[dict[str, Any]]: ...


def node_name_of(attributes: Attributes) -> str | None:
    """The node a request comes from, or None if the user is not a node."""
    user = attributes.user
    if NODES_GROUP in user.groups and user.name.startswith(NODE_USER_PREFIX):
        return user.name[len(NODE_USER_PREFIX) :] or None
    return None


def referenced_objects(pod: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """("secrets"|"configmaps", name) for every Secret and ConfigMap a pod uses."""
    spec = pod.get("spec") or {}
    for ref in spec.get("imagePullSecrets") or []:
        if isinstance(ref, dict) and ref.get("name"):
            yield "secrets", str(ref["name"])
    for volume in spec.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        if isinstance(volume.get("secret"), dict) and volume["secret"].get("secretName"):
            yield "secrets", str(volume["secret"]["secretName"])
        if isinstance(volume.get("configMap"), dict) and volume["configMap"].get("name"):
            yield "configmaps", str(volume["configMap"]["name"])
        projected = volume.get("projected") or {}
        for source in projected.get("sources") or [] if isinstance(projected, dict) else []:
            if isinstance(source, dict):
                if isinstance(source.get("secret"), dict) and source["secret"].get("name"):
                    yield "secrets", str(source["secret"]["name"])
                if isinstance(source.get("configMap"), dict) and source["configMap"].get("name"):
                    yield "configmaps", str(source["configMap"]["name"])
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if not isinstance(container, dict):
            continue
        for env in container.get("env") or []:
            source = (env or {}).get("valueFrom") or {}
            if isinstance(source.get("secretKeyRef"), dict) and source["secretKeyRef"].get("name"):
                yield "secrets", str(source["secretKeyRef"]["name"])
            if isinstance(source.get("configMapKeyRef"), dict) and source["configMapKeyRef"].get("name"):
                yield "configmaps", str(source["configMapKeyRef"]["name"])
        for env_from in container.get("envFrom") or []:
            if not isinstance(env_from, dict):
                continue
            if isinstance(env_from.get("secretRef"), dict) and env_from["secretRef"].get("name"):
                yield "secrets", str(env_from["secretRef"]["name"])
            if isinstance(env_from.get("configMapRef"), dict) and env_from["configMapRef"].get("name"):
                yield "configmaps", str(env_from["configMapRef"]["name"])


def authorize_node(attributes: Attributes, body_name: str | None, graph: PodGraph) -> Decision | None:
    """Allow what the node's own objects need; None means no opinion (RBAC decides)."""
    node = node_name_of(attributes)
    if node is None or not attributes.resource_request:
        return None
    verb, resource, sub = attributes.verb, attributes.resource, attributes.subresource
    target = attributes.name or (body_name if verb == "create" else "") or ""
    if attributes.api_group == "" and resource == "nodes" and sub in ("", "status"):
        if verb in ("get", "create", "update", "patch", "delete") and target == node:
            return Decision(True, "a node may manage its own Node")
        return None
    if attributes.api_group == "coordination.k8s.io" and resource == "leases":
        if attributes.namespace == NODE_LEASE_NAMESPACE and target == node and verb in (
            "get", "create", "update", "patch", "delete"
        ):
            return Decision(True, "a node may manage its own Lease")
        return None
    if attributes.api_group == "" and resource == "pods" and attributes.name:
        pod = graph.pod(attributes.namespace, attributes.name)
        bound_here = pod is not None and (pod.get("spec") or {}).get("nodeName") == node
        if bound_here and ((sub == "" and verb in ("get", "delete")) or (sub == "status" and verb in ("get", "update", "patch"))):
            return Decision(True, "the pod is bound to this node")
        return None
    if attributes.api_group == "" and resource in ("secrets", "configmaps") and verb == "get" and attributes.name:
        wanted = (resource, attributes.name)
        for pod in graph.pods_on_node(node):
            if (pod.get("metadata") or {}).get("namespace") != attributes.namespace:
                continue
            if wanted in set(referenced_objects(pod)):
                return Decision(True, f"a pod bound to this node uses this {resource[:-1]}")
        return None
    return None
