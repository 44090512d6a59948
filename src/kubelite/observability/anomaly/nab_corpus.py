"""Reading a folder in the Numenta Anomaly Benchmark layout.

A NAB folder holds `data/<category>/<file>.csv` (columns `timestamp,value`) and
`labels/combined_windows.json`, which maps `<category>/<file>.csv` to a list of
[start, end] timestamp pairs. `load_corpus` reads every data file in sorted order and resolves each
window's timestamps to inclusive row indices, the form `nab_scoring` works on. Any folder of that
layout can be scored, not only the one shipped with the project.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Series:
    """One CSV of `timestamp,value` rows."""

    timestamps: list[float]
    values: list[float]


@dataclass(frozen=True)
class LabelledFile:
    """One corpus file with its windows as inclusive (first_row, last_row) pairs."""

    relative_path: str
    category: str
    series: Series
    windows: list[tuple[int, int]]


def parse_timestamp(text: str) -> float:
    """Seconds since the epoch for NAB's naive `YYYY-MM-DD HH:MM:SS[.ffffff]` timestamps (read as UTC)."""
    return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()


def read_series(path: Path) -> tuple[list[str], Series]:
    """Read a `timestamp,value` CSV, keeping the original timestamp text for round-tripping."""
    texts: list[str] = []
    timestamps: list[float] = []
    values: list[float] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"timestamp", "value"} <= set(reader.fieldnames):
            raise ValueError(f"{path.name}: expected the columns timestamp,value, got {reader.fieldnames}")
        for row in reader:
            texts.append(row["timestamp"])
            timestamps.append(parse_timestamp(row["timestamp"]))
            values.append(float(row["value"]))
    return texts, Series(timestamps, values)


def _window_rows(timestamps: list[float], start: str, end: str) -> tuple[int, int]:
    first, last = parse_timestamp(start), parse_timestamp(end)
    rows = [row for row, stamp in enumerate(timestamps) if first <= stamp <= last]
    if not rows:
        raise ValueError(f"window {start} .. {end} covers no rows")
    return rows[0], rows[-1]


def load_corpus(root: Path) -> list[LabelledFile]:
    """Load every data file of a NAB-layout folder with its labelled windows."""
    labels: dict[str, list[list[str]]] = json.loads((root / "labels" / "combined_windows.json").read_text())
    files: list[LabelledFile] = []
    for path in sorted((root / "data").glob("*/*.csv")):
        relative = f"{path.parent.name}/{path.name}"
        _, series = read_series(path)
        windows = [_window_rows(series.timestamps, start, end) for start, end in labels.get(relative, [])]
        files.append(LabelledFile(relative, path.parent.name, series, windows))
    return files
