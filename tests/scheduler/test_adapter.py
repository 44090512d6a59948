"""The API-object -> record boundary: requests, GPU contract, selectors, affinity and flags."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler.adapter import node_info, pod_info
from kubelite.scheduler.records import GpuRequest


def pod(spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "ns", **metadata}, "spec": spec}


def container(
    requests: dict[str, str] | None = None, limits: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "name": "c",
        "image": "x",
        "resources": {"requests": requests or {}, "limits": limits or {}},
        **extra,
    }


@pytest.mark.parametrize(
    ("spec", "requests", "nonzero_cpu"),
    [
        pytest.param(
            {"containers": [container({"cpu": "250m", "memory": "1Gi"})]},
            {"cpu": 250, "memory": 2**30},
            250,
            id="plain",
        ),
        pytest.param(
            {"containers": [container(limits={"cpu": "1"})]}, {"cpu": 1000}, 1000, id="limit-is-request"
        ),
        pytest.param(
            {"containers": [container({"cpu": "100m"}), container({"cpu": "200m"})]},
            {"cpu": 300},
            300,
            id="containers-sum",
        ),
        pytest.param(
            {"containers": [container({"cpu": "100m"})], "initContainers": [container({"cpu": "2"})]},
            {"cpu": 2000},
            100,
            id="init-container-max",
        ),
        pytest.param(
            {"containers": [container({"cpu": "100m"})], "overhead": {"cpu": "50m"}},
            {"cpu": 150},
            100,
            id="overhead-added",
        ),
        pytest.param({"containers": [container()]}, {}, 100, id="best-effort-nonzero-default"),
    ],
)
def test_effective_requests(spec: dict[str, Any], requests: dict[str, int], nonzero_cpu: int) -> None:
    info = pod_info(pod(spec))
    assert dict(info.requests) == requests and info.nonzero_cpu == nonzero_cpu


@pytest.mark.parametrize(
    ("requests", "gpu"),
    [
        pytest.param({"nvidia.com/gpu": "2"}, GpuRequest(2, 1000), id="whole"),
        pytest.param({"kubelite.io/gpu-milli": "300"}, GpuRequest(1, 300), id="share"),
        pytest.param({"cpu": "1"}, None, id="none"),
    ],
)
def test_gpu_contract(requests: dict[str, str], gpu: GpuRequest | None) -> None:
    info = pod_info(
        pod({"containers": [container(requests)]}, annotations={"kubelite.io/gpu-indices": "0,3"})
    )
    assert info.gpu == gpu
    assert "kubelite.io/gpu-milli" not in info.requests
    assert info.gpu_indices == (0, 3)


def test_scheduling_fields_and_flags() -> None:
    spec = {
        "containers": [container()],
        "priority": 7,
        "schedulerName": "second",
        "preemptionPolicy": "Never",
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
    }
    info = pod_info(
        pod(
            spec,
            labels={"app": "web"},
            deletionTimestamp="2026-01-01T00:00:00Z",
            creationTimestamp="2026-01-01T00:00:00Z",
        )
    )
    assert (info.priority, info.scheduler_name, info.preempt_never, info.deleting) == (
        7,
        "second",
        True,
        True,
    )
    assert info.node_selector.matches({"disk": "ssd"}) and not info.node_selector.matches({"disk": "hdd"})
    assert info.tolerations[0].operator == "Exists" and info.creation > 0


def test_priority_class_resolves_when_admission_left_none() -> None:
    info = pod_info(pod({"containers": [container()], "priorityClassName": "high"}), {"high": 1000})
    assert info.priority == 1000


def test_affinity_term_namespaces() -> None:
    term = {"labelSelector": {"matchLabels": {"a": "b"}}, "topologyKey": "zone"}
    spec = {
        "containers": [container()],
        "affinity": {
            "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]},
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [{**term, "namespaceSelector": {}}]
            },
        },
    }
    info = pod_info(pod(spec))
    assert info.required_affinity[0].namespaces == frozenset({"ns"})
    assert info.required_anti_affinity[0].namespaces is None  # an empty namespaceSelector means all


def test_node_record() -> None:
    info = node_info(
        {
            "metadata": {"name": "n", "labels": {"zone": "a"}},
            "spec": {"unschedulable": True, "taints": [{"key": "k", "value": "v", "effect": "NoExecute"}]},
            "status": {"allocatable": {"cpu": "3500m", "memory": "1Gi", "nvidia.com/gpu": "4"}},
        }
    )
    assert info.allocatable == {"cpu": 3500, "memory": 2**30, "nvidia.com/gpu": 4}
    assert info.unschedulable and info.taints[0].describe() == "{k: v}"
