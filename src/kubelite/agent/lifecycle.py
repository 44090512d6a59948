"""Pure pieces of the container lifecycle: restart decisions, CrashLoopBackOff and pod phase.

The pod-sync loop feeds these with what the runtimes report and an injected `Clock`; nothing here
does I/O, so the rules are tested on virtual time. They follow the kubelet:
- restartPolicy: Always restarts every exit, OnFailure only non-zero exits, Never none;
- CrashLoopBackOff: the delay before restart N (1-based) is 10 s * 2^(N-1), capped at 300 s, and
  the back-off is forgotten once a container has run for 10 minutes (pkg/kubelet/kubelet.go's
  backOffPeriod and MaxContainerBackOff; the reset follows flowcontrol.Backoff's maxDuration*2 rule);
- pod phase, as the kubelet's getPhase computes it from init and regular container states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kubelite.clock import Clock

RestartPolicy = Literal["Always", "OnFailure", "Never"]
PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]
ContainerStateKind = Literal["waiting", "running", "terminated"]

INITIAL_BACKOFF_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 300.0
BACKOFF_RESET_AFTER_SECONDS = 600.0


def should_restart(policy: RestartPolicy, exit_code: int) -> bool:
    if policy == "Always":
        return True
    return policy == "OnFailure" and exit_code != 0


def backoff_delay(restart_number: int) -> float:
    """Seconds to wait before the `restart_number`-th restart (1-based) of a crashing container."""
    if restart_number <= 0:
        return 0.0
    doubling = float(1 << min(restart_number - 1, 16))
    return min(MAX_BACKOFF_SECONDS, INITIAL_BACKOFF_SECONDS * doubling)


@dataclass
class _BackoffEntry:
    restarts: int
    last_exit_at: float


class CrashLoopBackoff:
    """Per-container back-off state, keyed by (pod UID, container name)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[tuple[str, str], _BackoffEntry] = {}

    def record_exit(self, key: tuple[str, str], ran_for_seconds: float) -> None:
        """Note an exit; a container that ran long enough starts its back-off over."""
        entry = self._entries.get(key)
        if entry is None or ran_for_seconds >= BACKOFF_RESET_AFTER_SECONDS:
            entry = _BackoffEntry(0, 0.0)
        entry.restarts += 1
        entry.last_exit_at = self._clock.monotonic()
        self._entries[key] = entry

    def remaining(self, key: tuple[str, str]) -> float:
        """Seconds until the container may restart; 0 when it may restart now."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        ready_at = entry.last_exit_at + backoff_delay(entry.restarts)
        return max(0.0, ready_at - self._clock.monotonic())

    def in_backoff(self, key: tuple[str, str]) -> bool:
        """True while the container shows as waiting with reason CrashLoopBackOff."""
        return self.remaining(key) > 0

    def forget(self, key: tuple[str, str]) -> None:
        self._entries.pop(key, None)


@dataclass(frozen=True)
class ContainerState:
    """The summary of one container's state that the phase computation needs."""

    kind: ContainerStateKind
    exit_code: int = 0


def pod_phase(
    restart_policy: RestartPolicy, init_states: list[ContainerState], states: list[ContainerState]
) -> PodPhase:
    """The kubelet's getPhase."""
    for init in init_states:
        if init.kind != "terminated" or init.exit_code != 0:
            failed_for_good = init.kind == "terminated" and restart_policy == "Never"
            return "Failed" if failed_for_good else "Pending"
    waiting = sum(1 for state in states if state.kind == "waiting")
    running = sum(1 for state in states if state.kind == "running")
    succeeded = sum(1 for state in states if state.kind == "terminated" and state.exit_code == 0)
    failed = sum(1 for state in states if state.kind == "terminated" and state.exit_code != 0)
    if waiting > 0:
        return "Pending"
    if running > 0:
        return "Running"
    if not states:
        return "Unknown"
    if restart_policy == "Always":
        return "Running"  # every exit is about to be restarted
    if failed > 0:
        return "Running" if restart_policy == "OnFailure" else "Failed"
    return "Succeeded" if succeeded == len(states) else "Running"
