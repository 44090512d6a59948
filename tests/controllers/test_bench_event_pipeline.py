"""A small run of the event-pipeline benchmark: every write reaches a reconcile, figures are sane."""

from __future__ import annotations

import asyncio

from kubelite.cli.bench_event_pipeline import _delays, run_event_pipeline_bench


def test_delay_is_measured_to_the_first_reconcile_that_saw_the_write() -> None:
    acks = {"a": [(0, 1.0), (1, 2.0), (2, 3.0)]}
    starts = [("a", 0, 1.5), ("a", 2, 3.25)]  # write 1 was coalesced into the reconcile of 2
    assert _delays(acks, starts) == [0.5, 1.25, 0.25]


def test_small_run_reports_every_write_reconciled() -> None:
    result = asyncio.run(run_event_pipeline_bench(rate=200, seconds=1.0, pods=20, workers=2, concurrency=8))
    assert 0 < result["writes"] <= 200  # the load is offered for one second only
    assert result["write_failures"] == 0
    assert result["writes_measured"] == result["writes"]  # every acknowledged write was reconciled
    assert result["p99_ms"] is not None and result["p99_ms"] >= 0
    assert result["controller_rss_mb"] > 0
