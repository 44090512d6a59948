"""The oci runtime with real runc and a busybox rootfs image."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.agent.cgroups import CgroupLayout
from kubelite.agent.images import ImageStore
from kubelite.agent.runtime.interface import (
    ContainerSpec,
    Mount,
    ResourceLimits,
    StartFailure,
    cpu_nanocores,
)
from kubelite.agent.runtime.oci import OciRuntime, bundle_config
from kubelite.agent.runtime.supervised import SupervisedContainer
from kubelite.clock import RealClock


@pytest.fixture
def runtime(
    clock: RealClock,
    cgroup_layout: CgroupLayout,
    cgroup_parent: str,
    busybox_store: ImageStore,
    tmp_path: Path,
) -> Iterator[OciRuntime]:
    runc = shutil.which("runc")
    assert runc is not None, "runc must be installed (apt-get install -y runc)"
    runc_root = tmp_path / "runc"
    yield OciRuntime(clock, cgroup_layout, busybox_store, runc_root, runc, cgroup_parent)
    # Whatever a failed test left running goes, so its cgroup can be removed too.
    listed = subprocess.run(
        [runc, "--root", str(runc_root), "list", "-q"], capture_output=True, text=True
    )
    for container_id in listed.stdout.split():
        subprocess.run([runc, "--root", str(runc_root), "delete", "--force", container_id], check=False)


def start(
    runtime: OciRuntime, tmp_path: Path, script: str, name: str = "c", **options: object
) -> SupervisedContainer:
    spec = ContainerSpec(
        f"o-{name}-{tmp_path.name}",
        name,
        "busybox",
        tmp_path / name,
        command=("sh", "-c", script),
        **options,  # type: ignore[arg-type]
    )
    handle = runtime.start(spec)
    assert isinstance(handle, SupervisedContainer), handle
    return handle


def test_runs_with_env_volume_logs_and_exit_code(runtime: OciRuntime, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "greeting").write_text("from a volume")
    script = "echo $NAME; cat /data/greeting; echo; echo oops >&2; echo $$; exit 4"
    handle = start(
        runtime, tmp_path, script, env=(("NAME", "busybox"),), mounts=(Mount(volume, "/data", True),)
    )
    result = handle.wait(15)
    assert result is not None
    assert (result.exit_code, result.reason) == (4, "Error")
    # "1": the shell is PID 1 of its own PID namespace.
    # One log for both streams. Where "oops" lands among stdout's lines depends on the shell's own
    # buffering of stdout, so only the order within each stream is checked.
    (log,) = [path.read_text() for path in handle.logs.files]
    assert "oops\n" in log and log.replace("oops\n", "", 1) == "busybox\nfrom a volume\n1\n"


def test_memory_hog_is_oom_killed(runtime: OciRuntime, tmp_path: Path) -> None:
    hog = "a=x; while :; do a=$a$a; done"
    handle = start(runtime, tmp_path, hog, limits=ResourceLimits.from_quantities(memory_limit="32Mi"))
    result = handle.wait(30)
    assert result is not None
    assert (result.exit_code, result.reason) == (137, "OOMKilled")


def test_cpu_limit_is_enforced_and_grace_period_respected(runtime: OciRuntime, tmp_path: Path) -> None:
    # PID 1 ignores SIGTERM unless it traps it, so this container needs the SIGKILL after the grace period.
    handle = start(
        runtime, tmp_path, "while :; do :; done", limits=ResourceLimits.from_quantities("250m")
    )
    time.sleep(0.4)
    first = handle.stats()
    time.sleep(0.8)
    second = handle.stats()
    assert first is not None and second is not None
    assert 0.15e9 <= cpu_nanocores(first, second) <= 0.32e9
    began = time.monotonic()
    result = handle.stop(0.5)
    assert 0.5 <= time.monotonic() - began < 5
    assert result.exit_code == 137


def test_sigterm_reaches_a_trapping_container(runtime: OciRuntime, tmp_path: Path) -> None:
    script = "trap 'echo term; exit 0' TERM; echo trapping; while :; do sleep 0.05; done"
    handle = start(runtime, tmp_path, script)
    deadline = time.monotonic() + 10
    while handle.logs.stdout.read_text() != "trapping\n":  # the trap is set: SIGTERM now reaches it
        assert time.monotonic() < deadline
        time.sleep(0.02)
    result = handle.stop(10)
    assert (result.exit_code, result.reason) == (0, "Completed")
    assert handle.logs.stdout.read_text() == "trapping\nterm\n"


def test_unknown_image_is_a_start_failure(runtime: OciRuntime, tmp_path: Path) -> None:
    result = runtime.start(ContainerSpec("x", "c", "nginx:1.27", tmp_path, command=("nginx",)))
    assert isinstance(result, StartFailure) and result.reason == "ErrImageNeverPull"


def test_bundle_carries_limits_namespaces_and_mounts(busybox_store: ImageStore, tmp_path: Path) -> None:
    image = busybox_store.lookup("busybox")
    assert image is not None
    spec = ContainerSpec(
        "b1", "web", "busybox", tmp_path, args=("-c", "true"), command=("sh",), working_dir="/srv",
        mounts=(Mount(tmp_path, "/data", read_only=True),),
        limits=ResourceLimits.from_quantities("500m", "64Mi", cpu_request="250m", pids_limit=64),
    )  # fmt: skip
    config = bundle_config(spec, image, "kubelite/b1")
    resources = config["linux"]["resources"]
    assert resources["memory"] == {"limit": 64 * 2**20, "swap": 64 * 2**20}
    assert resources["cpu"] == {"shares": 256, "quota": 50_000, "period": 100_000}
    assert resources["pids"] == {"limit": 64}
    assert {namespace["type"] for namespace in config["linux"]["namespaces"]} == {
        "pid",
        "ipc",
        "uts",
        "mount",
    }
    assert config["process"]["args"] == ["sh", "-c", "true"]
    assert config["process"]["cwd"] == "/srv"
    assert {
        "destination": "/data",
        "type": "bind",
        "source": str(tmp_path),
        "options": ["rbind", "ro"],
    } in config["mounts"]
