"""The wasm runtime: WASI modules under wasmtime, one supervised worker process per container.

Data flow of `start`: the image reference resolves to a module file (`file:///abs/path/app.wasm` or
`.wat`, or a name imported into the local image store); `CompiledModuleCache` turns it into a
precompiled artifact (compiled once, keyed by the SHA-256 of the module bytes and the wasmtime
version, kept on disk and memoised by path, size and mtime); the container's cgroup is created; and a
worker is forked from the warm zygote to run it (see `wasm_worker`). The handle is the same
`SupervisedContainer` the process runtime uses, so stop (SIGTERM, then SIGKILL after the grace
period), exit classification and stats behave alike.

Limits: the memory limit is the Store's linear-memory limit (the cgroup gets it plus a fixed headroom
for the worker itself, as a backstop); the CPU limit is a CFS quota on the worker's cgroup, i.e. the
kernel's time slices, which also stop a module that never yields; pids are limited by the cgroup.
Why processes rather than threads: a wasm call cannot be paused from outside in wasmtime's Python API
(epoch deadlines and fuel can only trap), so per-process CFS slices are the way to hold a module to a
fraction of a core and still let it run to completion.
"""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import msgspec
import wasmtime

from kubelite.agent.cgroups import Cgroup, CgroupLayout
from kubelite.agent.runtime import wasm_worker, wasm_zygote
from kubelite.agent.runtime.interface import ContainerSpec, StartFailure
from kubelite.agent.runtime.process import cgroup_limits, open_logs
from kubelite.agent.runtime.supervised import REASON_FILE_NAME, SupervisedContainer
from kubelite.agent.runtime.wasm_zygote import ZygoteStarted
from kubelite.clock import Clock

# Room for the worker's own interpreter pages above the module's linear-memory limit.
WORKER_MEMORY_HEADROOM_BYTES = 64 * 2**20
ImageResolver = Callable[[str], Path | None]


def resolve_file_image(image: str) -> Path | None:
    """`file:///abs/path/module.wasm` (or `.wat`) to a path; None for any other reference."""
    if not image.startswith("file://"):
        return None
    return Path(unquote(urlparse(image).path))


class CompiledModuleCache:
    """Precompiled modules on disk, so that a warm start only deserialises."""

    def __init__(self, cache_dir: Path) -> None:
        self._cache_dir = cache_dir
        self._by_source: dict[tuple[Path, int, int], Path] = {}
        self._lock = threading.Lock()

    def artifact_for(self, source: Path) -> Path:
        """The compiled artifact of a .wasm or .wat file; raises WasmtimeError or OSError if invalid."""
        status = source.stat()
        memo_key = (source, status.st_size, status.st_mtime_ns)
        with self._lock:
            cached = self._by_source.get(memo_key)
            if cached is not None and cached.exists():
                return cached
            content = source.read_bytes()
            digest = hashlib.sha256(wasmtime_version_tag() + content).hexdigest()
            artifact = self._cache_dir / f"{digest}.cwasm"
            if not artifact.exists():
                self._compile(source, content, artifact)
            self._by_source[memo_key] = artifact
            return artifact

    def _compile(self, source: Path, content: bytes, artifact: Path) -> None:
        if source.suffix == ".wat":
            module = wasmtime.Module(wasm_worker.ENGINE, content.decode())
        else:
            module = wasmtime.Module(wasm_worker.ENGINE, content)
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        partial = artifact.with_suffix(".partial")
        partial.write_bytes(module.serialize())
        partial.replace(artifact)


@cache
def wasmtime_version_tag() -> bytes:
    from importlib.metadata import version

    return f"wasmtime-{version('wasmtime')};".encode()


