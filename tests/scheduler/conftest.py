"""Factories for scheduler tests: nodes and pods as wire-form dicts, compiled by the adapter."""

from __future__ import annotations

from typing import Any

from kubelite.scheduler.adapter import node_info, pod_info
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import NodeInfo, PodInfo


def make_node(
    name: str,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
    extra: dict[str, str] | None = None,
) -> NodeInfo:
    return node_info(
        {
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}},
        }
    )


def make_pod(
    name: str,
    cpu: str | None = "100m",
    memory: str | None = "100Mi",
    labels: dict[str, str] | None = None,
    node_name: str = "",
    priority: int | None = None,
    extra_requests: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> PodInfo:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    requests.update(extra_requests or {})
    body: dict[str, Any] = {"containers": [{"name": "c", "resources": {"requests": requests}}], **spec}
    if node_name:
        body["nodeName"] = node_name
    if priority is not None:
        body["priority"] = priority
    return pod_info(
        {
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": name,
                "labels": labels or {},
                "annotations": annotations or {},
            },
            "spec": body,
        }
    )


def table_of(*nodes: NodeInfo, pods: tuple[PodInfo, ...] = ()) -> NodeTable:
    table = NodeTable()
    for node in nodes:
        table.add_node(node)
    for pod in pods:
        table.add_pod(pod)
    return table
