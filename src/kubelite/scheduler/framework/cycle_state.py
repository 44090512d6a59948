"""Typed per-cycle state shared by the plugins while one pod is scheduled.

kube-scheduler's CycleState is a map from string keys to opaque values that plugins cast back.
Here a key is a `StateKey[T]` object, so `state.read(KEY)` is typed `T` for mypy and no plugin
casts. PreFilter/PreScore write what Filter/Score/Reserve later read; the framework creates one
`CycleState` per scheduling attempt and drops it when the pod is bound or rejected.

Two fields are part of the framework's own contract rather than a plugin's:
`bind_annotations` (copied onto the pod by the Binding, e.g. `kubelite.io/gpu-indices`) and
`gpu_indices` (the GPUs a Reserve plugin picked, which the node table books when it assumes the pod).
"""

from __future__ import annotations

from typing import Generic, TypeVar, cast

T = TypeVar("T")


class StateKey(Generic[T]):
    """A typed key into `CycleState`; create one per plugin datum at module level."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"StateKey({self.name!r})"


class CycleState:
    """The scratch space of one scheduling attempt."""

    __slots__ = ("_data", "bind_annotations", "gpu_indices", "skip_filter", "skip_score")

    def __init__(self) -> None:
        self._data: dict[StateKey[object], object] = {}
        self.bind_annotations: dict[str, str] = {}
        self.gpu_indices: tuple[int, ...] = ()
        # Plugins whose PreFilter/PreScore returned SKIP: the framework does not call their Filter/Score.
        self.skip_filter: set[str] = set()
        self.skip_score: set[str] = set()

    def write(self, key: StateKey[T], value: T) -> None:
        self._data[cast("StateKey[object]", key)] = value

    def read(self, key: StateKey[T]) -> T | None:
        return cast("T | None", self._data.get(cast("StateKey[object]", key)))

    def require(self, key: StateKey[T]) -> T:
        """Read a value that an earlier extension point must have written (a bug otherwise)."""
        value = self.read(key)
        if value is None:
            raise KeyError(f"{key!r} was not written by PreFilter/PreScore")
        return value
