"""Node lifecycle: judge node health from Lease heartbeats, taint lost nodes, evict their pods.

Data flow, after kube-controller-manager's `pkg/controller/nodelifecycle`:
1. **Heartbeats.** Agents renew a Lease in `kube-node-lease` every few seconds and post node status
   less often. Every `monitor_period` the monitor notes, on its own clock, when it last saw either
   the Lease's `renewTime` or the Ready condition's `lastHeartbeatTime` change (never comparing
   clocks across hosts). A node silent for longer than `grace_period` (`startup_grace_period` if
   it never reported Ready) has its conditions set to Unknown ("Kubelet stopped posting node
   status.").
2. **Taints.** Ready=Unknown earns `node.kubernetes.io/unreachable`, Ready=False earns
   `node.kubernetes.io/not-ready`, each with effects NoSchedule (at once, so the scheduler stops
   placing pods there) and NoExecute. A node that is Ready again loses them at once. Pressure
   conditions and cordoning (`spec.unschedulable`) earn their NoSchedule taints too.
3. **Rate limits.** NoExecute taints — which evict pods — are applied through one token bucket per
   zone (`topology.kubernetes.io/region` and `zone` labels): `eviction_rate` nodes/s while the
   zone is healthy; when at least `unhealthy_zone_threshold` of its nodes (and more than 2) are
   not Ready, the zone is partially disrupted and the rate drops to `secondary_eviction_rate`, or
   to 0 in zones of at most `large_cluster_size_threshold` nodes; when every zone is fully
   disrupted the controller assumes its own connectivity is at fault and evicts nothing.
4. **Eviction** of the pods on tainted nodes, honouring `tolerationSeconds`, is
   `taint_eviction.TaintEviction`, which this controller runs beside the monitor.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from kubelite.api.resources import LEASES, NODES, PODS
from kubelite.client import ApiClient, ApiError, Object, TransportError
from kubelite.client.events import EventRecorder, format_time
from kubelite.client.informers import BY_NODE_NAME, SharedInformer, meta
from kubelite.client.workqueue import TokenBucketRateLimiter
from kubelite.clock import Clock

from .base import ControllerContext
from .settings import NodeLifecycleSettings
from .taint_eviction import TaintEviction

log = logging.getLogger(__name__)

NAME = "nodelifecycle"
NODE_LEASE_NAMESPACE = "kube-node-lease"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
#: Node conditions whose True status keeps new pods off the node (TaintNodesByCondition).
CONDITION_TAINTS = {
    "MemoryPressure": "node.kubernetes.io/memory-pressure",
    "DiskPressure": "node.kubernetes.io/disk-pressure",
    "PIDPressure": "node.kubernetes.io/pid-pressure",
    "NetworkUnavailable": "node.kubernetes.io/network-unavailable",
}
MANAGED_TAINT_KEYS = frozenset(
    {UNREACHABLE_TAINT, NOT_READY_TAINT, UNSCHEDULABLE_TAINT, *CONDITION_TAINTS.values()}
)
ZONE_LABELS = ("topology.kubernetes.io/region", "topology.kubernetes.io/zone")
#: How often queued NoExecute taints are applied (kube-controller-manager: 100 ms).
TAINTING_PASS_SECONDS = 0.1
CONFLICT_RETRIES = 5

ReadyState = Literal["True", "False", "Unknown"]
ZoneState = Literal["Normal", "PartialDisruption", "FullDisruption"]


@dataclass(slots=True)
class NodeHealth:
    """What the monitor last saw of a node, and when (on the controller's monotonic clock)."""

    lease_renew_time: str
    ready_heartbeat: str
    probe_at: float


def ready_condition(node: Object) -> dict[str, Any] | None:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition
    return None


def ready_state(node: Object) -> ReadyState:
    condition = ready_condition(node)
    status = condition.get("status") if condition else "Unknown"
    if status == "True":
        return "True"
    return "False" if status == "False" else "Unknown"


def zone_of(node: Object) -> str:
    labels = meta(node).get("labels") or {}
    return "/".join(str(labels.get(label, "")) for label in ZONE_LABELS)  # "region/zone"


def zone_state(ready: int, not_ready: int, threshold: float) -> ZoneState:
    """kube-controller-manager's ComputeZoneState."""
    if ready == 0 and not_ready > 0:
        return "FullDisruption"
    if not_ready > 2 and not_ready / (ready + not_ready) >= threshold:
        return "PartialDisruption"
    return "Normal"


def wanted_taints(node: Object, state: ReadyState) -> set[tuple[str, str]]:
    """(key, effect) of every taint this controller manages that the node should carry: the
    Ready state's NoSchedule and NoExecute taints, and (TaintNodesByCondition) a NoSchedule taint
    per pressure condition that is True and for a cordoned node."""
    wanted: set[tuple[str, str]] = set()
    if state == "Unknown":
        wanted |= {(UNREACHABLE_TAINT, "NoSchedule"), (UNREACHABLE_TAINT, "NoExecute")}
    elif state == "False":
        wanted |= {(NOT_READY_TAINT, "NoSchedule"), (NOT_READY_TAINT, "NoExecute")}
    for condition in (node.get("status") or {}).get("conditions") or []:
        key = CONDITION_TAINTS.get(str(condition.get("type"))) if isinstance(condition, dict) else None
        if key is not None and condition.get("status") == "True":
            wanted.add((key, "NoSchedule"))
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.add((UNSCHEDULABLE_TAINT, "NoSchedule"))
    return wanted


class NodeLifecycleController:
    """The `nodelifecycle` controller: health monitor, condition taints, and taint eviction."""

    name = NAME

    def __init__(self, context: ControllerContext) -> None:
        self._client: ApiClient = context.client
        self._clock: Clock = context.clock
        self._recorder: EventRecorder = context.recorder
        self.settings: NodeLifecycleSettings = context.settings.node_lifecycle
        self._nodes: SharedInformer = context.informers.informer(NODES)
        self._leases: SharedInformer = context.informers.informer(LEASES)
        self._pods: SharedInformer = context.informers.informer(PODS)
        self.eviction = TaintEviction(context)
        self._health: dict[str, NodeHealth] = {}
        # Nodes waiting for their NoExecute taint, per zone, in the order they were found lost.
        self._pending_no_execute: dict[str, OrderedDict[str, None]] = {}
        self._buckets: dict[str, TokenBucketRateLimiter[str]] = {}
        self._ready_states: dict[str, ReadyState] = {}
        self.zone_states: dict[str, ZoneState] = {}

    async def run(self, workers: int, stop: asyncio.Event) -> None:
        tasks = [
            asyncio.create_task(self.eviction.run(max(1, workers) * 4, stop)),
            asyncio.create_task(self._every(self.settings.monitor_period, self.monitor_once, stop)),
            asyncio.create_task(self._every(TAINTING_PASS_SECONDS, self.tainting_pass, stop)),
        ]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _every(
        self, period: float, step: Callable[[], Coroutine[Any, Any, None]], stop: asyncio.Event
    ) -> None:
        # A fixed grid of deadlines, like a ticker: a slow pass delays the next one, but the
        # schedule does not drift by a whole period.
        next_due = self._clock.monotonic()
        while not stop.is_set():
            try:
                await step()
            except (ApiError, TransportError) as error:
                log.warning("node lifecycle: %s", error)
            except Exception:
                # A bug in one pass must not stop node monitoring for good.
                log.exception("node lifecycle pass failed")
            next_due = max(next_due + period, self._clock.monotonic() - period)
            await self._clock.sleep(next_due - self._clock.monotonic())

    # --- health monitor ---------------------------------------------------------------------------

    async def monitor_once(self) -> None:
        """One pass over every node: conditions, NoSchedule taints, zone states, NoExecute queue."""
        nodes = self._nodes.lister.list()
        names = {str(meta(node).get("name")) for node in nodes}
        for gone in set(self._health) - names:
            del self._health[gone]
            self._ready_states.pop(gone, None)
            for pending in self._pending_no_execute.values():
                pending.pop(gone, None)
        ready_by_zone: dict[str, list[int]] = {}
        for node in nodes:
            node = await self._update_health(node)
            name = str(meta(node).get("name"))
            state = ready_state(node)
            if state != "True" and self._ready_states.get(name) == "True":
                await self.mark_pods_not_ready(name)
            self._ready_states[name] = state
            counts = ready_by_zone.setdefault(zone_of(node), [0, 0])
            counts[0 if state == "True" else 1] += 1
            await self._reconcile_taints(node, state)
        self._update_zones(ready_by_zone)
        await self.tainting_pass()

    async def _update_health(self, node: Object) -> Object:
        name = str(meta(node).get("name"))
        lease = self._leases.lister.get(NODE_LEASE_NAMESPACE, name)
        renew = str((lease or {}).get("spec", {}).get("renewTime") or "")
        condition = ready_condition(node)
        heartbeat = str((condition or {}).get("lastHeartbeatTime") or "")
        now = self._clock.monotonic()
        health = self._health.get(name)
        if health is None:
            health = self._health[name] = NodeHealth(renew, heartbeat, now)
        elif health.lease_renew_time != renew or health.ready_heartbeat != heartbeat:
            health.lease_renew_time, health.ready_heartbeat, health.probe_at = renew, heartbeat, now
        grace = self.settings.grace_period if condition is not None else self.settings.startup_grace_period
        if now - health.probe_at <= grace:
            return node
        return await self._mark_unknown(node)

    async def _mark_unknown(self, node: Object) -> Object:
        """Set every condition to Unknown, as kube-controller-manager does for a silent node."""
        conditions = [c for c in (node.get("status") or {}).get("conditions") or [] if isinstance(c, dict)]
        if conditions and all(c.get("status") == "Unknown" for c in conditions):
            return node
        now = format_time(self._clock.now())
        updated: list[dict[str, Any]] = []
        for condition in conditions or [{"type": "Ready"}]:
            if condition.get("status") == "Unknown":
                updated.append(condition)
                continue
            updated.append(
                {
                    **condition,
                    "status": "Unknown",
                    "reason": "NodeStatusUnknown",
                    "message": "Kubelet stopped posting node status.",
                    "lastTransitionTime": now,
                }
            )
        name = str(meta(node).get("name"))
        patch = {
            "metadata": {"resourceVersion": meta(node).get("resourceVersion")},
            "status": {"conditions": updated},
        }
        written = await self._client.patch(NODES, name, patch, subresource="status")
        self._recorder.event(
            {"apiVersion": "v1", "kind": "Node", **node},
            "Normal",
            "NodeNotReady",
            f"Node {name} status is now: NodeNotReady",
        )
        log.info("node %s stopped posting status: Ready=Unknown", name)
        return written

    async def mark_pods_not_ready(self, node_name: str) -> None:
        """Set Ready=False on the pods of a node that stopped being Ready, as Kubernetes'
        MarkPodsNotReady does, so that Services stop sending traffic there before eviction."""
        for pod in self._pods.lister.by_index(BY_NODE_NAME, node_name):
            conditions = [c for c in (pod.get("status") or {}).get("conditions") or [] if isinstance(c, dict)]
            if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                continue
            now = format_time(self._clock.now())
            updated = [
                {**c, "status": "False", "lastTransitionTime": now} if c.get("type") == "Ready" else c
                for c in conditions
            ]
            metadata = meta(pod)
            patch = {
                "metadata": {"resourceVersion": metadata.get("resourceVersion")},
                "status": {"conditions": updated},
            }
            try:
                await self._client.patch(
                    PODS,
                    str(metadata.get("name")),
                    patch,
                    str(metadata.get("namespace")),
                    subresource="status",
                )
            except ApiError as error:
                if error.code not in (404, 409):
                    raise

    async def _reconcile_taints(self, node: Object, state: ReadyState) -> None:
        """NoSchedule taints follow the Ready state at once; NoExecute ones are queued per zone."""
        name = str(meta(node).get("name"))
        wanted = wanted_taints(node, state)
        current = [t for t in (node.get("spec") or {}).get("taints") or [] if isinstance(t, dict)]
        ours = {(t.get("key"), t.get("effect")) for t in current if t.get("key") in MANAGED_TAINT_KEYS}
        wanted_now = {taint for taint in wanted if taint[1] == "NoSchedule"}
        wanted_now |= {taint for taint in ours if taint in wanted}  # applied NoExecute taints stay
        zone = zone_of(node)
        pending = self._pending_no_execute.setdefault(zone, OrderedDict())
        if any(taint[1] == "NoExecute" and taint not in ours for taint in wanted):
            pending.setdefault(name, None)
        else:
            pending.pop(name, None)
        if ours != wanted_now:
            await self._write_taints(node, wanted_now)

    async def _write_taints(self, node: Object, wanted: set[tuple[str, str]]) -> bool:
        """Make the node's condition taints exactly `wanted`, keeping every other taint; on a
        conflict re-read the node from the server and try again (client-go's RetryOnConflict)."""
        name = str(meta(node).get("name"))
        for _ in range(CONFLICT_RETRIES):
            current = [t for t in (node.get("spec") or {}).get("taints") or [] if isinstance(t, dict)]
            kept = [t for t in current if t.get("key") not in MANAGED_TAINT_KEYS]
            existing = {(t.get("key"), t.get("effect")): t for t in current}
            now = format_time(self._clock.now())
            for key, effect in sorted(wanted):
                kept.append(existing.get((key, effect)) or {"key": key, "effect": effect, "timeAdded": now})
            patch = {
                "metadata": {"resourceVersion": meta(node).get("resourceVersion")},
                "spec": {"taints": kept or None},
            }
            try:
                await self._client.patch(NODES, name, patch)
                return True
            except ApiError as error:
                if error.code == 404:
                    return False
                if error.code != 409:
                    raise
            node = await self._client.get(NODES, name)
        return False

    def _update_zones(self, ready_by_zone: dict[str, list[int]]) -> None:
        settings = self.settings
        for zone, (ready, not_ready) in ready_by_zone.items():
            state = zone_state(ready, not_ready, settings.unhealthy_zone_threshold)
            if state == "PartialDisruption":
                large = ready + not_ready > settings.large_cluster_size_threshold
                rate = settings.secondary_eviction_rate if large else 0.0
            else:
                rate = settings.eviction_rate
            if self.zone_states.get(zone) != state:
                log.info("zone %r is now %s (%d ready, %d not ready)", zone, state, ready, not_ready)
            self.zone_states[zone] = state
            bucket = self._buckets.get(zone)
            if bucket is None:
                self._buckets[zone] = TokenBucketRateLimiter(self._clock, qps=rate, burst=1)
            else:
                bucket.qps = rate
        for zone in set(self.zone_states) - set(ready_by_zone):
            del self.zone_states[zone]

    def all_zones_fully_disrupted(self) -> bool:
        return bool(self.zone_states) and all(s == "FullDisruption" for s in self.zone_states.values())

    async def tainting_pass(self) -> None:
        """Apply queued NoExecute taints as each zone's token bucket allows."""
        if self.all_zones_fully_disrupted():
            return  # every node lost at once: more likely our own network than the whole fleet
        for zone, pending in self._pending_no_execute.items():
            bucket = self._buckets.get(zone)
            while pending and bucket is not None and bucket.qps > 0:
                name = next(iter(pending))
                node = self._nodes.lister.get(None, name)
                # The state this monitor decided, not the cache's copy, which may predate our write.
                wanted = wanted_taints(node, self._ready_states.get(name, "True")) if node else set()
                if node is None or not any(effect == "NoExecute" for _, effect in wanted):
                    pending.pop(name)
                    continue
                if not bucket.try_accept():
                    break
                pending.pop(name)
                if await self._write_taints(node, wanted):
                    log.info("node %s tainted NoExecute %s", name, sorted(wanted))


def new_controller(context: ControllerContext) -> NodeLifecycleController:
    return NodeLifecycleController(context)
