"""The `kubelite anomaly` commands (its Typer app, driven directly): file formats and the NAB report."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubelite.cli.anomaly import app

RUNNER = CliRunner()


def _write_series(path: Path, points: int, spike_at: int | None = None) -> list[str]:
    stamps = [
        f"2015-01-{1 + index // 288:02d} {index % 288 // 12:02d}:{index % 12 * 5:02d}:00"
        for index in range(points)
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value"])
        for index, stamp in enumerate(stamps):
            value = 50 + 10 * math.sin(index / 20) + (80 if index == spike_at else 0)
            writer.writerow([stamp, value])
    return stamps


def test_detect_writes_one_scored_row_per_input_row_in_order(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    stamps = _write_series(source, 1500, spike_at=1200)
    result = RUNNER.invoke(app, ["detect", "--input", str(source), "--output", str(target)])
    assert result.exit_code == 0, result.output
    with target.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"]
    assert [row["timestamp"] for row in rows] == stamps
    scores = [float(row["anomaly_score"]) for row in rows]
    assert all(0.0 <= score <= 1.0 for score in scores)
    # The likelihood averages the last 10 raw scores, so the peak may trail the spike by a few rows.
    assert 1200 <= max(range(len(scores)), key=scores.__getitem__) < 1210


@pytest.mark.parametrize(
    "arguments",
    [["--detector", "no-such-detector"], []],
    ids=["unknown-detector", "missing-input"],
)
def test_detect_rejects_bad_arguments(tmp_path: Path, arguments: list[str]) -> None:
    source = tmp_path / "in.csv"
    _write_series(source, 10)
    base = ["detect", "--output", str(tmp_path / "out.csv")]
    if arguments:
        base += ["--input", str(source)]
    result = RUNNER.invoke(app, base + arguments)
    assert result.exit_code != 0


def test_nab_scores_any_folder_of_the_nab_layout(tmp_path: Path) -> None:
    (tmp_path / "data" / "cat").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    stamps = _write_series(tmp_path / "data" / "cat" / "one.csv", 2000, spike_at=1500)
    _write_series(tmp_path / "data" / "cat" / "two.csv", 2000)
    windows = {"cat/one.csv": [[stamps[1450], stamps[1549]]], "cat/two.csv": []}
    (tmp_path / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    result = RUNNER.invoke(app, ["nab", "--data", str(tmp_path), "--json", "--workers", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["files"] == 2
    assert report["windows"] == 1
    assert set(report["profiles"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    standard = report["profiles"]["standard"]
    # The spike sits mid-window, so the detection earns S(-0.5)/S(-1) of the window's reward.
    assert standard["true_positive_windows"] == 1
    assert standard["normalised_score"] > 85
    assert report["microseconds_per_point"] > 0
    assert "cat" in report["categories"]
