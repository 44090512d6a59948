"""Fixtures for the agent's tests: real cgroups, a busybox image store, and cleanup that always runs."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.agent.cgroups import CgroupLayout, detect_layout
from kubelite.agent.images import ImageStore
from kubelite.clock import RealClock

MODULES = Path(__file__).resolve().parent / "runtime" / "modules"


def build_busybox_rootfs(rootfs: Path) -> None:
    """The examples/oci/README.md recipe: busybox-static plus one relative symlink per applet."""
    busybox = shutil.which("busybox")
    assert busybox is not None, "busybox-static must be installed (apt-get install -y busybox-static)"
    bin_dir = rootfs / "bin"
    bin_dir.mkdir(parents=True)
    shutil.copy(busybox, bin_dir / "busybox")
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (bin_dir / applet).symlink_to("busybox")


@pytest.fixture(scope="session")
def busybox_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("busybox")
    build_busybox_rootfs(work / "rootfs")
    tarball = work / "busybox-rootfs.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(work / "rootfs", arcname=".")
    return tarball


@pytest.fixture(scope="session")
def busybox_store(tmp_path_factory: pytest.TempPathFactory, busybox_tarball: Path) -> ImageStore:
    store = ImageStore(tmp_path_factory.mktemp("images"))
    store.import_image(busybox_tarball, "busybox:latest")
    return store


@pytest.fixture(scope="session")
def cgroup_layout() -> CgroupLayout:
    layout = detect_layout()
    assert layout is not None, "the runtime tests need a host with cgroups"
    return layout


@pytest.fixture
def cgroup_parent(cgroup_layout: CgroupLayout) -> Iterator[str]:
    """A fresh parent cgroup per test, removed afterwards even if the test failed."""
    parent = f"kubelite-test-{uuid.uuid4().hex[:12]}"
    yield parent
    # runc also creates the parent in hierarchies the agent does not use (blkio, systemd, ...).
    candidates = {
        mount / cgroup_layout.own_paths[name].strip("/") / parent
        for name, mount in cgroup_layout.mounts.items()
    }
    for pattern in (f"*/{parent}", f"*/*/*/{parent}"):
        candidates.update(Path("/sys/fs/cgroup").glob(pattern))
    for directory in candidates:
        if directory.exists():
            _remove_cgroup_tree(directory)


def _remove_cgroup_tree(directory: Path) -> None:
    for child in sorted((path for path in directory.rglob("*") if path.is_dir()), reverse=True):
        _kill_members(child)
        child.rmdir()
    _kill_members(directory)
    directory.rmdir()


def _kill_members(directory: Path) -> None:
    procs = directory / "cgroup.procs"
    for pid in procs.read_text().split() if procs.exists() else []:
        subprocess.run(["kill", "-9", pid], check=False)


@pytest.fixture
def clock() -> RealClock:
    # The runtimes stamp real processes' start and finish; the control loops above them take a FakeClock.
    return RealClock()
