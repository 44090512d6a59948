"""Restart policy, CrashLoopBackOff and pod phase on virtual time."""

from __future__ import annotations

import pytest

from kubelite.agent.lifecycle import (
    ContainerState,
    CrashLoopBackoff,
    PodPhase,
    RestartPolicy,
    backoff_delay,
    pod_phase,
    should_restart,
)
from kubelite.clock import FakeClock


@pytest.mark.parametrize(
    ("policy", "exit_code", "restart"),
    [
        ("Always", 0, True),
        ("Always", 1, True),
        ("OnFailure", 0, False),
        ("OnFailure", 2, True),
        ("Never", 1, False),
    ],
    ids=["always-success", "always-failure", "onfailure-success", "onfailure-failure", "never"],
)
def test_restart_policy(policy: RestartPolicy, exit_code: int, restart: bool) -> None:
    assert should_restart(policy, exit_code) is restart


@pytest.mark.parametrize(
    ("restart_number", "delay"),
    [(0, 0.0), (1, 10.0), (2, 20.0), (3, 40.0), (5, 160.0), (6, 300.0), (50, 300.0)],
    ids=["none", "first", "second", "third", "fifth", "capped", "far-capped"],
)
def test_backoff_doubles_from_ten_seconds_to_five_minutes(restart_number: int, delay: float) -> None:
    assert backoff_delay(restart_number) == delay


def test_crash_loop_backoff_waits_then_allows_restart() -> None:
    clock = FakeClock()
    backoff = CrashLoopBackoff(clock)
    key = ("pod-uid", "app")
    backoff.record_exit(key, ran_for_seconds=1)
    assert backoff.remaining(key) == 10
    clock.advance(9.5)
    assert backoff.in_backoff(key)
    clock.advance(0.5)
    assert not backoff.in_backoff(key)
    backoff.record_exit(key, ran_for_seconds=1)
    assert backoff.remaining(key) == 20


def test_a_long_run_resets_the_backoff() -> None:
    clock = FakeClock()
    backoff = CrashLoopBackoff(clock)
    key = ("pod-uid", "app")
    for _ in range(4):
        backoff.record_exit(key, ran_for_seconds=1)
    assert backoff.remaining(key) == 80
    backoff.record_exit(key, ran_for_seconds=601)
    assert backoff.remaining(key) == 10


RUNNING = ContainerState("running")
WAITING = ContainerState("waiting")
SUCCEEDED = ContainerState("terminated", 0)
FAILED = ContainerState("terminated", 1)


@pytest.mark.parametrize(
    ("policy", "init", "containers", "phase"),
    [
        ("Always", [], [RUNNING], "Running"),
        ("Always", [], [WAITING], "Pending"),
        ("Always", [RUNNING], [WAITING], "Pending"),
        ("Never", [FAILED], [WAITING], "Failed"),
        ("OnFailure", [FAILED], [WAITING], "Pending"),
        ("Never", [SUCCEEDED], [SUCCEEDED, SUCCEEDED], "Succeeded"),
        ("Never", [], [SUCCEEDED, FAILED], "Failed"),
        ("OnFailure", [], [FAILED], "Running"),
        ("Always", [], [SUCCEEDED], "Running"),
        ("Never", [], [RUNNING, FAILED], "Running"),
    ],
    ids=[
        "running",
        "waiting",
        "init-running",
        "init-failed-never",
        "init-failed-onfailure",
        "all-succeeded",
        "one-failed-never",
        "failed-onfailure-restarts",
        "succeeded-always-restarts",
        "one-still-running",
    ],
)
def test_pod_phase(
    policy: RestartPolicy, init: list[ContainerState], containers: list[ContainerState], phase: PodPhase
) -> None:
    assert pod_phase(policy, init, containers) == phase
