"""Shared helpers of the store tests: the backend opener and a bounded scenario runner."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from kubelite.store import MemoryStore, SQLiteStore, Store

Result = TypeVar("Result")

BackendName = Literal["memory", "sqlite"]


@dataclass
class Backend:
    """Opens stores of one kind; for SQLite every `open` reuses the same file (a restart)."""

    name: BackendName
    directory: Path

    @property
    def database_path(self) -> Path:
        return self.directory / "store.db"

    def open(self) -> Store:
        if self.name == "memory":
            return MemoryStore()
        return SQLiteStore(self.database_path)


def run(coroutine: Coroutine[Any, Any, Result], timeout: float = 60.0) -> Result:
    """Run one test scenario on a fresh event loop, failing instead of hanging."""

    async def bounded() -> Result:
        return await asyncio.wait_for(coroutine, timeout)

    return asyncio.run(bounded())
