"""A pod worker's wake-ups on virtual time: nudges, pushed exits, and the periodic resync."""

from __future__ import annotations

import asyncio

from kubelite.agent.wakeups import Wakeups
from kubelite.clock import FakeClock


def test_resync_is_due_once_per_interval() -> None:
    async def main() -> None:
        clock = FakeClock()
        wakeups = Wakeups(clock)
        assert not wakeups.resync_due(10.0)
        clock.advance(9.9)
        assert not wakeups.resync_due(10.0)
        clock.advance(0.2)
        assert wakeups.resync_due(10.0)
        assert not wakeups.resync_due(10.0)  # stamped: the next one is 10 s later

    asyncio.run(main())


def test_sleep_ends_on_a_nudge_or_on_the_clock() -> None:
    async def main() -> None:
        clock = FakeClock()
        wakeups = Wakeups(clock)
        sleeper = asyncio.create_task(wakeups.sleep(60.0))
        await asyncio.sleep(0)
        assert not sleeper.done()
        wakeups.nudge()
        await asyncio.wait_for(sleeper, 1.0)
        sleeper = asyncio.create_task(wakeups.sleep(5.0))
        while clock.pending_sleepers() == 0:
            await asyncio.sleep(0)
        clock.advance(5.0)
        await asyncio.wait_for(sleeper, 1.0)

    asyncio.run(main())
