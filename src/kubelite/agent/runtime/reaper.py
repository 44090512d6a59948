"""Event-driven exit notification for container processes: one thread, one epoll, many pidfds.

A pod worker must learn that its container ended without asking every 100 ms. Linux (5.3+) offers
`pidfd_open(2)`: a descriptor for a process that becomes readable once the process has terminated
(for a child: once it is a zombie, so `waitpid` then returns at once). `ExitReaper` keeps one daemon
thread blocked in `epoll_wait` on the pidfds of every watched process and, when one becomes readable,
runs that process's callbacks (from the reaper thread: an asyncio caller hops back with
`loop.call_soon_threadsafe`). It never reaps: the owner (`Popen.poll`) collects the exit status, so
`subprocess` keeps its own bookkeeping. Where pidfds are unavailable (old kernels, other platforms)
the same thread checks the watched processes every `FALLBACK_POLL_SECONDS` instead, so behaviour is
identical, only slower to notice.

Data flow: runtime starts a process -> `watch(pid, has_exited, callback)` -> kernel marks the pidfd
readable at exit -> reaper thread calls `callback()` -> the pod worker wakes and reads the exit.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from collections.abc import Callable
from functools import cache

FALLBACK_POLL_SECONDS = 0.05
ExitCallback = Callable[[], None]


class ExitReaper:
    """See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # pidfd -> callback, when pidfds work; otherwise (has_exited, callback) pairs polled.
        self._by_descriptor: dict[int, ExitCallback] = {}
        self._polled: list[tuple[Callable[[], bool], ExitCallback]] = []
        self._epoll = select.epoll() if hasattr(select, "epoll") and hasattr(os, "pidfd_open") else None
        self._wake_read, self._wake_write = os.pipe()
        if self._epoll is not None:
            self._epoll.register(self._wake_read, select.EPOLLIN)
        self._thread: threading.Thread | None = None

    def watch(self, pid: int, has_exited: Callable[[], bool], callback: ExitCallback) -> None:
        """Call `callback` once process `pid` has terminated (at once if it already has).

        `has_exited` answers without blocking (e.g. `Popen.poll() is not None`); it covers a process
        that is already gone, and hosts without pidfds."""
        descriptor: int | None = None
        if self._epoll is not None:
            try:
                descriptor = os.pidfd_open(pid)
            except ProcessLookupError:
                callback()  # already reaped: nothing left to wait for
                return
            except OSError:
                descriptor = None
        with self._lock:
            if descriptor is not None and self._epoll is not None:
                self._by_descriptor[descriptor] = callback
                self._epoll.register(descriptor, select.EPOLLIN | select.EPOLLONESHOT)
            else:
                self._polled.append((has_exited, callback))
                os.write(self._wake_write, b"x")
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="kubelite-exit-reaper", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            for callback in self._ready_callbacks():
                # A failing callback is a bug in its owner; it must not stop exit notification for others.
                with contextlib.suppress(Exception):
                    callback()

    def _ready_callbacks(self) -> list[ExitCallback]:
        timeout = FALLBACK_POLL_SECONDS if self._polled or self._epoll is None else -1.0
        ready: list[ExitCallback] = []
        if self._epoll is not None:
            for descriptor, _ in self._epoll.poll(timeout):
                if descriptor == self._wake_read:
                    os.read(self._wake_read, 4096)
                    continue
                with self._lock:
                    callback = self._by_descriptor.pop(descriptor, None)
                    self._epoll.unregister(descriptor)
                os.close(descriptor)
                if callback is not None:
                    ready.append(callback)
        else:
            select.select([self._wake_read], [], [], timeout)
            with contextlib.suppress(BlockingIOError):
                os.set_blocking(self._wake_read, False)
                os.read(self._wake_read, 4096)
        with self._lock:
            still_running = []
            for has_exited, callback in self._polled:
                if has_exited():
                    ready.append(callback)
                else:
                    still_running.append((has_exited, callback))
            self._polled = still_running
        return ready


@cache
def shared_reaper() -> ExitReaper:
    """One reaper per process, shared by every runtime in it."""
    return ExitReaper()
