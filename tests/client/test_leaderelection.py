"""Lease-based leader election between candidates on one API server, on virtual time."""

from __future__ import annotations

import asyncio

from kubelite.api.resources import LEASES
from kubelite.client.leaderelection import LeaderElectionSettings, LeaderElector
from kubelite.clock import FakeClock

from .cluster import in_process_cluster


def settings(identity: str) -> LeaderElectionSettings:
    return LeaderElectionSettings(lease_name="kube-controller-manager", identity=identity)


def test_only_one_candidate_leads_and_a_standby_takes_over_after_expiry() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            clock = FakeClock()
            first = LeaderElector(client, clock, settings("a"))
            second = LeaderElector(client, clock, settings("b"))
            assert await first.try_acquire_or_renew()
            assert not await second.try_acquire_or_renew()
            clock.advance(10)
            assert await first.try_acquire_or_renew()  # renewal changes the record...
            assert not await second.try_acquire_or_renew()
            clock.advance(14)
            assert not await second.try_acquire_or_renew()  # ...so b's 15 s count restarted
            clock.advance(1.5)
            assert await second.try_acquire_or_renew()  # a stopped renewing 15.5 s ago
            assert not await first.try_acquire_or_renew()
            assert second.is_leader() and not first.is_leader()
            lease = await client.get(LEASES, "kube-controller-manager", "kube-system")
            assert lease["spec"]["holderIdentity"] == "b"
            assert lease["spec"]["leaseTransitions"] == 1
            assert lease["spec"]["leaseDurationSeconds"] == 15

    asyncio.run(scenario())


def test_release_on_stop_hands_over_without_waiting() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            clock = FakeClock()
            leader = LeaderElector(client, clock, settings("a"))
            started = asyncio.Event()

            async def lead(lost: asyncio.Event) -> None:
                started.set()
                await asyncio.Event().wait()

            stop = asyncio.Event()
            running = asyncio.create_task(leader.run(lead, stop))
            await asyncio.wait_for(started.wait(), 5)
            stop.set()
            assert await running is True
            lease = await client.get(LEASES, "kube-controller-manager", "kube-system")
            assert lease["spec"]["holderIdentity"] == ""
            standby = LeaderElector(client, clock, settings("b"))
            assert await standby.try_acquire_or_renew()

    asyncio.run(scenario())


def test_leader_that_cannot_renew_gives_up_after_the_renew_deadline() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            clock = FakeClock()
            leader = LeaderElector(client, clock, settings("a"))
            lost_seen = asyncio.Event()

            async def lead(lost: asyncio.Event) -> None:
                try:
                    await asyncio.Event().wait()
                finally:
                    lost_seen.set()

            stop = asyncio.Event()
            running = asyncio.create_task(leader.run(lead, stop))
            for _ in range(50):
                await asyncio.sleep(0.002)
            assert leader.is_leader()
            # Someone else takes the Lease by force: every renewal now fails.
            lease = await client.get(LEASES, "kube-controller-manager", "kube-system")
            lease["spec"]["holderIdentity"] = "intruder"
            await client.replace(LEASES, lease, "kube-system")
            for _ in range(8):
                clock.advance(2)
                for _ in range(10):
                    await asyncio.sleep(0.002)
            assert await asyncio.wait_for(running, 5) is False
            assert lost_seen.is_set()

    asyncio.run(scenario())
