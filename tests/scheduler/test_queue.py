"""The scheduling queue: ordering, backoff, and event-driven re-activation on a virtual clock."""

from __future__ import annotations

import pytest

from kubelite.clock import FakeClock
from kubelite.scheduler.queue import SchedulingQueue
from kubelite.scheduler.records import PodInfo


def pod(name: str, priority: int = 0, creation: float = 0.0) -> PodInfo:
    return PodInfo(uid=name, namespace="default", name=name, priority=priority, creation=creation)


def test_active_queue_orders_by_priority_then_creation() -> None:
    queue = SchedulingQueue(FakeClock())
    for item in (
        pod("old-low", 0, 1.0),
        pod("new-high", 10, 3.0),
        pod("old-high", 10, 2.0),
        pod("mid", 5, 0.5),
    ):
        queue.add(item)
    order = []
    while (queued := queue.pop()) is not None:
        order.append(queued.pod.name)
    assert order == ["old-high", "new-high", "mid", "old-low"]


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [
        pytest.param(1, 1.0, id="first"),
        pytest.param(2, 2.0, id="second"),
        pytest.param(4, 8.0, id="fourth"),
        pytest.param(5, 10.0, id="capped"),
        pytest.param(9, 10.0, id="still-capped"),
    ],
)
def test_backoff_doubles_from_one_second_to_ten(attempts: int, seconds: float) -> None:
    assert SchedulingQueue(FakeClock()).backoff_seconds(attempts) == seconds


def test_error_goes_to_backoff_and_returns_when_it_expires() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock)
    queue.add(pod("p"))
    queued = queue.pop()
    assert queued is not None
    queue.requeue_after_error(queued)
    assert queue.sizes()["backoff"] == 1 and queue.pop() is None
    clock.advance(0.99)
    assert queue.pop() is None
    clock.advance(0.02)
    again = queue.pop()
    assert again is not None and again.attempts == 2


def test_unschedulable_pod_waits_for_an_event_not_for_time() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock, plugin_events={"NodeResourcesFit": frozenset({"NodeAdd", "PodDelete"})})
    queue.add(pod("p"))
    queued = queue.pop()
    assert queued is not None
    queue.requeue_unschedulable(queued, frozenset({"NodeResourcesFit"}))
    clock.advance(30)
    assert queue.pop() is None and queue.sizes()["unschedulable"] == 1
    assert queue.on_cluster_event("NodeUpdate") == 0  # the rejecting plugin did not register it
    assert queue.on_cluster_event("NodeAdd") == 1
    assert queue.pop() is not None


def test_event_inside_backoff_window_moves_pod_to_backoff() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock)
    queue.add(pod("p"))
    queued = queue.pop()
    assert queued is not None
    queue.requeue_unschedulable(queued, frozenset())
    queue.on_cluster_event("NodeAdd")
    assert queue.sizes()["backoff"] == 1 and queue.pop() is None
    clock.advance(1.0)
    assert queue.pop() is not None


def test_event_during_attempt_prevents_parking() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock)
    queue.add(pod("p"))
    queued = queue.pop()
    assert queued is not None
    queue.on_cluster_event("NodeAdd")  # arrives while the pod is being scheduled
    queue.requeue_unschedulable(queued, frozenset({"NodeResourcesFit"}))
    assert queue.sizes()["unschedulable"] == 0


def test_unschedulable_timeout_is_a_safety_net() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock, unschedulable_timeout=300)
    queue.add(pod("p"))
    queued = queue.pop()
    assert queued is not None
    queue.requeue_unschedulable(queued, frozenset({"X"}))
    clock.advance(299)
    assert queue.pop() is None
    clock.advance(2)
    assert queue.pop() is not None


def test_delete_removes_everywhere_and_sizes_stay_consistent() -> None:
    queue = SchedulingQueue(FakeClock())
    queue.add(pod("a"))
    queue.add(pod("b"))
    queue.delete("default/a")
    assert queue.sizes()["active"] == 1
    popped = queue.pop()
    assert popped is not None and popped.pod.name == "b"
    assert queue.pop() is None


def test_status_only_update_does_not_reactivate_an_unschedulable_pod() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock)
    original = pod("p")
    queue.add(original)
    queued = queue.pop()
    assert queued is not None
    queue.requeue_unschedulable(queued, frozenset({"NodeResourcesFit"}))
    queue.add(pod("p"))  # the same pod again, e.g. after our own status PATCH
    assert queue.sizes()["unschedulable"] == 1
    relabelled = PodInfo(uid="p", namespace="default", name="p", labels={"tier": "web"})
    queue.add(relabelled)
    assert queue.sizes()["unschedulable"] == 0
