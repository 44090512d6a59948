"""The wasm runtime with real wasmtime: WASI argv/env/stdio/preopens, limits, stop, and warm starts."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.agent.cgroups import CgroupLayout
from kubelite.agent.runtime.interface import (
    ContainerSpec,
    Mount,
    ResourceLimits,
    StartFailure,
    cpu_nanocores,
)
from kubelite.agent.runtime.supervised import SupervisedContainer
from kubelite.agent.runtime.wasm import WasmRuntime, WasmZygote
from kubelite.clock import RealClock

from ..conftest import MODULES


@pytest.fixture(scope="module")
def zygote() -> Iterator[WasmZygote]:
    zygote = WasmZygote()
    zygote.ensure_running()
    yield zygote
    zygote.close()


@pytest.fixture
def runtime(
    clock: RealClock, cgroup_layout: CgroupLayout, cgroup_parent: str, tmp_path: Path, zygote: WasmZygote
) -> WasmRuntime:
    return WasmRuntime(
        clock, cgroup_layout, tmp_path / "cache", cgroup_parent=cgroup_parent, zygote=zygote
    )


def start(
    runtime: WasmRuntime, tmp_path: Path, module: str, name: str = "app", **options: object
) -> SupervisedContainer:
    spec = ContainerSpec(
        f"w-{name}-{tmp_path.name}",
        name,
        f"file://{MODULES / module}",
        tmp_path / name,
        **options,  # type: ignore[arg-type]
    )
    handle = runtime.start(spec)
    assert isinstance(handle, SupervisedContainer), handle
    return handle


@pytest.mark.parametrize(
    ("args", "env", "exit_code", "reason", "stdout"),
    [
        ((), (), 0, "Completed", ""),
        (("alpha", "beta"), (("MODE", "test"),), 2, "Error", "alpha\nbeta\nMODE=test\n"),
    ],
    ids=["no-args-completes", "args-env-and-exit-code"],
)
def test_runs_with_wasi_argv_env_and_logs(
    runtime: WasmRuntime,
    tmp_path: Path,
    args: tuple[str, ...],
    env: tuple[tuple[str, str], ...],
    exit_code: int,
    reason: str,
    stdout: str,
) -> None:
    handle = start(runtime, tmp_path, "echo.wat", args=args, env=env)
    result = handle.wait(10)
    assert result is not None
    assert (result.exit_code, result.reason) == (exit_code, reason)
    assert [path.read_text() for path in handle.logs.files] == [stdout + "to stderr\n"]


def test_memory_hog_hits_the_wasm_memory_limit(runtime: WasmRuntime, tmp_path: Path) -> None:
    handle = start(
        runtime, tmp_path, "hog.wat", limits=ResourceLimits.from_quantities(memory_limit="16Mi")
    )
    result = handle.wait(10)
    assert result is not None
    assert (result.exit_code, result.reason) == (137, "OOMKilled")


def test_a_trap_below_the_memory_limit_is_an_error(runtime: WasmRuntime, tmp_path: Path) -> None:
    # Without a limit the hog grows to wasm32's 4 GiB ceiling of address space and then traps.
    handle = start(
        runtime, tmp_path, "hog.wat", limits=ResourceLimits.from_quantities(memory_limit="8Gi")
    )
    result = handle.wait(10)
    assert result is not None
    assert (result.exit_code, result.reason) == (1, "Error")
    assert "unreachable" in result.message


def test_cpu_limit_holds_a_spinning_module(runtime: WasmRuntime, tmp_path: Path) -> None:
    handle = start(runtime, tmp_path, "spin.wat", limits=ResourceLimits.from_quantities("300m"))
    time.sleep(0.3)
    first = handle.stats()
    time.sleep(0.8)
    second = handle.stats()
    assert first is not None and second is not None
    assert 0.2e9 <= cpu_nanocores(first, second) <= 0.37e9
    # A module that never calls the host still stops: it has no SIGTERM handler, so it ends at once.
    result = handle.stop(5)
    assert result.exit_code == 143


def test_preopened_volume_is_visible(runtime: WasmRuntime, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    handle = start(runtime, tmp_path, "echo.wat", mounts=(Mount(volume, "/data", read_only=True),))
    result = handle.wait(10)
    assert result is not None and result.reason == "Completed"


def test_warm_start_takes_milliseconds(runtime: WasmRuntime, tmp_path: Path) -> None:
    start(runtime, tmp_path, "echo.wat", name="cold").wait(10)
    durations = []
    for index in range(5):
        began = time.perf_counter()
        handle = start(runtime, tmp_path, "echo.wat", name=f"warm{index}", args=("x",))
        result = handle.wait(10)
        durations.append(time.perf_counter() - began)
        assert result is not None and result.exit_code == 1
    # What the zygote saves is a fresh interpreter importing wasmtime (~175 ms idle). Comparing with
    # that, measured now, keeps the test meaningful on a loaded host where absolute times stretch.
    interpreter = []
    for _ in range(3):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import wasmtime"], check=True)
        interpreter.append(time.perf_counter() - began)
    assert sorted(durations)[2] < 0.1 or sorted(durations)[2] < sorted(interpreter)[1] / 2


@pytest.mark.parametrize(
    ("image", "reason"),
    [("file:///nonexistent/app.wasm", "ErrImageNeverPull"), ("never-imported:v1", "ErrImageNeverPull")],
    ids=["missing-file", "unknown-name"],
)
def test_missing_modules_are_start_failures(
    runtime: WasmRuntime, tmp_path: Path, image: str, reason: str
) -> None:
    result = runtime.start(ContainerSpec("missing", "app", image, tmp_path))
    assert isinstance(result, StartFailure) and result.reason == reason


def test_invalid_module_is_a_create_error(runtime: WasmRuntime, tmp_path: Path) -> None:
    broken = tmp_path / "broken.wat"
    broken.write_text("(module (func")
    result = runtime.start(ContainerSpec("broken", "app", f"file://{broken}", tmp_path / "state"))
    assert isinstance(result, StartFailure) and result.reason == "CreateContainerError"


def test_example_app_greets_then_keeps_running(runtime: WasmRuntime, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "wasm" / "hello.wat"
    spec = ContainerSpec("w-example", "hello", f"file://{example}", tmp_path / "example", args=("pod",))
    handle = runtime.start(spec)
    assert isinstance(handle, SupervisedContainer)
    deadline = time.monotonic() + 5
    while "pod\n" not in handle.logs.stdout.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert handle.logs.stdout.read_text() == "hello from kubelite wasm\npod\n"
    assert handle.poll() is None
    assert handle.stop(1).exit_code == 143
