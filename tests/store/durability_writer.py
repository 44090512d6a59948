"""Writes keys to a SQLite store forever, printing each key once its create is acknowledged.

Run by the durability test as `python durability_writer.py <database> <writers>`; it is killed
with SIGKILL mid-load, then every key it printed must be found in the database.
"""

from __future__ import annotations

import asyncio
import sys

from kubelite.store import SQLiteStore


async def write_forever(path: str, writers: int) -> None:
    store = SQLiteStore(path)

    async def writer(writer_index: int) -> None:
        index = 0
        while True:
            key = f"/registry/pods/durability/w{writer_index}-{index}"
            await store.create(key, b'{"kind":"Pod"}' * 32)
            sys.stdout.write(key + "\n")
            sys.stdout.flush()
            index += 1

    await asyncio.gather(*(writer(writer_index) for writer_index in range(writers)))


if __name__ == "__main__":
    asyncio.run(write_forever(sys.argv[1], int(sys.argv[2])))
