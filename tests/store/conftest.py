"""Fixtures for the store tests: every behavioural test runs against each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import Backend, BackendName


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    name: BackendName = request.param
    return Backend(name=name, directory=tmp_path)
