"""Pods held at Permit: kube-scheduler's WaitingPod and the framework handle's registry of them.

When a Permit plugin answers WAIT, the binding cycle parks the pod here until every waiting
plugin calls `allow` (then binding goes on), one calls `reject`, or the longest timeout the
plugins asked for passes on the injected clock (then the pod is unreserved, forgotten and
retried). A co-scheduling plugin, for example, allows the whole gang once its last member arrives,
iterating over `WaitingPods`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from kubelite.scheduler.framework.status import SUCCESS, Status
from kubelite.scheduler.records import PodInfo


class WaitingPod:
    def __init__(self, pod: PodInfo, node_name: str, plugins: set[str]) -> None:
        self.pod = pod
        self.node_name = node_name
        self.pending_plugins = set(plugins)
        self.decision: asyncio.Future[Status] = asyncio.get_running_loop().create_future()

    def allow(self, plugin: str) -> None:
        self.pending_plugins.discard(plugin)
        if not self.pending_plugins and not self.decision.done():
            self.decision.set_result(SUCCESS)

    def reject(self, plugin: str, message: str) -> None:
        if not self.decision.done():
            self.decision.set_result(Status.unschedulable(message, plugin=plugin))


class WaitingPods:
    def __init__(self) -> None:
        self._by_key: dict[str, WaitingPod] = {}

    def add(self, waiting: WaitingPod) -> None:
        self._by_key[waiting.pod.key] = waiting

    def get(self, key: str) -> WaitingPod | None:
        return self._by_key.get(key)

    def remove(self, key: str) -> None:
        self._by_key.pop(key, None)

    def __iter__(self) -> Iterator[WaitingPod]:
        return iter(list(self._by_key.values()))

    def __len__(self) -> int:
        return len(self._by_key)
