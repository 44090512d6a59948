"""Kubernetes' defaulting, applied in place to admitted JSON objects before validation.

Follows pkg/apis/core/v1/defaults.go, apps/v1, autoscaling/v2 and scheduling/v1 defaults, plus
the registry and admission steps every cluster applies on create (Namespace finalizer and name
label, a pod's default service account and not-ready/unreachable tolerations). Objects may be
malformed at this point, so every step checks types and skips what it cannot read; validation
then reports the problem. Pod priority from priorityClassName and Service IP allocation need
other objects and are the API server's job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.api.resources import ResourceType

JSONObject = dict[str, Any]

DEFAULT_TOLERATION_SECONDS = 300
_FILE_MODE_0644 = 0o644


def _child(obj: JSONObject, key: str) -> JSONObject | None:
    """obj[key] as a dict, created empty if absent; None when it holds something else."""
    value = obj.setdefault(key, {})
    return value if isinstance(value, dict) else None


def _dicts(value: Any) -> list[JSONObject]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _set_missing(obj: JSONObject, **defaults: Any) -> None:
    for key, value in defaults.items():
        if obj.get(key) is None:
            obj[key] = value


def _image_pull_policy(image: Any) -> str:
    """Always for ":latest" or an untagged image, IfNotPresent for a tag or digest."""
    if not isinstance(image, str):
        return "IfNotPresent"
    if "@" in image:
        return "IfNotPresent"
    last_segment = image.rsplit("/", 1)[-1]
    if ":" not in last_segment:
        return "Always"
    return "Always" if last_segment.rsplit(":", 1)[1] == "latest" else "IfNotPresent"


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    _set_missing(probe, timeoutSeconds=1, periodSeconds=10, successThreshold=1, failureThreshold=3)
    http_get = probe.get("httpGet")
    if isinstance(http_get, dict):
        _set_missing(http_get, path="/", scheme="HTTP")


def _default_container(container: JSONObject) -> None:
    _set_missing(
        container,
        imagePullPolicy=_image_pull_policy(container.get("image")),
        terminationMessagePath="/dev/termination-log",
        terminationMessagePolicy="File",
    )
    for port in _dicts(container.get("ports")):
        _set_missing(port, protocol="TCP")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe_name))
    for env in _dicts(container.get("env")):
        value_from = env.get("valueFrom")
        field_ref = value_from.get("fieldRef") if isinstance(value_from, dict) else None
        if isinstance(field_ref, dict):
            _set_missing(field_ref, apiVersion="v1")


def _default_volume(volume: JSONObject) -> None:
    for source_name, mode_key in (
        ("configMap", "defaultMode"),
        ("secret", "defaultMode"),
        ("projected", "defaultMode"),
        ("downwardAPI", "defaultMode"),
    ):
        source = volume.get(source_name)
        if isinstance(source, dict):
            _set_missing(source, **{mode_key: _FILE_MODE_0644})
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        _set_missing(host_path, type="")


def default_pod_spec(spec: JSONObject) -> None:
    """SetDefaults_PodSpec and the container, port, probe and volume defaults beneath it."""
    _set_missing(
        spec,
        dnsPolicy="ClusterFirst",
        restartPolicy="Always",
        terminationGracePeriodSeconds=30,
        securityContext={},
        schedulerName="default-scheduler",
        enableServiceLinks=True,
    )
    if spec.get("serviceAccountName") and not spec.get("serviceAccount"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    host_network = spec.get("hostNetwork") is True
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in _dicts(spec.get(key)):
            _default_container(container)
            if host_network:
                for port in _dicts(container.get("ports")):
                    _set_missing(port, hostPort=port.get("containerPort"))
    for volume in _dicts(spec.get("volumes")):
        _default_volume(volume)


def _requests_from_limits(spec: JSONObject) -> None:
    """SetDefaults_Pod: a resource with a limit and no request requests its limit."""
    for key in ("containers", "initContainers"):
        for container in _dicts(spec.get(key)):
            resources = container.get("resources")
            if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
                continue
            requests = resources.setdefault("requests", {})
            if isinstance(requests, dict):
                for name, limit in resources["limits"].items():
                    requests.setdefault(name, limit)


def _tolerates(tolerations: list[JSONObject], key: str) -> bool:
    def covers(toleration: JSONObject) -> bool:
        wildcard = not toleration.get("key") and toleration.get("operator") == "Exists"
        matches_key = toleration.get("key") == key or wildcard
        return matches_key and toleration.get("effect") in (None, "", "NoExecute")

    return any(covers(toleration) for toleration in tolerations)


def _default_tolerations(spec: JSONObject) -> None:
    """The DefaultTolerationSeconds admission plugin: evict 300 s after a node goes not-ready/unreachable."""
    tolerations = spec.get("tolerations")
    if tolerations is None:
        tolerations = spec["tolerations"] = []
    if not isinstance(tolerations, list):
        return
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not _tolerates(_dicts(tolerations), key):
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )


def _default_pod(obj: JSONObject) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _set_missing(spec, serviceAccountName="default")
    default_pod_spec(spec)
    _requests_from_limits(spec)
    _default_tolerations(spec)
    status = _child(obj, "status")
    if status is not None:
        _set_missing(status, phase="Pending")


def _default_template(spec: JSONObject) -> None:
    template = _child(spec, "template")
    template_spec = _child(template, "spec") if template is not None else None
    if template_spec is not None:
        default_pod_spec(template_spec)


def _default_deployment(obj: JSONObject) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _set_missing(spec, replicas=1, revisionHistoryLimit=10, progressDeadlineSeconds=600)
    strategy = _child(spec, "strategy")
    if strategy is not None:
        _set_missing(strategy, type="RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = _child(strategy, "rollingUpdate")
            if rolling is not None:
                _set_missing(rolling, maxUnavailable="25%", maxSurge="25%")
    _default_template(spec)


def _default_replicaset(obj: JSONObject) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _set_missing(spec, replicas=1)
    _default_template(spec)


def _default_service(obj: JSONObject) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _set_missing(spec, type="ClusterIP", sessionAffinity="None")
    service_type = spec["type"]
    if service_type != "ExternalName":
        _set_missing(spec, internalTrafficPolicy="Cluster")
    if service_type in ("NodePort", "LoadBalancer"):
        _set_missing(spec, externalTrafficPolicy="Cluster")
    if service_type == "LoadBalancer":
        _set_missing(spec, allocateLoadBalancerNodePorts=True)
    if spec["sessionAffinity"] == "ClientIP":
        config = _child(spec, "sessionAffinityConfig")
        client_ip = _child(config, "clientIP") if config is not None else None
        if client_ip is not None:
            _set_missing(client_ip, timeoutSeconds=10800)
    for port in _dicts(spec.get("ports")):
        _set_missing(port, protocol="TCP")
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]


def _default_namespace(obj: JSONObject) -> None:
    metadata = _child(obj, "metadata")
    if metadata is not None and isinstance(metadata.get("name"), str):
        labels = _child(metadata, "labels")
        if labels is not None:
            labels["kubernetes.io/metadata.name"] = metadata["name"]
    spec = _child(obj, "spec")
    if spec is not None:
        _set_missing(spec, finalizers=["kubernetes"])
    status = _child(obj, "status")
    if status is not None:
        _set_missing(status, phase="Active")


def _default_node(obj: JSONObject) -> None:
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def _default_endpoints(obj: JSONObject) -> None:
    for subset in _dicts(obj.get("subsets")):
        for port in _dicts(subset.get("ports")):
            _set_missing(port, protocol="TCP")


def _scaling_rules(rules: Any, window: int, policies: list[JSONObject]) -> Any:
    if rules is None:
        rules = {}
    if isinstance(rules, dict):
        _set_missing(rules, stabilizationWindowSeconds=window, selectPolicy="Max", policies=policies)
    return rules


def _default_hpa(obj: JSONObject) -> None:
    """SetDefaults_HorizontalPodAutoscaler; behavior is filled in only when the user gave one."""
    spec = _child(obj, "spec")
    if spec is None:
        return
    _set_missing(spec, minReplicas=1)
    if not spec.get("metrics"):
        target = {"type": "Utilization", "averageUtilization": 80}
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        scale_up_policies = [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ]
        behavior["scaleUp"] = _scaling_rules(behavior.get("scaleUp"), 0, scale_up_policies)
        behavior["scaleDown"] = _scaling_rules(
            behavior.get("scaleDown"), 300, [{"type": "Percent", "value": 100, "periodSeconds": 15}]
        )


def _default_secret(obj: JSONObject) -> None:
    _set_missing(obj, type="Opaque")


def _default_priority_class(obj: JSONObject) -> None:
    _set_missing(obj, preemptionPolicy="PreemptLowerPriority")


def _default_rbac_binding(obj: JSONObject) -> None:
    """rbac/v1 SetDefaults_Subject and SetDefaults_*RoleBinding: API groups a client may leave out."""
    role_ref = obj.get("roleRef")
    if isinstance(role_ref, dict) and not role_ref.get("apiGroup"):
        role_ref["apiGroup"] = "rbac.authorization.k8s.io"
    for subject in _dicts(obj.get("subjects")):
        if subject.get("apiGroup") is None and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = "rbac.authorization.k8s.io"


_DEFAULTERS: dict[str, Callable[[JSONObject], None]] = {
    "pods": _default_pod,
    "deployments.apps": _default_deployment,
    "replicasets.apps": _default_replicaset,
    "services": _default_service,
    "namespaces": _default_namespace,
    "nodes": _default_node,
    "endpoints": _default_endpoints,
    "horizontalpodautoscalers.autoscaling": _default_hpa,
    "secrets": _default_secret,
    "priorityclasses.scheduling.k8s.io": _default_priority_class,
    "rolebindings.rbac.authorization.k8s.io": _default_rbac_binding,
    "clusterrolebindings.rbac.authorization.k8s.io": _default_rbac_binding,
}


def default_object(resource: ResourceType, obj: dict[str, Any]) -> None:
    """Apply Kubernetes' defaults for `resource` to `obj` in place (idempotent)."""
    if not isinstance(obj, dict):
        return
    _set_missing(obj, apiVersion=resource.api_version, kind=resource.kind)
    defaulter = _DEFAULTERS.get(resource.key)
    if defaulter is not None:
        defaulter(obj)
