"""DefaultBinder (Bind): persists the placement through an injected `Binder` (the API client's
`pods/binding` call in a live scheduler, an in-memory write in the benchmark), passing the
annotations Reserve plugins left in `CycleState.bind_annotations` (e.g. GPU indices)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import BindPlugin
from kubelite.scheduler.framework.status import Status
from kubelite.scheduler.records import PodInfo

Binder = Callable[[PodInfo, str, Mapping[str, str]], Awaitable[Status]]
"""(pod, node name, annotations for the Binding) -> the outcome of persisting the binding."""


class DefaultBinder:
    name = "DefaultBinder"

    def __init__(self, binder: Binder) -> None:
        self._binder = binder

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status:
        return await self._binder(pod, node_name, state.bind_annotations)


_: type[BindPlugin] = DefaultBinder
