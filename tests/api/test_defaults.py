"""Defaulting matches what Kubernetes stores for each kind, and is idempotent."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api.defaults import default_object
from kubelite.api.resources import (
    DEPLOYMENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    NAMESPACES,
    NODES,
    PODS,
    PRIORITY_CLASSES,
    REPLICASETS,
    SECRETS,
    SERVICES,
    ResourceType,
)


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


POD = {
    "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]},
}
TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}

CASES: list[tuple[str, ResourceType, dict[str, Any], str, Any]] = [
    ("pod-restart-policy", PODS, POD, "spec.restartPolicy", "Always"),
    ("pod-dns-policy", PODS, POD, "spec.dnsPolicy", "ClusterFirst"),
    ("pod-scheduler", PODS, POD, "spec.schedulerName", "default-scheduler"),
    ("pod-grace", PODS, POD, "spec.terminationGracePeriodSeconds", 30),
    ("pod-service-links", PODS, POD, "spec.enableServiceLinks", True),
    ("pod-service-account", PODS, POD, "spec.serviceAccountName", "default"),
    ("pod-pull-policy-tag", PODS, POD, "spec.containers.0.imagePullPolicy", "IfNotPresent"),
    ("pod-termination-path", PODS, POD, "spec.containers.0.terminationMessagePath", "/dev/termination-log"),
    ("pod-termination-policy", PODS, POD, "spec.containers.0.terminationMessagePolicy", "File"),
    ("pod-port-protocol", PODS, POD, "spec.containers.0.ports.0.protocol", "TCP"),
    ("pod-phase", PODS, POD, "status.phase", "Pending"),
    ("pod-not-ready-toleration", PODS, POD, "spec.tolerations.0.key", "node.kubernetes.io/not-ready"),
    ("pod-toleration-seconds", PODS, POD, "spec.tolerations.1.tolerationSeconds", 300),
    (
        "pod-pull-policy-latest",
        PODS,
        {"spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        "spec.containers.0.imagePullPolicy",
        "Always",
    ),
    (
        "pod-requests-from-limits",
        PODS,
        {"spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "1"}}}]}},
        "spec.containers.0.resources.requests.cpu",
        "1",
    ),
    (
        "pod-probe-defaults",
        PODS,
        {"spec": {"containers": [{"name": "c", "image": "i", "livenessProbe": {"httpGet": {"port": 80}}}]}},
        "spec.containers.0.livenessProbe",
        {
            "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
            "timeoutSeconds": 1,
            "periodSeconds": 10,
            "successThreshold": 1,
            "failureThreshold": 3,
        },
    ),
    ("deployment-replicas", DEPLOYMENTS, {"spec": {"template": TEMPLATE}}, "spec.replicas", 1),
    (
        "deployment-strategy",
        DEPLOYMENTS,
        {"spec": {"template": TEMPLATE}},
        "spec.strategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
    ),
    ("deployment-history", DEPLOYMENTS, {"spec": {"template": TEMPLATE}}, "spec.revisionHistoryLimit", 10),
    (
        "deployment-deadline",
        DEPLOYMENTS,
        {"spec": {"template": TEMPLATE}},
        "spec.progressDeadlineSeconds",
        600,
    ),
    (
        "deployment-template",
        DEPLOYMENTS,
        {"spec": {"template": TEMPLATE}},
        "spec.template.spec.restartPolicy",
        "Always",
    ),
    ("replicaset-replicas", REPLICASETS, {"spec": {"template": TEMPLATE}}, "spec.replicas", 1),
    ("service-type", SERVICES, {"spec": {"ports": [{"port": 80}]}}, "spec.type", "ClusterIP"),
    ("service-affinity", SERVICES, {"spec": {"ports": [{"port": 80}]}}, "spec.sessionAffinity", "None"),
    ("service-target-port", SERVICES, {"spec": {"ports": [{"port": 80}]}}, "spec.ports.0.targetPort", 80),
    ("service-port-protocol", SERVICES, {"spec": {"ports": [{"port": 80}]}}, "spec.ports.0.protocol", "TCP"),
    ("secret-type", SECRETS, {"data": {}}, "type", "Opaque"),
    ("namespace-finalizer", NAMESPACES, {"metadata": {"name": "ns"}}, "spec.finalizers", ["kubernetes"]),
    ("namespace-phase", NAMESPACES, {"metadata": {"name": "ns"}}, "status.phase", "Active"),
    (
        "namespace-label",
        NAMESPACES,
        {"metadata": {"name": "ns"}},
        "metadata.labels",
        {"kubernetes.io/metadata.name": "ns"},
    ),
    ("node-allocatable", NODES, {"status": {"capacity": {"cpu": "4"}}}, "status.allocatable", {"cpu": "4"}),
    ("hpa-min", HORIZONTAL_POD_AUTOSCALERS, {"spec": {"maxReplicas": 3}}, "spec.minReplicas", 1),
    (
        "hpa-metrics",
        HORIZONTAL_POD_AUTOSCALERS,
        {"spec": {"maxReplicas": 3}},
        "spec.metrics",
        [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ],
    ),
    (
        "hpa-behavior-filled-when-given",
        HORIZONTAL_POD_AUTOSCALERS,
        {"spec": {"maxReplicas": 3, "behavior": {"scaleDown": {"selectPolicy": "Min"}}}},
        "spec.behavior.scaleDown",
        {
            "selectPolicy": "Min",
            "stabilizationWindowSeconds": 300,
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
    ),
    ("priority-preemption", PRIORITY_CLASSES, {"value": 5}, "preemptionPolicy", "PreemptLowerPriority"),
]


@pytest.mark.parametrize(
    ("resource", "obj", "path", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_defaults(resource: ResourceType, obj: dict[str, Any], path: str, expected: Any) -> None:
    defaulted = copy.deepcopy(obj)
    default_object(resource, defaulted)
    assert _get(defaulted, path) == expected
    again = copy.deepcopy(defaulted)
    default_object(resource, again)
    assert again == defaulted


def test_hpa_behavior_is_not_stored_when_absent() -> None:
    hpa: dict[str, Any] = {"spec": {"maxReplicas": 3}}
    default_object(HORIZONTAL_POD_AUTOSCALERS, hpa)
    assert "behavior" not in hpa["spec"]


def test_user_values_are_kept() -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["restartPolicy"] = "Never"
    pod["spec"]["tolerations"] = [{"operator": "Exists"}]
    default_object(PODS, pod)
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["tolerations"] == [{"operator": "Exists"}]


@pytest.mark.parametrize(
    "garbage",
    [{"spec": []}, {"spec": {"containers": "x"}}, {"spec": {"containers": [1, None]}}, {"metadata": 5}],
    ids=["spec-list", "containers-string", "containers-scalars", "metadata-int"],
)
def test_defaulting_never_raises_on_malformed_objects(garbage: dict[str, Any]) -> None:
    for resource in (PODS, DEPLOYMENTS, SERVICES, NAMESPACES, HORIZONTAL_POD_AUTOSCALERS):
        default_object(resource, copy.deepcopy(garbage))
