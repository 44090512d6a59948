"""The store benchmark runs end to end on both backends (tiny sizes; real runs use the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.store.bench import run_store_benchmark


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_benchmark_reports_every_phase(backend: str, tmp_path: Path) -> None:
    url = "memory://" if backend == "memory" else f"sqlite:///{tmp_path / 'bench.db'}"
    report = run_store_benchmark(
        url,
        sequential_creates=50,
        concurrent_writers=8,
        concurrent_creates=200,
        paced_rate=500.0,
        paced_seconds=0.1,
    )
    assert report["store"] == url
    expected_creates = {"sequential": 50, "concurrent": 200, "paced": 50}
    for phase, creates in expected_creates.items():
        summary = report[phase]
        assert isinstance(summary, dict)
        assert summary["creates"] == creates
        assert summary["creates_per_second"] > 0
        assert 0 <= summary["p50_ms"] <= summary["p99_ms"] <= summary["max_ms"]
    assert isinstance(report["speedup_over_sequential"], float)


def test_benchmark_runs_twice_on_one_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    sizes = {"sequential_creates": 5, "concurrent_creates": 10, "paced_rate": 100.0, "paced_seconds": 0.05}
    run_store_benchmark(url, **sizes)  # type: ignore[arg-type]
    second = run_store_benchmark(url, **sizes)  # type: ignore[arg-type]
    assert second["sequential"]["creates"] == 5  # type: ignore[index]
