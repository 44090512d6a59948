"""The inside of a wasm container: one worker process that runs one WASI module with wasmtime.

The wasm runtime forks workers from a warm zygote (a multiprocessing forkserver that has already
imported this module and wasmtime and built `ENGINE`), so a start costs a fork plus a deserialise of
the cached, precompiled module: milliseconds, not the ~175 ms of a fresh interpreter. In the worker,
`run_container`:
1. leads a new process group and joins the container's cgroup (CPU quota and shares, pids, and a
   memory backstop), so the kernel enforces the CPU limit in CFS time slices;
2. points fds 1 and 2 at the log files, and gives WASI the same files for stdout and stderr;
3. sets the Store's memory limit to the container's memory limit (linear memory cannot grow past it);
4. passes argv and env, and preopens each mount at its container path (read-only mounts immutable);
5. calls `_start`, and exits with the module's WASI exit code. A trap exits 1 ("Error"). A trap or
   failure exit while linear memory is within an eighth of the limit is reported as OOMKilled with
   exit code 137, the closest match to Kubernetes' meaning of an out-of-memory kill.
The reason and message go to a termination-reason file that the supervisor reads.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import wasmtime

from kubelite.agent.cgroups import PlanAction

WASM_PAGE_BYTES = 65_536
WASM_TRAP_EXIT_CODE = 1
WASM_OOM_EXIT_CODE = 137


def make_engine() -> wasmtime.Engine:
    """The one engine configuration that compiles and runs modules (artifacts must match it)."""
    config = wasmtime.Config()
    config.cranelift_opt_level = "speed"
    return wasmtime.Engine(config)


ENGINE = make_engine()


@dataclass(frozen=True)
class WasmLaunch:
    """Everything a worker needs, as plain picklable values."""

    artifact_path: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    preopens: tuple[tuple[str, str, bool], ...]
    memory_limit_bytes: int | None
    stdout_path: str
    stderr_path: str
    reason_path: str
    cgroup_procs_files: tuple[str, ...]
    #: The `CgroupPlan` steps (action, path, value) the zygote runs before forking this worker.
    cgroup_steps: tuple[tuple[PlanAction, str, str], ...] = ()


def run_container(launch: WasmLaunch) -> None:
    """The worker's entry point; never returns."""
    with contextlib.suppress(PermissionError):  # EPERM: the zygote already made it a group leader
        os.setpgid(0, 0)
    join_cgroup(os.getpid(), launch.cgroup_procs_files)
    _redirect(1, launch.stdout_path)
    _redirect(2, launch.stderr_path)
    exit_code, reason, message = _run_module(launch)
    if reason is not None:
        with open(launch.reason_path, "w") as reason_file:
            reason_file.write(f"{reason}\n{message}")
    if message:
        os.write(2, f"{message}\n".encode())
    # Skip interpreter teardown: the worker holds nothing that needs flushing, and exiting at once keeps
    # the exit code exactly the module's.
    os._exit(exit_code)


def join_cgroup(pid: int, procs_files: tuple[str, ...]) -> None:
    for procs in procs_files:
        descriptor = os.open(procs, os.O_WRONLY)
        try:
            os.write(descriptor, str(pid).encode())
        finally:
            os.close(descriptor)


def _redirect(target_fd: int, path: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(descriptor, target_fd)
    os.close(descriptor)


def _run_module(launch: WasmLaunch) -> tuple[int, str | None, str]:
    store = wasmtime.Store(ENGINE)
    if launch.memory_limit_bytes is not None:
        store.set_limits(memory_size=launch.memory_limit_bytes)
    wasi = wasmtime.WasiConfig()
    wasi.argv = list(launch.argv)
    wasi.env = [list(pair) for pair in launch.env]
    # fds 1 and 2 already append to the log file(s): WASI writes through them, so both streams stay
    # in the order written (wasmtime's own file options would open, and truncate, separately).
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    for host_path, guest_path, read_only in launch.preopens:
        wasi.preopen_dir(host_path, guest_path, not read_only)
    store.set_wasi(wasi)
    linker = wasmtime.Linker(ENGINE)
    linker.define_wasi()
    try:
        module = wasmtime.Module.deserialize_file(ENGINE, launch.artifact_path)
        instance = linker.instantiate(store, module)
    except (wasmtime.WasmtimeError, wasmtime.Trap) as error:
        return WASM_TRAP_EXIT_CODE, "Error", f"instantiation failed: {error}"
    start = instance.exports(store).get("_start")
    if not isinstance(start, wasmtime.Func):
        return WASM_TRAP_EXIT_CODE, "Error", "the module exports no WASI _start function"
    try:
        start(store)
        exit_code, trap_message = 0, ""
    except wasmtime.ExitTrap as exit_trap:
        exit_code, trap_message = exit_trap.code, ""
    except (wasmtime.Trap, wasmtime.WasmtimeError) as trap:
        exit_code, trap_message = WASM_TRAP_EXIT_CODE, f"wasm trap: {trap}"
    if exit_code != 0 and _memory_exhausted(store, instance, launch.memory_limit_bytes):
        return WASM_OOM_EXIT_CODE, "OOMKilled", "linear memory reached the container's memory limit"
    return exit_code, ("Error" if trap_message else None), trap_message


def _memory_exhausted(store: wasmtime.Store, instance: wasmtime.Instance, limit: int | None) -> bool:
    if limit is None:
        return False
    memory = instance.exports(store).get("memory")
    if not isinstance(memory, wasmtime.Memory):
        return False
    # A failed memory.grow is invisible to the host (the module only sees -1), so judge by how close
    # linear memory came to the limit: within an eighth of it (at least a page) counts as exhausted.
    headroom = max(WASM_PAGE_BYTES, limit // 8)
    return memory.data_len(store) + headroom > limit
