"""Load traces for replay: one row per time step, read once into numpy arrays.

Accepted files are CSV with a header, a timestamp column (`timestamp`, `timestamp_local` or the
first column, "YYYY-mm-dd HH:MM:SS", read as UTC) and the named load column. Rows whose `outage`
column is 1 (the NASA trace's Hurricane Erin shutdown) are missing data: they are dropped, not read
as zero load, and the replay treats them like any other gap in the timestamps; so are rows whose
load is empty or NaN. A load that is not a number, negative or infinite, or a timestamp that cannot
be read, is a `TraceError` naming the line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

TIMESTAMP_COLUMNS = ("timestamp", "timestamp_local", "time", "ts")


@dataclass(frozen=True, slots=True)
class LoadTrace:
    """A load series: `values[i]` is the offered load during the step starting at `timestamps[i]`."""

    timestamps: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    step_seconds: float
    skipped_rows: int

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])


class TraceError(ValueError):
    """The file is not a usable load trace (a user input error, reported by the CLI)."""


def _parse_time(text: str, where: str) -> float:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("T", " ").rstrip("Z"))
    except ValueError:
        raise TraceError(f"{where}: timestamp {text!r} is neither epoch seconds nor ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _parse_load(text: str, where: str) -> float | None:
    """The load of a row; None for a row marked missing (empty or NaN)."""
    try:
        value = float(text)
    except ValueError:
        raise TraceError(f"{where}: load {text!r} is not a number") from None
    if math.isnan(value):
        return None
    if value < 0 or math.isinf(value):
        raise TraceError(f"{where}: load {text!r} must be a finite number >= 0")
    return value


def load_trace(path: Path, column: str) -> LoadTrace:
    """Read `column` of the CSV at `path`, skipping rows marked as outages."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if column not in fields:
            raise TraceError(f"column {column!r} not in {path.name}; columns are {', '.join(fields)}")
        time_column = next((name for name in TIMESTAMP_COLUMNS if name in fields), fields[0])
        times: list[float] = []
        values: list[float] = []
        skipped = 0
        for line, row in enumerate(reader, start=2):
            where = f"{path.name} line {line}"
            outage = (row.get("outage") or "0").strip()
            raw = (row.get(column) or "").strip()
            value = _parse_load(raw, where) if raw and outage in ("", "0") else None
            if value is None:
                skipped += 1
                continue
            times.append(_parse_time(row.get(time_column) or "", where))
            values.append(value)
    if len(times) < 2:
        raise TraceError(f"{path.name} has fewer than two usable rows")
    timestamps = np.asarray(times, dtype=np.float64)
    order = np.argsort(timestamps, kind="stable")
    timestamps = timestamps[order]
    step = float(np.median(np.diff(timestamps)))
    if step <= 0:
        raise TraceError(f"{path.name}: timestamps do not advance")
    return LoadTrace(timestamps, np.asarray(values, dtype=np.float64)[order], step, skipped)
