"""A picture of a replay: offered load against ready capacity, violations marked (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # No display: the plot is always written to a file.

import matplotlib.pyplot as plt
import numpy as np

from kubelite.autoscaling.replay.simulate import ReplayResult


def plot_replay(
    result: ReplayResult, capacity_per_pod: float, path: Path, title: str, rows: slice = slice(None)
) -> None:
    """Write a PNG with load, ready capacity and the violation steps of `rows` (the summary in the
    title is always the whole replay's)."""
    hours = (result.timestamps[rows] - result.timestamps[0]) / 3600.0
    load = result.load[rows]
    capacity = result.ready_replicas[rows] * capacity_per_pod
    violations = load > capacity
    figure, axis = plt.subplots(figsize=(14, 4.5), dpi=110)
    axis.plot(hours, load, linewidth=0.5, color="tab:blue", label="offered load")
    axis.step(hours, capacity, where="post", linewidth=0.6, color="tab:green", label="ready capacity")
    axis.scatter(hours[violations], load[violations], s=4, color="tab:red", label="violation", zorder=3)
    axis.set_xlabel("hours since the start of the trace")
    axis.set_ylabel("load")
    summary = result.summary
    axis.set_title(
        f"{title}: {summary.violation_minutes:.0f} violation min, {summary.replica_hours:.0f} replica-h, "
        f"slack {summary.mean_slack:.1%}"
    )
    axis.set_ylim(0, float(np.percentile(np.maximum(load, capacity), 99.9)) * 1.1)
    axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