class ZygoteChild:
    """A worker forked by the zygote, adapted to the supervisor's `ChildProcess`."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._exit_code: int | None = None
        self._exited = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._callbacks_lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self._pid

    def exit_code(self) -> int | None:
        return self._exit_code

    def wait_exit(self, timeout: float | None) -> int | None:
        self._exited.wait(timeout)
        return self._exit_code

    def notify_exit(self, callback: Callable[[], None]) -> None:
        with self._callbacks_lock:
            if not self._exited.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def record_exit(self, exit_code: int) -> None:
        self._exit_code = exit_code
        with self._callbacks_lock:
            self._exited.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


class WasmZygote:
    """The agent's side of the zygote protocol (see `wasm_zygote`): launch workers, learn their exits."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._request_ids = itertools.count()
        self._started: dict[int, tuple[threading.Event, list[ZygoteChild | str]]] = {}
        self._children: dict[int, ZygoteChild] = {}
        self._ready = threading.Event()

    def ensure_running(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._ready.clear()
                self._process = subprocess.Popen(
                    [sys.executable, "-m", wasm_zygote.__name__],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    close_fds=True,
                )
                threading.Thread(target=self._read_replies, args=(self._process,), daemon=True).start()
            return self._process

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Start the zygote if needed and wait until it has imported wasmtime and can fork."""
        self.ensure_running()
        return self._ready.wait(timeout)

    def launch(self, launch: wasm_worker.WasmLaunch, timeout: float = 10.0) -> ZygoteChild | str:
        """Fork a worker; the child, or an error message."""
        process = self.ensure_running()
        request_id = next(self._request_ids)
        arrived = threading.Event()
        replies: list[ZygoteChild | str] = []
        request = msgspec.json.encode(wasm_zygote.ZygoteRequest(request_id, launch)) + b"\n"
        with self._lock:
            self._started[request_id] = (arrived, replies)
            assert process.stdin is not None
            process.stdin.write(request)
            process.stdin.flush()
        if not arrived.wait(timeout):
            return "the wasm zygote did not answer"
        return replies[0]

    def close(self) -> None:
        """Stop the zygote (running workers are not affected)."""
        with self._lock:
            if self._process is not None and self._process.stdin is not None:
                self._process.stdin.close()
                self._process.wait(5)

    def _read_replies(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            reply = wasm_zygote.decode_reply(line)
            with self._lock:
                if isinstance(reply, ZygoteStarted) and reply.request_id == wasm_zygote.READY_REQUEST_ID:
                    self._ready.set()
                elif isinstance(reply, ZygoteStarted):
                    arrived, replies = self._started.pop(reply.request_id)
                    if reply.error:
                        replies.append(reply.error)
                    else:
                        self._children[reply.pid] = ZygoteChild(reply.pid)
                        replies.append(self._children[reply.pid])
                    arrived.set()
                elif reply.pid in self._children:
                    # The zygote reports a start before it can reap that worker, so the child is known.
                    self._children.pop(reply.pid).record_exit(reply.exit_code)


@cache
def shared_zygote() -> WasmZygote:
    """One zygote per agent process, shared by every WasmRuntime in it."""
    return WasmZygote()


class WasmRuntime:
    """Runs WASI modules in warm-forked, cgroup-limited worker processes."""

    NAME = "wasm"

    def __init__(
        self,
        clock: Clock,
        cgroup_layout: CgroupLayout | None,
        cache_dir: Path,
        image_resolver: ImageResolver = resolve_file_image,
        cgroup_parent: str = "kubelite",
        zygote: WasmZygote | None = None,
    ) -> None:
        self._clock = clock
        self._layout = cgroup_layout
        self._modules = CompiledModuleCache(cache_dir)
        self._resolve = image_resolver
        self._cgroup_parent = cgroup_parent
        self._zygote = zygote or shared_zygote()

    def warm_up(self) -> None:
        """Start the zygote now, and wait until it is ready, rather than delay the first containers
        (importing wasmtime takes a few hundred ms, seconds on a busy host)."""
        self._zygote.wait_ready()

    def start(self, spec: ContainerSpec) -> SupervisedContainer | StartFailure:
        source = resolve_file_image(spec.image) or self._resolve(spec.image)
        if source is None or not source.is_file():
            message = f"wasm module {spec.image!r} is not in the local image store"
            return StartFailure("ErrImageNeverPull", message)
        try:
            artifact = self._modules.artifact_for(source)
        except (wasmtime.WasmtimeError, OSError, UnicodeDecodeError) as error:
            return StartFailure("CreateContainerError", f"compiling {spec.image!r} failed: {error}")
        logs = open_logs(spec.state_dir)
        (spec.state_dir / REASON_FILE_NAME).unlink(missing_ok=True)
        cgroup = None
        plan = None
        if self._layout is not None:
            cgroup = Cgroup(self._layout, f"{self._cgroup_parent}/{spec.container_id}")
            limits = cgroup_limits(spec.limits)
            if limits.memory_bytes is not None:
                limits = type(limits)(
                    memory_bytes=limits.memory_bytes + WORKER_MEMORY_HEADROOM_BYTES,
                    cpu_limit_millicores=limits.cpu_limit_millicores,
                    cpu_request_millicores=limits.cpu_request_millicores,
                    pids=limits.pids,
                )
            plan = cgroup.plan(limits)  # run by the zygote, off this process's threads
        launch = wasm_worker.WasmLaunch(
            artifact_path=str(artifact),
            argv=(spec.name, *spec.argv),
            env=spec.env,
            preopens=tuple((str(m.host_path), m.container_path, m.read_only) for m in spec.mounts),
            memory_limit_bytes=spec.limits.memory_limit_bytes,
            stdout_path=str(logs.stdout),
            stderr_path=str(logs.stderr),
            reason_path=str(spec.state_dir / REASON_FILE_NAME),
            cgroup_procs_files=tuple(str(path) for path in cgroup.procs_files()) if cgroup else (),
            cgroup_steps=tuple((a, str(path), value) for a, path, value in plan.steps) if plan else (),
        )
        started_at = self._clock.now()
        worker = self._zygote.launch(launch)
        if isinstance(worker, str):
            if cgroup is not None:
                cgroup.remove()
            return StartFailure("RunContainerError", f"starting the wasm worker failed: {worker}")
        return SupervisedContainer(
            spec.container_id, worker, cgroup, logs, spec.state_dir, self._clock, started_at
        )
