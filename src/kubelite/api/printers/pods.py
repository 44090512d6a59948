"""The pods and nodes tables, whose STATUS columns need Kubernetes' own derivation logic.

Pod STATUS follows printPod: init-container progress ("Init:1/2", "Init:CrashLoopBackOff"),
then the last container's waiting or terminated reason, "Terminating" once deletion started.
Node STATUS joins the Ready condition with "SchedulingDisabled" when cordoned.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.printers.common import (
    AGE_COLUMN,
    NAME_COLUMN,
    JSONObject,
    age_of,
    column,
    dicts,
    get,
    human_duration,
    name_of,
    or_none,
    parse_timestamp,
)

POD_COLUMNS = [
    NAME_COLUMN,
    column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    column("Status", description="The aggregate status of the containers in this pod."),
    column(
        "Restarts",
        description="The number of times the containers in this pod have been restarted and when the last "
        "container in this pod has restarted.",
    ),
    AGE_COLUMN,
    column(
        "IP", description="IP address allocated to the pod. Routable at least within the cluster.", wide=True
    ),
    column("Node", description="NodeName is a request to schedule this pod onto a specific node.", wide=True),
    column(
        "Nominated Node", description="nominatedNodeName is set when this pod preempts other pods.", wide=True
    ),
    column("Readiness Gates", description="If specified, all readiness gates will be evaluated.", wide=True),
]


def _terminated_reason(terminated: JSONObject, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def _init_reason(pod: JSONObject) -> str | None:
    """The "Init:..." status while init containers have not all finished, else None."""
    init_specs = dicts(get(pod, "spec", "initContainers"))
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    for index, status in enumerate(dicts(get(pod, "status", "initContainerStatuses"))):
        terminated = get(status, "state", "terminated")
        waiting = get(status, "state", "waiting")
        if isinstance(terminated, dict) and terminated.get("exitCode") == 0:
            continue
        if status.get("name") in sidecars and status.get("started"):
            continue
        if isinstance(terminated, dict):
            return _terminated_reason(terminated, "Init:")
        if isinstance(waiting, dict) and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            return f"Init:{waiting['reason']}"
        return f"Init:{index}/{len(init_specs)}"
    return None


def pod_row(pod: JSONObject, now: float) -> list[Any]:
    containers = dicts(get(pod, "spec", "containers"))
    sidecar_names = {
        c.get("name") for c in dicts(get(pod, "spec", "initContainers")) if c.get("restartPolicy") == "Always"
    }
    total = len(containers) + len(sidecar_names)
    reason = str(get(pod, "status", "reason") or get(pod, "status", "phase") or "")
    restarts = 0
    ready = 0
    last_restart: float | None = None
    for status in dicts(get(pod, "status", "initContainerStatuses")):
        if status.get("name") in sidecar_names:
            restarts += int(status.get("restartCount") or 0)
            if status.get("ready") and get(status, "state", "running") is not None:
                ready += 1
    init_reason = _init_reason(pod)
    if init_reason is not None:
        reason = init_reason
    statuses = dicts(get(pod, "status", "containerStatuses"))
    has_running = False
    for status in reversed(statuses):
        restarts += int(status.get("restartCount") or 0)
        finished = parse_timestamp(get(status, "lastState", "terminated", "finishedAt"))
        if finished is not None and (last_restart is None or finished > last_restart):
            last_restart = finished
        if init_reason is not None:
            continue
        waiting = get(status, "state", "waiting")
        terminated = get(status, "state", "terminated")
        if isinstance(waiting, dict) and waiting.get("reason"):
            reason = str(waiting["reason"])
        elif isinstance(terminated, dict):
            reason = _terminated_reason(terminated)
        elif status.get("ready") and get(status, "state", "running") is not None:
            has_running = True
            ready += 1
    if init_reason is None and reason == "Completed" and has_running:
        conditions = dicts(get(pod, "status", "conditions"))
        pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        reason = "Running" if pod_ready else "NotReady"
    if get(pod, "metadata", "deletionTimestamp") is not None:
        reason = "Unknown" if get(pod, "status", "reason") == "NodeLost" else "Terminating"
    restart_text = str(restarts)
    if restarts and last_restart is not None:
        restart_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    gates = dicts(get(pod, "spec", "readinessGates"))
    gate_text = "<none>"
    if gates:
        condition_status = {c.get("type"): c.get("status") for c in dicts(get(pod, "status", "conditions"))}
        passed = sum(1 for gate in gates if condition_status.get(gate.get("conditionType")) == "True")
        gate_text = f"{passed}/{len(gates)}"
    return [
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restart_text,
        age_of(pod, now),
        or_none(get(pod, "status", "podIP")),
        or_none(get(pod, "spec", "nodeName")),
        or_none(get(pod, "status", "nominatedNodeName")),
        gate_text,
    ]


NODE_COLUMNS = [
    NAME_COLUMN,
    column("Status", description="The status of the node"),
    column("Roles", description="The roles of the node"),
    AGE_COLUMN,
    column("Version", description="Kubelet Version reported by the node."),
    column("Internal-IP", description="List of addresses reachable to the node.", wide=True),
    column("External-IP", description="List of addresses reachable to the node.", wide=True),
    column("OS-Image", description="OS Image reported by the node from /etc/os-release.", wide=True),
    column("Kernel-Version", description="Kernel Version reported by the node.", wide=True),
    column("Container-Runtime", description="Container Runtime Version reported by the node.", wide=True),
]

_ROLE_PREFIX = "node-role.kubernetes.io/"


def node_row(node: JSONObject, now: float) -> list[Any]:
    ready = next((c for c in dicts(get(node, "status", "conditions")) if c.get("type") == "Ready"), None)
    status = (
        {"True": "Ready", "False": "NotReady"}.get(str(ready.get("status")), "Unknown")
        if ready
        else "Unknown"
    )
    states = [status]
    if get(node, "spec", "unschedulable") is True:
        states.append("SchedulingDisabled")
    labels = get(node, "metadata", "labels") or {}
    roles = {
        key[len(_ROLE_PREFIX) :] for key in labels if key.startswith(_ROLE_PREFIX) and key != _ROLE_PREFIX
    }
    if labels.get("kubernetes.io/role"):
        roles.add(str(labels["kubernetes.io/role"]))
    addresses = dicts(get(node, "status", "addresses"))

    def address(kind: str) -> str:
        return next((str(a.get("address")) for a in addresses if a.get("type") == kind), "<none>")

    info = get(node, "status", "nodeInfo") or {}
    return [
        name_of(node),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        age_of(node, now),
        str(info.get("kubeletVersion") or ""),
        address("InternalIP"),
        address("ExternalIP"),
        or_none(info.get("osImage")) if info.get("osImage") else "<unknown>",
        or_none(info.get("kernelVersion")) if info.get("kernelVersion") else "<unknown>",
        or_none(info.get("containerRuntimeVersion")) if info.get("containerRuntimeVersion") else "<unknown>",
    ]


__all__ = ["NODE_COLUMNS", "POD_COLUMNS", "node_row", "pod_row"]
