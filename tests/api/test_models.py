"""Models round-trip the JSON kubectl sends, and pod resource amounts follow Kubernetes' rules."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from kubelite.api.models import (
    MODEL_BY_KEY,
    ContainerStatus,
    Pod,
    PodSpec,
    ReplicaSetStatus,
    from_dict,
    to_dict,
)
from kubelite.api.pod_resources import pod_limits, pod_requests, qos_class
from kubelite.api.resources import RESOURCE_TYPES

FULL_POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web",
        "namespace": "default",
        "labels": {"app": "web"},
        "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r", "uid": "u", "controller": True}
        ],
        "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {}}}],
    },
    "spec": {
        "containers": [
            {
                "name": "c",
                "image": "nginx",
                "ports": [{"containerPort": 80, "hostIP": "0.0.0.0", "protocol": "TCP"}],
                "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "securityContext": {"runAsUser": 1000, "capabilities": {"drop": ["ALL"]}},
                "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
                "readinessProbe": {"httpGet": {"port": "http", "path": "/healthz"}},
            }
        ],
        "volumes": [{"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}],
        "hostPID": True,
        "setHostnameAsFQDN": False,
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app": "web"}},
                    }
                ]
            }
        },
    },
    "status": {
        "phase": "Running",
        "hostIP": "10.0.0.2",
        "podIPs": [{"ip": "10.1.0.5"}],
        "qosClass": "BestEffort",
        "containerStatuses": [
            {
                "name": "c",
                "ready": False,
                "restartCount": 0,
                "image": "nginx",
                "imageID": "",
                "containerID": "x://1",
            }
        ],
    },
}


def test_pod_round_trip_loses_nothing() -> None:
    assert to_dict(from_dict(Pod, FULL_POD)) == FULL_POD


@pytest.mark.parametrize("resource", RESOURCE_TYPES, ids=[r.key for r in RESOURCE_TYPES])
def test_every_kind_has_a_model_with_its_api_version_and_kind(resource: Any) -> None:
    model = MODEL_BY_KEY[resource.key]
    empty: dict[str, Any] = {"value": 0} if resource.kind == "PriorityClass" else {}
    encoded = to_dict(msgspec.convert(empty, model))
    assert (encoded["apiVersion"], encoded["kind"]) == (resource.api_version, resource.kind)


def test_always_written_fields_survive_zero_values() -> None:
    status = ContainerStatus(name="c", ready=False, restart_count=0, image="i", image_id="")
    assert to_dict(status) == {"name": "c", "ready": False, "restartCount": 0, "image": "i", "imageID": ""}
    assert to_dict(ReplicaSetStatus(replicas=0)) == {"replicas": 0}


def _spec(**fields: Any) -> PodSpec:
    return from_dict(PodSpec, fields)


def _container(
    name: str, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"name": name, "resources": resources, **extra}


REQUEST_CASES = [
    (
        "sum",
        _spec(containers=[_container("a", {"cpu": "250m"}), _container("b", {"cpu": "500m"})]),
        {"cpu": 750},
    ),
    (
        "limit-implies-request",
        _spec(containers=[_container("a", limits={"memory": "1Gi"})]),
        {"memory": 2**30},
    ),
    (
        "init-max",
        _spec(containers=[_container("a", {"cpu": "1"})], initContainers=[_container("i", {"cpu": "2"})]),
        {"cpu": 2000},
    ),
    (
        "sidecar-adds",
        _spec(
            containers=[_container("a", {"cpu": "1"})],
            initContainers=[
                _container("s", {"cpu": "500m"}, restartPolicy="Always"),
                _container("i", {"cpu": "1"}),
            ],
        ),
        {"cpu": 1500},
    ),
    ("overhead", _spec(containers=[_container("a", {"cpu": "1"})], overhead={"cpu": "100m"}), {"cpu": 1100}),
]


@pytest.mark.parametrize(
    ("spec", "expected"), [c[1:] for c in REQUEST_CASES], ids=[c[0] for c in REQUEST_CASES]
)
def test_pod_requests(spec: PodSpec, expected: dict[str, int]) -> None:
    assert pod_requests(spec) == expected


QOS_CASES = [
    ("best-effort", _spec(containers=[_container("a")]), "BestEffort"),
    (
        "guaranteed",
        _spec(containers=[_container("a", limits={"cpu": "1", "memory": "1Gi"})]),
        "Guaranteed",
    ),
    ("burstable", _spec(containers=[_container("a", {"cpu": "1"})]), "Burstable"),
    (
        "burstable-unequal",
        _spec(containers=[_container("a", {"cpu": "500m", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})]),
        "Burstable",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in QOS_CASES], ids=[c[0] for c in QOS_CASES])
def test_qos_class(spec: PodSpec, expected: str) -> None:
    assert qos_class(spec) == expected


def test_pod_limits_leave_out_unlimited_resources() -> None:
    spec = _spec(containers=[_container("a", {"cpu": "1"}, {"memory": "64Mi"})])
    assert pod_limits(spec) == {"memory": 64 * 2**20}
