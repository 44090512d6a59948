"""A picture of a replay: offered load against ready capacity, violations marked (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # No display: the plot is always written to a file.

import matplotlib.pyplot as plt
import numpy as np

from kubelite.autoscaling.replay.simulate import ReplayResult


def plot_replay(result: ReplayResult, capacity_per_pod: float, path: Path, title: str) -> None:
    """Write a PNG with load, ready capacity and the violation steps."""
    hours = (result.timestamps - result.timestamps[0]) / 3600.0
    capacity = result.ready_replicas * capacity_per_pod
    violations = result.load > capacity
    figure, axis = plt.subplots(figsize=(14, 4.5), dpi=110)
    axis.plot(hours, result.load, linewidth=0.5, color="tab:blue", label="offered load")
    axis.step(hours, capacity, where="post", linewidth=0.6, color="tab:green", label="ready capacity")
    axis.scatter(
        hours[violations], result.load[violations], s=4, color="tab:red", label="violation", zorder=3
    )
    axis.set_xlabel("hours since the start of the trace")
    axis.set_ylabel("load")
    summary = result.summary
    axis.set_title(
        f"{title}: {summary.violation_minutes:.0f} violation min, {summary.replica_hours:.0f} replica-h, "
        f"slack {summary.mean_slack:.1%}"
    )
    axis.set_ylim(0, float(np.percentile(np.maximum(result.load, capacity), 99.9)) * 1.1)
    axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
