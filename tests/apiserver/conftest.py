"""Fixtures: one real `kubelite up` per test module, driven like a user drives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .cluster import RunningCluster, start_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCluster]:
    data_dir: Path = tmp_path_factory.mktemp("kubelite")
    running = start_cluster(data_dir, "--agents", "0")
    yield running
    running.stop()
