"""The process runtime with real processes and real cgroups."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from kubelite.agent.cgroups import CgroupLayout
from kubelite.agent.runtime.interface import ContainerSpec, ResourceLimits, StartFailure, cpu_nanocores
from kubelite.agent.runtime.process import ProcessRuntime
from kubelite.agent.runtime.supervised import SupervisedContainer
from kubelite.clock import RealClock


@pytest.fixture
def runtime(clock: RealClock, cgroup_layout: CgroupLayout, cgroup_parent: str) -> ProcessRuntime:
    return ProcessRuntime(clock, cgroup_layout, cgroup_parent)


def start(
    runtime: ProcessRuntime, tmp_path: Path, *command: str, **options: object
) -> SupervisedContainer:
    spec = ContainerSpec(
        "c-" + tmp_path.name, "main", "", tmp_path / "state", command=command, **options
    )  # type: ignore[arg-type]
    handle = runtime.start(spec)
    assert isinstance(handle, SupervisedContainer), handle
    return handle


@pytest.mark.parametrize(
    ("script", "exit_code", "reason", "output"),
    [
        ("echo out; echo err >&2; echo more", 0, "Completed", "out\nerr\nmore\n"),
        ("echo $GREETING; exit 3", 3, "Error", "hello\n"),
        ("kill -SEGV $$", 139, "Error", ""),
    ],
    ids=["completes-and-logs", "env-and-exit-code", "killed-by-signal"],
)
def test_runs_logs_and_exits(
    runtime: ProcessRuntime,
    tmp_path: Path,
    script: str,
    exit_code: int,
    reason: str,
    output: str,
) -> None:
    handle = start(runtime, tmp_path, "sh", "-c", script, env=(("GREETING", "hello"),))
    result = handle.wait(10)
    assert result is not None
    assert (result.exit_code, result.reason) == (exit_code, reason)
    # stdout and stderr share one log, in the order written, as kubectl logs shows them.
    assert [path.read_text() for path in handle.logs.files] == [output]
    assert result.finished_at >= result.started_at


def test_memory_hog_is_oom_killed(runtime: ProcessRuntime, tmp_path: Path) -> None:
    hog = "chunks = []\nwhile True: chunks.append(bytearray(8 << 20))"
    handle = start(
        runtime,
        tmp_path,
        sys.executable,
        "-c",
        hog,
        limits=ResourceLimits.from_quantities(memory_limit="48Mi"),
    )
    result = handle.wait(20)
    assert result is not None
    assert (result.exit_code, result.reason) == (137, "OOMKilled")


def test_cpu_limit_is_enforced(runtime: ProcessRuntime, tmp_path: Path) -> None:
    handle = start(
        runtime,
        tmp_path,
        "sh",
        "-c",
        "while :; do :; done",
        limits=ResourceLimits.from_quantities("250m"),
    )
    time.sleep(0.3)
    first = handle.stats()
    time.sleep(0.8)
    second = handle.stats()
    handle.stop(0)
    assert first is not None and second is not None
    assert 0.15e9 <= cpu_nanocores(first, second) <= 0.32e9


def test_stop_sends_sigterm_then_sigkill_after_the_grace_period(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    stubborn = start(runtime, tmp_path, "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done")
    time.sleep(0.2)
    began = time.monotonic()
    result = stubborn.stop(0.5)
    assert 0.5 <= time.monotonic() - began < 3
    assert result.exit_code == 137


def test_stop_lets_a_cooperative_container_exit_cleanly(runtime: ProcessRuntime, tmp_path: Path) -> None:
    polite = start(
        runtime, tmp_path, "sh", "-c", "trap 'echo bye; exit 0' TERM; while :; do sleep 0.05; done"
    )
    time.sleep(0.2)
    result = polite.stop(10)
    assert (result.exit_code, result.reason) == (0, "Completed")
    # The shell may first report its sleeping child's SIGTERM ("Terminated") on stderr, same log.
    assert polite.logs.stdout.read_text().endswith("bye\n")


def test_leftover_children_are_killed_and_the_cgroup_removed(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    handle = start(runtime, tmp_path, "sh", "-c", "sleep 30 & exit 0")
    assert handle.wait(10) is not None
    assert handle.cgroup is not None
    assert all(not directory.exists() for directory in handle.cgroup.directories())


@pytest.mark.parametrize(
    ("command", "reason"),
    [((), "CreateContainerError"), (("/nonexistent/binary",), "RunContainerError")],
    ids=["no-command", "missing-binary"],
)
def test_start_failures_are_values(
    runtime: ProcessRuntime, tmp_path: Path, command: tuple[str, ...], reason: str
) -> None:
    result = runtime.start(ContainerSpec("bad", "main", "", tmp_path, command=command))
    assert isinstance(result, StartFailure)
    assert result.reason == reason


def test_works_without_cgroups(clock: RealClock, tmp_path: Path) -> None:
    handle = ProcessRuntime(clock, None).start(
        ContainerSpec("nocg", "main", "", tmp_path, command=("sleep", "5"))
    )
    assert isinstance(handle, SupervisedContainer)
    stats = handle.stats()
    assert stats is not None and stats.memory_working_set_bytes > 0
    assert handle.stop(1).exit_code == 143
