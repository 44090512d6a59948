"""Every acknowledged SQLite write survives SIGKILL of the writing process mid-load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from store_helpers import run

from kubelite.store import SQLiteStore

WRITER_SCRIPT = Path(__file__).resolve().parent / "durability_writer.py"


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    acknowledged_before_kill = 1500
    process = subprocess.Popen(
        [sys.executable, str(WRITER_SCRIPT), str(path), "16"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    acknowledged: list[str] = []
    try:
        while len(acknowledged) < acknowledged_before_kill:
            line = process.stdout.readline()
            assert line, f"the writer exited early with {process.wait()}"
            acknowledged.append(line)
        os.kill(process.pid, signal.SIGKILL)
        acknowledged.extend(process.stdout.read().splitlines(keepends=True))
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    # A line cut short by the kill was never completely printed, so its key may be missing.
    keys = [line.rstrip("\n") for line in acknowledged if line.endswith("\n")]

    async def missing_keys() -> tuple[list[str], int]:
        store = SQLiteStore(path)
        missing = [key for key in keys if await store.get(key) is None]
        revision = store.revision
        await store.close()
        return missing, revision

    missing, revision = run(missing_keys())
    assert missing == []
    assert revision >= len(keys)
