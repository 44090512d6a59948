"""Key-range arithmetic shared by the store backends.

A prefix query is the half-open key range [prefix, prefix_range_end(prefix)), the same trick
etcd's `WithPrefix` uses: the end is the prefix with its last character incremented. Keys
compare by code point in Python and by UTF-8 bytes in SQLite (BINARY collation); both orders
agree, so the same range bounds work in memory and in SQL.
"""

from __future__ import annotations

_MAX_CODE_POINT = 0x10FFFF


def prefix_range_end(prefix: str) -> str | None:
    """The smallest key greater than every key starting with `prefix`; None means no bound."""
    trimmed = prefix
    # A trailing U+10FFFF cannot be incremented; drop it and carry into the previous character.
    while trimmed and ord(trimmed[-1]) == _MAX_CODE_POINT:
        trimmed = trimmed[:-1]
    if not trimmed:
        return None
    return trimmed[:-1] + chr(ord(trimmed[-1]) + 1)


def lowest_key_in_range(prefix: str, start_key: str | None) -> str:
    """Where a list under `prefix` starts: `start_key` when it lies past the prefix itself."""
    if start_key is None or start_key < prefix:
        return prefix
    return start_key
