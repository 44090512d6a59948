"""Plugin results as values: `Status` and its `Code`, as in the Kubernetes scheduling framework.

Every extension point returns a `Status` rather than raising: an expected outcome such as "this pod
does not fit" is a value that the framework aggregates into the pod's condition and event, and an
exception is left for bugs and I/O. `SUCCESS` is a shared singleton so the hot path allocates
nothing when a plugin has nothing to say.

Codes follow `framework.Code` in kube-scheduler (pkg/scheduler/framework/interface.go):
`UNSCHEDULABLE` can be resolved by preemption, `UNSCHEDULABLE_AND_UNRESOLVABLE` cannot, `WAIT` is
Permit's "hold the pod", and `SKIP` lets PreFilter/PreScore tell the framework to skip the plugin's
later extension point for this pod.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Code(enum.IntEnum):
    """The outcome of one plugin call."""

    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5


@dataclass(frozen=True, slots=True)
class Status:
    """A plugin's verdict: a code, the human-readable reasons, and the plugin that said it."""

    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def is_success(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def is_rejected(self) -> bool:
        """The pod cannot go on (unschedulable either way); an ERROR is not a rejection."""
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    def with_plugin(self, plugin: str) -> Status:
        return self if self.plugin == plugin else Status(self.code, self.reasons, plugin)

    @staticmethod
    def error(message: str, plugin: str = "") -> Status:
        return Status(Code.ERROR, (message,), plugin)

    @staticmethod
    def unschedulable(*reasons: str, plugin: str = "", resolvable: bool = True) -> Status:
        code = Code.UNSCHEDULABLE if resolvable else Code.UNSCHEDULABLE_AND_UNRESOLVABLE
        return Status(code, reasons, plugin)


SUCCESS = Status()
SKIP = Status(Code.SKIP)
