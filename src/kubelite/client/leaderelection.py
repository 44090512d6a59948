"""Lease-based leader election, so that two controller-managers (or schedulers) can run for HA.

Data flow (client-go's `tools/leaderelection`, LeaseLock): every candidate loops
`try_acquire_or_renew` on one `coordination.k8s.io/v1` Lease. The holder writes its identity and
`renewTime` every `retry_period`; a candidate takes the Lease over only when the record it last
saw has not changed for `lease_duration`, judged on the candidate's own clock since it observed
that record (never by comparing its clock with the holder's `renewTime`, which would trust clock
sync). Writes are updates with the observed resourceVersion, so two candidates racing for an
expired Lease cannot both win: one gets 409 Conflict.

`run(lead, stop)` calls `lead(lost)` once leadership is acquired; `lost` is set, and `lead`'s task
is cancelled, if renewal fails for `renew_deadline`. On `stop` the holder releases the Lease (empty
holder, 1 s duration) so that a standby takes over at once. Defaults are kube-controller-manager's:
15 s lease, 10 s renew deadline, 2 s retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from kubelite.api.resources import LEASES
from kubelite.clock import Clock

from .client import ApiClient, Object
from .errors import ApiError, TransportError
from .events import format_micro_time

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LeaderElectionSettings:
    """Where the Lease lives and how long leadership lasts without renewal."""

    #: The Lease's name, one per component ("kube-controller-manager", "kube-scheduler").
    lease_name: str
    #: This candidate's identity, unique per process (host name and a random suffix).
    identity: str
    #: The Lease's namespace.
    namespace: str = "kube-system"
    #: How long a non-holder waits, after the record last changed, before taking the Lease over.
    lease_duration: float = 15.0
    #: How long the holder keeps trying to renew before it gives leadership up.
    renew_deadline: float = 10.0
    #: How often candidates try to acquire and the holder renews.
    retry_period: float = 2.0
    #: Release the Lease on a clean stop, so that a standby need not wait for it to expire.
    release_on_cancel: bool = True


class LeaderElector:
    """One candidate for one Lease."""

    def __init__(self, client: ApiClient, clock: Clock, settings: LeaderElectionSettings) -> None:
        self._client = client
        self._clock = clock
        self.settings = settings
        self._observed_spec: dict[str, Any] = {}
        self._observed_version = ""
        self._observed_at = -1e18
        self._exists = False
        self.transitions_seen = 0

    @property
    def observed_holder(self) -> str:
        return str(self._observed_spec.get("holderIdentity") or "")

    def is_leader(self) -> bool:
        """True while this candidate holds a Lease it renewed within `lease_duration`."""
        return (
            self.observed_holder == self.settings.identity
            and self._clock.monotonic() - self._observed_at < self.settings.lease_duration
        )

    async def try_acquire_or_renew(self) -> bool:
        """One attempt to take or keep the Lease; True if this candidate holds it afterwards."""
        settings = self.settings
        now_wall = format_micro_time(self._clock.now())
        try:
            current = await self._client.get(LEASES, settings.lease_name, settings.namespace)
        except ApiError as error:
            if error.code != 404:
                raise
            return await self._create(now_wall)
        spec = dict(current.get("spec") or {})
        version = str((current.get("metadata") or {}).get("resourceVersion", ""))
        if spec != self._observed_spec or version != self._observed_version:
            self._observed_spec, self._observed_version = spec, version
            self._observed_at = self._clock.monotonic()
        holder = str(spec.get("holderIdentity") or "")
        duration = float(spec.get("leaseDurationSeconds") or settings.lease_duration)
        held_by_other = holder not in ("", settings.identity)
        if held_by_other and self._clock.monotonic() - self._observed_at < duration:
            return False
        new_spec = dict(spec)
        new_spec.update(
            holderIdentity=settings.identity,
            leaseDurationSeconds=max(1, int(settings.lease_duration)),
            renewTime=now_wall,
        )
        if holder != settings.identity:
            new_spec["acquireTime"] = now_wall
            new_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
        current["spec"] = new_spec
        try:
            updated = await self._client.replace(LEASES, current, settings.namespace)
        except ApiError as error:
            if error.code == 409:
                return False  # another candidate wrote first
            raise
        self._observe(updated)
        return True

    async def _create(self, now_wall: str) -> bool:
        settings = self.settings
        body: Object = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": settings.lease_name, "namespace": settings.namespace},
            "spec": {
                "holderIdentity": settings.identity,
                "leaseDurationSeconds": max(1, int(settings.lease_duration)),
                "acquireTime": now_wall,
                "renewTime": now_wall,
                "leaseTransitions": 0,
            },
        }
        try:
            created = await self._client.create(LEASES, body, settings.namespace)
        except ApiError as error:
            if error.code == 409:
                return False
            raise
        self._observe(created)
        return True

    def _observe(self, lease: Object) -> None:
        self._observed_spec = dict(lease.get("spec") or {})
        self._observed_version = str((lease.get("metadata") or {}).get("resourceVersion", ""))
        self._observed_at = self._clock.monotonic()

    async def _attempt(self) -> bool:
        try:
            return await self.try_acquire_or_renew()
        except (ApiError, TransportError) as error:
            log.warning("leader election for %s: %s", self.settings.lease_name, error)
            return False

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Retry every `retry_period` until this candidate leads (True) or `stop` is set (False)."""
        while not stop.is_set():
            if await self._attempt():
                log.info("%s acquired lease %s", self.settings.identity, self.settings.lease_name)
                return True
            await self._sleep_or_stop(self.settings.retry_period, stop)
        return False

    async def renew_until_lost(self, stop: asyncio.Event) -> bool:
        """Renew every `retry_period`; False when renewal failed for `renew_deadline`, True on stop."""
        last_renewed = self._clock.monotonic()
        while not stop.is_set():
            await self._sleep_or_stop(self.settings.retry_period, stop)
            if stop.is_set():
                return True
            if await self._attempt():
                last_renewed = self._clock.monotonic()
            elif self._clock.monotonic() - last_renewed >= self.settings.renew_deadline:
                log.error("%s lost lease %s", self.settings.identity, self.settings.lease_name)
                return False
        return True

    async def release(self) -> None:
        """Give the Lease up (only if still held), so that a standby takes over without waiting."""
        settings = self.settings
        try:
            current = await self._client.get(LEASES, settings.lease_name, settings.namespace)
            spec = current.get("spec") or {}
            if spec.get("holderIdentity") != settings.identity:
                return
            current["spec"] = {
                **spec,
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "renewTime": format_micro_time(self._clock.now()),
            }
            await self._client.replace(LEASES, current, settings.namespace)
            self._observed_spec = {}
        except (ApiError, TransportError) as error:
            log.warning("releasing lease %s: %s", settings.lease_name, error)

    async def run(
        self, lead: Callable[[asyncio.Event], Coroutine[Any, Any, None]], stop: asyncio.Event
    ) -> bool:
        """Acquire, run `lead(lost)` while renewing, and return when stopped (True) or the Lease is
        lost (False); a component should exit after losing leadership, as Kubernetes' do."""
        if not await self.acquire(stop):
            return True
        lost = asyncio.Event()
        leading = asyncio.create_task(lead(lost))
        renewing = asyncio.create_task(self.renew_until_lost(stop))
        await asyncio.wait({leading, renewing}, return_when=asyncio.FIRST_COMPLETED)
        kept = renewing.result() if renewing.done() else True
        if not kept:
            lost.set()
        if not renewing.done():
            renewing.cancel()
        leading.cancel()
        await asyncio.gather(leading, renewing, return_exceptions=True)
        if kept and self.settings.release_on_cancel:
            await self.release()
        return kept

    async def _sleep_or_stop(self, seconds: float, stop: asyncio.Event) -> None:
        sleeping = asyncio.create_task(self._clock.sleep(seconds))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        sleeping.cancel()
        stopping.cancel()
