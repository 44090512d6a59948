"""The Event recorder against a real API server: create, repeat aggregation, spam filter."""

from __future__ import annotations

import asyncio
from typing import Any

from kubelite.api.resources import EVENTS
from kubelite.client.events import COMBINED_PREFIX, SPAM_BURST, EventRecorder, format_time
from kubelite.clock import FakeClock

from .cluster import in_process_cluster

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-1", "namespace": "default", "uid": "uid-1"},
}


async def events_of(client: Any) -> list[dict[str, Any]]:
    items, _ = await client.list_all(EVENTS, "default")
    return sorted(items, key=lambda e: e["metadata"]["name"])


def test_repeats_raise_count_and_last_timestamp_of_one_event() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            clock = FakeClock()
            recorder = EventRecorder(client, clock, "kubelite-controller-manager")
            recorder.event(POD, "Warning", "FailedCreate", "quota exceeded")
            await recorder.flush()
            clock.advance(42)
            recorder.event(POD, "Warning", "FailedCreate", "quota exceeded")
            recorder.event(POD, "Normal", "Killing", "stopping container c")
            await recorder.flush()
            events = await events_of(client)
            assert len(events) == 2
            repeated = next(e for e in events if e["reason"] == "FailedCreate")
            assert repeated["count"] == 2
            assert repeated["firstTimestamp"] == format_time(clock.now() - 42)
            assert repeated["lastTimestamp"] == format_time(clock.now())
            assert repeated["involvedObject"]["uid"] == "uid-1"
            assert repeated["source"]["component"] == "kubelite-controller-manager"

    asyncio.run(scenario())


def test_similar_events_with_different_messages_are_combined() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            recorder = EventRecorder(client, FakeClock(), "c")
            for i in range(15):
                recorder.event(POD, "Normal", "Scaled", f"scaled to {i}")
            await recorder.flush()
            events = await events_of(client)
            combined = [e for e in events if e["message"].startswith(COMBINED_PREFIX)]
            assert len(events) == 10  # nine distinct, then one combined Event
            assert len(combined) == 1
            assert combined[0]["count"] == 6
            assert combined[0]["message"] == COMBINED_PREFIX + "scaled to 14"

    asyncio.run(scenario())


def test_spam_filter_drops_a_flood_for_one_object_then_refills() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            clock = FakeClock()
            recorder = EventRecorder(client, clock, "c")
            for _ in range(SPAM_BURST + 5):
                recorder.event(POD, "Warning", "BackOff", "restarting")
            await recorder.flush()
            assert recorder.dropped == 5
            assert (await events_of(client))[0]["count"] == SPAM_BURST
            clock.advance(300)
            recorder.event(POD, "Warning", "BackOff", "restarting")
            await recorder.flush()
            assert (await events_of(client))[0]["count"] == SPAM_BURST + 1

    asyncio.run(scenario())


def test_run_writes_until_stopped() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            recorder = EventRecorder(client, FakeClock(), "c")
            stop = asyncio.Event()
            task = asyncio.create_task(recorder.run(stop))
            recorder.event(POD, "Normal", "Started", "ok")
            for _ in range(100):
                if recorder.written:
                    break
                await asyncio.sleep(0.005)
            stop.set()
            await task
            assert recorder.written == 1

    asyncio.run(scenario())
