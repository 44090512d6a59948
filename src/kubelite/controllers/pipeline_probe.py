"""The controller side of the event-pipeline benchmark, as a lean process of its own.

Run as `python -m kubelite.controllers.pipeline_probe URL WORKERS`: it lists and watches pods
through a `SharedInformerFactory` over HTTP, feeds a `RateLimitingQueue` from the informer's
handlers, and runs WORKERS workers whose "reconcile" only notes when it started and which write
(the sequence number in `status.message`) the cache then held. It prints `synced` once the cache
is loaded, waits for a line on stdin (the load is over), and prints one JSON report: reconcile
starts (CLOCK_MONOTONIC, shared by every process of a host), peak RSS and CPU share.

It imports only the client, so its RSS is what a controller's machinery costs, not the
benchmark's (numpy, the API server).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from kubelite.api.resources import PODS
from kubelite.client import ApiClient, HttpTransport
from kubelite.client.informers import SharedInformer, SharedInformerFactory, object_key, split_key
from kubelite.client.workqueue import RateLimitingQueue
from kubelite.clock import RealClock


def write_sequence(pod: dict[str, Any]) -> int:
    """The benchmark's write number carried in `status.message` (-1 before the first write)."""
    message = (pod.get("status") or {}).get("message") or "-1"
    try:
        return int(message)
    except ValueError:
        return -1


Start = tuple[str, int, float]


def record_reconciles(
    informer: SharedInformer, clock: RealClock, name: str
) -> tuple[RateLimitingQueue[str], list[Start], Callable[[], Coroutine[Any, Any, None]]]:
    """Wire an informer to a work queue whose workers note each reconcile start: the pod, the
    write number the cache holds then, and the time. Returns the queue, the notes and a worker."""
    queue: RateLimitingQueue[str] = RateLimitingQueue(clock, name=name)
    informer.add_event_handler(
        lambda obj: queue.add(object_key(obj)), lambda old, new: queue.add(object_key(new)), None
    )
    starts: list[Start] = []

    async def worker() -> None:
        while (key := await queue.get()) is not None:
            started = time.monotonic()
            namespace, pod_name = split_key(key)
            pod = informer.lister.get(namespace, pod_name)
            if pod is not None:
                starts.append((pod_name, write_sequence(pod), started))
            queue.forget(key)
            queue.done(key)

    return queue, starts, worker


async def probe(url: str, workers: int) -> dict[str, Any]:
    clock = RealClock()
    client = ApiClient(HttpTransport(url))
    factory = SharedInformerFactory(client, clock)
    informer = factory.informer(PODS)
    queue, starts, worker = record_reconciles(informer, clock, "probe")

    stop = asyncio.Event()
    factory.start(stop)
    await factory.wait_for_sync()
    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    cpu_before, wall_before = os.times(), time.monotonic()
    print("synced", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    # Drain what is still in flight: until the queue is empty and nothing new has been
    # reconciled for half a second (bounded, so a stuck run still reports).
    deadline = time.monotonic() + 30.0
    seen = -1
    while time.monotonic() < deadline and (len(queue) or seen != len(starts)):
        seen = len(starts)
        await asyncio.sleep(0.5)
    cpu_after, wall = os.times(), time.monotonic() - wall_before
    queue.shutdown()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await factory.shutdown()
    await client.close()
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    return {
        "starts": starts,
        "rss_mb": _peak_rss_mb(),
        "cpu_percent": 100.0 * cpu / wall if wall > 0 else 0.0,
        "watch_events": informer.stats.events,
        "queue_adds": queue.stats.adds,
        "deduplicated": queue.stats.deduplicated,
    }


def _peak_rss_mb() -> float:
    """This process's peak RSS since exec (VmHWM): `ru_maxrss` would also count the parent's
    memory from before the exec, since Linux keeps it across execve."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    url, workers = sys.argv[1], int(sys.argv[2])
    print(json.dumps(asyncio.run(probe(url, workers))), flush=True)


if __name__ == "__main__":
    main()
