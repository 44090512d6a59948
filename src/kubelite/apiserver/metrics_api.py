"""`metrics.k8s.io/v1beta1`: NodeMetrics and PodMetrics, read from the node agents' stats.

This is what metrics-server serves in a Kubernetes cluster, built in so that `kubectl top nodes`
and `kubectl top pods` work on a fresh `kubelite up`. Data flow: a request under
`/apis/metrics.k8s.io/v1beta1/` lists the nodes from the watch cache, asks each node's agent for
`/stats/summary` (concurrently, with a short timeout; nodes without an agent endpoint, such as
hollow nodes, are skipped), and renders usage as quantities: CPU in nanocores (`"1234n"`), memory
as the working set in bytes. The window is the agent's sampling interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec

from kubelite.api.labels import SelectorError, parse_selector
from kubelite.api.resources import NODES, PODS, ResourceType

from . import errors
from .agent_client import AgentClient, AgentUnreachable
from .http import Response

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
PREFIX = ["apis", GROUP, VERSION]
NODE_METRICS = ResourceType(GROUP, VERSION, "NodeMetrics", "nodes", "", False)
POD_METRICS = ResourceType(GROUP, VERSION, "PodMetrics", "pods", "", True)
METRICS_RESOURCE_TYPES = (NODE_METRICS, POD_METRICS)
SUMMARY_TIMEOUT_SECONDS = 2.0
WINDOW = "10s"
ListObjects = Callable[[ResourceType], list[dict[str, Any]]]


def _has_rate(stats: dict[str, Any]) -> bool:
    """A CPU rate needs two samples; like metrics-server, what has only one is not reported yet."""
    return "usageNanoCores" in (stats.get("cpu") or {})


def _usage(stats: dict[str, Any]) -> dict[str, str]:
    cpu = int((stats.get("cpu") or {}).get("usageNanoCores", 0))
    memory = int((stats.get("memory") or {}).get("workingSetBytes", 0))
    return {"cpu": f"{cpu}n", "memory": f"{memory // 1024}Ki"}


async def _summaries(nodes: list[dict[str, Any]], agents: AgentClient) -> dict[str, dict[str, Any]]:
    """Node name -> its agent's summary, for every node whose agent answered."""
    targets = {
        str(node["metadata"]["name"]): base for node in nodes if (base := agents.base_url(node)) is not None
    }

    async def fetch(name: str, base: str) -> tuple[str, dict[str, Any] | None]:
        try:
            status, body = await agents.get(base, "/stats/summary", SUMMARY_TIMEOUT_SECONDS)
            return name, msgspec.json.decode(body) if status == 200 else None
        except (AgentUnreachable, msgspec.DecodeError):
            return name, None

    results = await asyncio.gather(*(fetch(name, base) for name, base in targets.items()))
    return {name: summary for name, summary in results if isinstance(summary, dict)}


async def serve_metrics(
    segments: list[str], query: dict[str, str], list_objects: ListObjects, agents: AgentClient
) -> Response:
    """Serve a GET under /apis/metrics.k8s.io/v1beta1/ (segments include that prefix)."""
    rest = segments[3:]
    namespace: str | None = None
    if len(rest) >= 2 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or rest[0] not in ("nodes", "pods") or len(rest) > 2 or (rest[0] == "nodes" and namespace):
        raise errors.path_not_found()
    kind, name = rest[0], rest[1] if len(rest) == 2 else None
    nodes = list_objects(NODES)
    if kind == "nodes" and name is not None:
        nodes = [n for n in nodes if n["metadata"]["name"] == name]
    summaries = await _summaries(nodes, agents)
    items: list[dict[str, Any]] = []
    if kind == "nodes":
        labels = {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in nodes}
        for node_name, summary in summaries.items():
            node_stats = summary.get("node") or {}
            if not _has_rate(node_stats):
                continue
            items.append(
                {
                    "metadata": {"name": node_name, "labels": labels.get(node_name, {})},
                    "timestamp": (node_stats.get("cpu") or {}).get("time"),
                    "window": WINDOW,
                    "usage": _usage(node_stats),
                }
            )
    else:
        pods = {
            (p["metadata"].get("namespace"), p["metadata"]["name"]): p
            for p in list_objects(PODS)
            if namespace is None or p["metadata"].get("namespace") == namespace
        }
        for summary in summaries.values():
            for pod_stats in summary.get("pods") or []:
                ref = pod_stats.get("podRef") or {}
                pod = pods.get((ref.get("namespace"), ref.get("name")))
                if pod is None or (name is not None and ref.get("name") != name):
                    continue
                containers = pod_stats.get("containers") or []
                if not all(_has_rate(container) for container in containers):
                    continue
                items.append(
                    {
                        "metadata": {
                            "name": ref.get("name"),
                            "namespace": ref.get("namespace"),
                            "labels": pod["metadata"].get("labels") or {},
                        },
                        "timestamp": (pod_stats.get("cpu") or {}).get("time"),
                        "window": WINDOW,
                        "containers": [
                            {"name": c.get("name"), "usage": _usage(c)}
                            for c in containers
                        ],
                    }
                )
    kind_name = "NodeMetrics" if kind == "nodes" else "PodMetrics"
    selector_text = query.get("labelSelector", "")
    if selector_text:
        # The full label-selector grammar (in, notin, !=, exists), as `kubectl top -l` may send it.
        try:
            selector = parse_selector(selector_text)
        except SelectorError as error:
            raise errors.bad_request(f"unable to parse requirement: {error}") from error
        items = [item for item in items if selector.matches(item["metadata"]["labels"])]
    for item in items:
        item.update({"kind": kind_name, "apiVersion": API_VERSION})
    if name is not None:
        if not items:
            raise errors.not_found(kind, GROUP, name)
        return Response(200, msgspec.json.encode(items[0]))
    return Response(
        200,
        msgspec.json.encode(
            {"kind": f"{kind_name}List", "apiVersion": API_VERSION, "metadata": {}, "items": items}
        ),
    )
