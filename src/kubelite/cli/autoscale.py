"""`kubelite autoscale`: replay a load trace through the HPA or the predictive autoscaler.

`replay` reads the trace (`autoscaling.replay.trace`), builds the HPA the way
`kubectl autoscale --cpu-percent=70` would, wraps it in the chosen policy, runs the virtual-time
replay (`autoscaling.replay.simulate`) and prints the summary (a table, or JSON with `--json`),
optionally writing the per-step CSV and a plot (`autoscaling.replay.plot`).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from kubelite.autoscaling.hpa.spec import cpu_utilization_hpa
from kubelite.autoscaling.predictive.policy import PredictiveAutoscaler, PredictiveSettings
from kubelite.autoscaling.reactive import Autoscaler, ReactiveAutoscaler
from kubelite.autoscaling.replay.simulate import ReplayConfig, ReplayResult, replay
from kubelite.autoscaling.replay.trace import TraceError, load_trace
from kubelite.clock import FakeClock

app = typer.Typer(help="Autoscaling: replay load traces through the HPA and the predictive autoscaler.")

TARGET_UTILIZATION = 70
MAX_REPLICAS = 100_000


def build_autoscaler(policy: Literal["hpa", "predictive"], startup_delay: float) -> Autoscaler:
    """The replayed HPA: CPU at 70%, min 1, behavior unset (what `kubectl autoscale` creates)."""
    spec = cpu_utilization_hpa(TARGET_UTILIZATION, 1, MAX_REPLICAS)
    if policy == "hpa":
        return ReactiveAutoscaler(spec)
    return PredictiveAutoscaler(spec, PredictiveSettings(startup_seconds=startup_delay))


def write_steps(result: ReplayResult, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "timestamp", "load", "ready_replicas", "desired_replicas"])
        for step in range(result.load.shape[0]):
            writer.writerow([
                step,
                f"{result.timestamps[step]:.0f}",
                f"{result.load[step]:g}",
                int(result.ready_replicas[step]),
                int(result.desired_replicas[step]),
            ])  # fmt: skip


@app.command("replay")
def replay_command(
    trace: Annotated[Path, typer.Option("--trace", help="CSV load trace, one row per time step.")],
    column: Annotated[str, typer.Option("--column", help="The load column.")],
    policy: Annotated[str, typer.Option("--policy", help="hpa or predictive.")],
    capacity_per_pod: Annotated[float, typer.Option("--capacity-per-pod", help="Load one pod serves.")],
    startup_delay: Annotated[float, typer.Option("--startup-delay", help="Seconds from creation to Ready.")],
    scale: Annotated[float, typer.Option("--scale", help="Offered load = scale x trace value.")] = 1.0,
    output: Annotated[Path | None, typer.Option("--output", help="Per-step CSV.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG plot of load and capacity.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Replay a load trace in virtual time and report violation minutes, replica-hours and slack."""
    if policy not in ("hpa", "predictive"):
        raise typer.BadParameter("must be hpa or predictive", param_hint="--policy")
    if capacity_per_pod <= 0 or startup_delay < 0 or scale <= 0:
        raise typer.BadParameter("capacity and scale must be positive, the delay not negative")
    try:
        load = load_trace(trace, column)
    except (OSError, TraceError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    autoscaler = build_autoscaler("hpa" if policy == "hpa" else "predictive", startup_delay)
    config = ReplayConfig(capacity_per_pod=capacity_per_pod, startup_seconds=startup_delay, scale=scale)
    started = time.perf_counter()
    result = replay(load, config, autoscaler, FakeClock(float(load.timestamps[0])))
    elapsed = time.perf_counter() - started
    if output is not None:
        write_steps(result, output)
    if plot is not None:
        from kubelite.autoscaling.replay.plot import plot_replay

        plot_replay(result, capacity_per_pod, plot, title=f"{trace.name}: {policy}")
    figures = result.summary.as_dict()
    summary = {"trace": trace.name, "policy": policy, **figures, "seconds": round(elapsed, 1)}
    if as_json:
        typer.echo(json.dumps(summary))
        return
    table = Table(title=f"{trace.name} replayed with {policy}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, str(value))
    Console().print(table)
