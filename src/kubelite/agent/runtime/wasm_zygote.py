"""The wasm zygote: a warm, single-threaded process that forks one worker per wasm container.

A fresh interpreter needs ~175 ms to import wasmtime; a fork of a process that already has it takes
about a millisecond. The agent starts this module once (`python -m kubelite.agent.runtime.wasm_zygote`)
with pipes on stdin and stdout and speaks a line protocol of JSON messages:
- agent -> zygote: `ZygoteRequest` (a request id and a `WasmLaunch`);
- zygote -> agent: `ZygoteStarted` (request id, worker pid, or an error) and `ZygoteExited` (worker
  pid and its exit code, negative for a signal as in `subprocess`). Once it has imported wasmtime,
  the zygote announces itself with `ZygoteStarted(READY_REQUEST_ID, its own pid)`, so that the agent
  can finish warming up before it accepts pods.
Forking from a single-threaded process is what makes it safe: the agent itself has threads, and a
fork there could copy a lock held by another thread. The zygote reaps its workers on SIGCHLD (woken
through `signal.set_wakeup_fd`) and exits when the agent closes its stdin.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import msgspec

from kubelite.agent.cgroups import CgroupPlan
from kubelite.agent.runtime.wasm_worker import WasmLaunch, join_cgroup, run_container

READY_REQUEST_ID = -1


@dataclass(frozen=True)
class ZygoteRequest:
    request_id: int
    launch: WasmLaunch


@dataclass(frozen=True)
class ZygoteStarted:
    request_id: int
    pid: int
    error: str = ""
    kind: str = "started"


@dataclass(frozen=True)
class ZygoteExited:
    pid: int
    exit_code: int
    kind: str = "exited"


def decode_reply(line: bytes) -> ZygoteStarted | ZygoteExited:
    kind = msgspec.json.decode(line, type=dict[str, object]).get("kind")
    if kind == "started":
        return msgspec.json.decode(line, type=ZygoteStarted)
    return msgspec.json.decode(line, type=ZygoteExited)


def serve() -> None:
    requests = os.fdopen(0, "rb", buffering=0)
    replies = os.fdopen(1, "wb", buffering=0)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda _signal, _frame: None)
    selector = selectors.DefaultSelector()
    selector.register(requests, selectors.EVENT_READ, "requests")
    selector.register(wake_read, selectors.EVENT_READ, "children")
    _send(replies, ZygoteStarted(READY_REQUEST_ID, os.getpid()))
    pending = b""
    while True:
        for key, _ in selector.select():
            if key.data == "children":
                os.read(wake_read, 4096)
                _reap(replies)
                continue
            chunk = requests.read(65536)
            if not chunk:
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = msgspec.json.decode(line, type=ZygoteRequest)
                _send(replies, _fork_worker(request, [wake_read, wake_write]))
        _reap(replies)


def _fork_worker(request: ZygoteRequest, zygote_fds: list[int]) -> ZygoteStarted:
    # The cgroup is created here, by this single-threaded process, rather than by agent threads that
    # would contend for the agent's GIL after every mkdir and write.
    steps = request.launch.cgroup_steps
    try:
        CgroupPlan(tuple((action, Path(path), value) for action, path, value in steps)).execute()
    except OSError as error:
        return ZygoteStarted(request.request_id, 0, f"cgroup setup failed: {error}")
    try:
        pid = os.fork()
    except OSError as error:
        return ZygoteStarted(request.request_id, 0, f"fork failed: {error}")
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for descriptor in zygote_fds:
            os.close(descriptor)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        try:
            run_container(request.launch)
        finally:
            os._exit(1)
    # The parent places the worker too (the child does the same first thing), so that once the
    # agent hears "started" the worker is in its own group and cgroup whichever ran first: a stop
    # that arrives at once must still reach it.
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
        join_cgroup(pid, request.launch.cgroup_procs_files)
    return ZygoteStarted(request.request_id, pid)


def _reap(replies: BinaryIO) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(replies, ZygoteExited(pid, os.waitstatus_to_exitcode(status)))


def _send(replies: BinaryIO, message: ZygoteStarted | ZygoteExited) -> None:
    replies.write(msgspec.json.encode(message) + b"\n")


if __name__ == "__main__":
    serve()
    sys.exit(0)
