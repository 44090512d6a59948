"""The exit reaper pushes process exits: pidfd + epoll, or the polling fallback; never a reap."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable

import pytest

from kubelite.agent.runtime.reaper import ExitReaper

pytestmark = pytest.mark.timeout(30)


def fallback_reaper() -> ExitReaper:
    """A reaper as on a host without pidfds: it checks the watched processes periodically."""
    reaper = ExitReaper()
    reaper._epoll = None
    return reaper


@pytest.mark.parametrize("make_reaper", [ExitReaper, fallback_reaper], ids=["pidfd", "polling-fallback"])
def test_exit_is_pushed_once_the_process_ends(make_reaper: Callable[[], ExitReaper]) -> None:
    reaper = make_reaper()
    child = subprocess.Popen(["sh", "-c", "sleep 0.2; exit 3"])
    exited = threading.Event()
    reaper.watch(child.pid, lambda: child.poll() is not None, exited.set)
    assert not exited.is_set()
    assert exited.wait(10)
    assert child.wait(1) == 3  # the reaper left the exit status to its owner


def test_a_process_already_reaped_reports_at_once() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    exited = threading.Event()
    ExitReaper().watch(child.pid, lambda: True, exited.set)
    assert exited.wait(5)


def test_many_processes_are_watched_by_one_thread() -> None:
    reaper = ExitReaper()
    children = [subprocess.Popen(["sh", "-c", f"sleep 0.{index}"]) for index in range(1, 9)]
    done = [threading.Event() for _ in children]
    for child, event in zip(children, done, strict=True):
        reaper.watch(child.pid, lambda child=child: child.poll() is not None, event.set)
    assert all(event.wait(10) for event in done)
    assert sum(1 for thread in threading.enumerate() if thread.name == "kubelite-exit-reaper") >= 1
    for child in children:
        child.wait(1)
