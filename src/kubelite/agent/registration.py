"""Node registration and heartbeats: the Node object, its Lease, and the RuntimeClasses.

Data flow: `register` creates the RuntimeClasses `process`, `wasm` and `oci` if missing, creates the
Node (or, when it already exists after a restart, merges the agent's labels into it), then writes its
status (capacity, allocatable, conditions, addresses, daemon endpoint) through `nodes/status`, and
creates the Lease `kube-node-lease/<node>`. `NodeHeartbeat.renew_lease` bumps `renewTime` (every
10 s by default) and recreates the Lease when it is gone; `NodeHeartbeat.report_status` re-measures
the host and writes the status when a condition or a resource changed, or when the report interval
(5 minutes) has passed, as the kubelet does since node leases exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kubelite.agent.node_status import (
    HostReading,
    condition_objects,
    lease_object,
    node_allocatable,
    node_capacity,
    node_conditions,
    node_labels,
    node_object,
    node_status,
    rfc3339_micro,
    runtime_class_objects,
)
from kubelite.agent.settings import AgentSettings
from kubelite.api.resources import LEASES, NODES, RUNTIME_CLASSES
from kubelite.client import ApiClient, ApiError
from kubelite.clock import Clock

log = logging.getLogger(__name__)
Object = dict[str, Any]


async def ensure_runtime_classes(client: ApiClient) -> None:
    """Create the RuntimeClasses if missing. A node identity may not create cluster objects (as
    in Kubernetes, where an admin does): then they are left to the cluster, which has them."""
    for runtime_class in runtime_class_objects():
        try:
            await client.create(RUNTIME_CLASSES, runtime_class)
        except ApiError as error:
            if error.code == 403:
                log.info("not allowed to create RuntimeClass %s; expecting the cluster to provide it", runtime_class["metadata"]["name"])
                continue
            if error.code != 409:
                raise


class NodeHeartbeat:
    """Registers one node and keeps its Lease and status fresh."""

    def __init__(
        self,
        client: ApiClient,
        settings: AgentSettings,
        clock: Clock,
        measure: Callable[[], HostReading],
        port: Callable[[], int],
    ) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self._measure = measure
        self._port = port
        self.node_name = settings.node_name
        self.node_uid = ""
        self._conditions: list[Object] = []
        self._last_written: tuple[Any, ...] | None = None
        self._last_report = float("-inf")
        self.allocatable: dict[str, int] = {}

    def _status(self, reading: HostReading) -> tuple[Object, tuple[Any, ...]]:
        capacity = node_capacity(reading, self._settings.capacity_overrides)
        self.allocatable = node_allocatable(capacity, self._settings.reserved)
        readings = node_conditions(reading)
        self._conditions = condition_objects(readings, self._conditions, self._clock.now())
        status = node_status(
            capacity,
            self.allocatable,
            self._conditions,
            self._settings.address,
            self.node_name,
            self._port(),
        )
        fingerprint = (
            tuple((c.type, c.status) for c in readings),
            tuple(sorted(status["capacity"].items())),
            tuple(sorted(status["allocatable"].items())),
            self._port(),
        )
        return status, fingerprint

    async def register(self) -> None:
        await ensure_runtime_classes(self._client)
        labels = node_labels(self._settings, self.node_name)
        reading = self._measure()
        status, fingerprint = self._status(reading)
        try:
            created = await self._client.create(NODES, node_object(self.node_name, labels, status))
        except ApiError as error:
            if error.code != 409:
                raise
            created = await self._client.patch(NODES, self.node_name, {"metadata": {"labels": labels}})
        self.node_uid = str(created["metadata"].get("uid", ""))
        await self._client.patch(NODES, self.node_name, {"status": status}, subresource="status")
        self._last_written, self._last_report = fingerprint, self._clock.monotonic()
        await self.renew_lease()

    async def renew_lease(self) -> None:
        now = self._clock.now()
        try:
            await self._client.patch(
                LEASES,
                self.node_name,
                {"spec": {"renewTime": rfc3339_micro(now), "holderIdentity": self.node_name}},
                "kube-node-lease",
            )
        except ApiError as error:
            if error.code != 404:
                raise
            lease = lease_object(self.node_name, self.node_uid, self._settings.lease_duration_seconds, now)
            await self._client.create(LEASES, lease, "kube-node-lease")

    async def report_status(self) -> bool:
        """Re-measure; write the status if it changed or is due. True when written."""
        status, fingerprint = self._status(self._measure())
        due = self._clock.monotonic() - self._last_report >= self._settings.node_status_report_seconds
        if fingerprint == self._last_written and not due:
            return False
        await self._client.patch(NODES, self.node_name, {"status": status}, subresource="status")
        self._last_written, self._last_report = fingerprint, self._clock.monotonic()
        return True
