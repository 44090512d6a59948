"""One real `kubelite up` (API server, scheduler, controller-manager and a local agent) per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apiserver.cluster import RunningCluster, start_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCluster]:
    running = start_cluster(tmp_path_factory.mktemp("kubelite"))
    yield running
    running.stop()
