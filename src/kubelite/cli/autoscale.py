"""`kubelite autoscale`: the live HPA controller, and replays of load traces through its policies.

`bound` prints what clairvoyant provisioners reach on the same trace (`autoscaling.replay.bounds`).
`controller --kubeconfig FILE` runs the HorizontalPodAutoscaler controller
(`autoscaling.controller.run_hpa_controller`) against a cluster until SIGINT/SIGTERM, optionally
serving its Prometheus gauges (`--metrics-port`).

`replay` reads the trace (`autoscaling.replay.trace`), builds the HPA the way
`kubectl autoscale --cpu-percent=70` would, wraps it in the chosen policy, runs the virtual-time
replay (`autoscaling.replay.simulate`) and prints the summary (a table, or JSON with `--json`),
optionally writing the per-step CSV and a plot (`autoscaling.replay.plot`).
"""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import time
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from kubelite.autoscaling.controller import HPAControllerSettings, run_hpa_controller
from kubelite.autoscaling.hpa.spec import ControllerSettings, cpu_utilization_hpa
from kubelite.autoscaling.hpa_metrics import HPAMetrics
from kubelite.autoscaling.predictive.forecast import ForecastSettings
from kubelite.autoscaling.predictive.policy import (
    PredictiveAutoscaler,
    PredictiveSettings,
    predictive_behavior,
)
from kubelite.autoscaling.reactive import Autoscaler, ReactiveAutoscaler
from kubelite.autoscaling.replay.bounds import foresight_bounds
from kubelite.autoscaling.replay.simulate import ReplayConfig, ReplayResult, replay
from kubelite.autoscaling.replay.trace import LoadTrace, TraceError, load_trace
from kubelite.client import ApiClient
from kubelite.clock import FakeClock, RealClock

app = typer.Typer(
    help="Autoscaling: the HPA controller, and trace replays through the HPA and the predictive autoscaler."
)

TARGET_UTILIZATION = 70
MAX_REPLICAS = 100_000


Policy = Literal["hpa", "predictive", "floor"]
POLICIES: tuple[Policy, ...] = ("hpa", "predictive", "floor")


def build_autoscaler(
    policy: Policy,
    startup_delay: float,
    quantile: float | None = None,
    resolution_seconds: float = 60.0,
) -> Autoscaler:
    """The replayed HPA: CPU at 70%, min 1, behavior unset (what `kubectl autoscale` creates).

    `floor` is a yardstick, not a policy to run: the reactive HPA's recommendation of the moment
    with no scale-down stabilisation, i.e. the floor the predictive autoscaler never goes below,
    followed alone. Every policy that respects that floor keeps at least these replicas.

    The predictive forecaster works in buckets of the trace's resolution (at least a minute): a
    coarser trace holds its load constant over a row, so finer buckets would only repeat it.
    """
    if policy == "floor":
        return ReactiveAutoscaler(cpu_utilization_hpa(TARGET_UTILIZATION, 1, MAX_REPLICAS, predictive_behavior(0)))
    spec = cpu_utilization_hpa(TARGET_UTILIZATION, 1, MAX_REPLICAS)
    if policy == "hpa":
        return ReactiveAutoscaler(spec)
    defaults = ForecastSettings()
    forecast = ForecastSettings(
        bucket_seconds=max(defaults.bucket_seconds, resolution_seconds),
        error_quantile=defaults.error_quantile if quantile is None else quantile,
    )
    return PredictiveAutoscaler(spec, PredictiveSettings(startup_seconds=startup_delay, forecast=forecast))


def slice_trace(trace: LoadTrace, rows: str) -> LoadTrace:
    """Rows START:END of a trace (after outage rows are dropped), e.g. to tune on one half."""
    start_text, _, end_text = rows.partition(":")
    try:
        start = int(start_text) if start_text.strip() else None
        end = int(end_text) if end_text.strip() else None
    except ValueError as error:
        raise TraceError(f"--rows must be START:END, not {rows!r}") from error
    timestamps, values = trace.timestamps[start:end], trace.values[start:end]
    if len(timestamps) < 2:
        raise TraceError(f"--rows {rows} leaves fewer than two rows")
    return LoadTrace(timestamps, values, trace.step_seconds, trace.skipped_rows)


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
    policy: Annotated[
        str, typer.Option("--policy", help="hpa, predictive, or floor (the reactive floor alone, a yardstick).")
    ],
    capacity_per_pod: Annotated[float, typer.Option("--capacity-per-pod", help="Load one pod serves.")],
    startup_delay: Annotated[float, typer.Option("--startup-delay", help="Seconds from creation to Ready.")],
    scale: Annotated[float, typer.Option("--scale", help="Offered load = scale x trace value.")] = 1.0,
    quantile: Annotated[
        float | None,
        typer.Option("--quantile", help="Predictive: quantile of recent errors that sizes the margin."),
    ] = None,
    rows: Annotated[
        str, typer.Option("--rows", help="Replay only rows START:END of the usable rows (Python slice).")
    ] = ":",
    output: Annotated[Path | None, typer.Option("--output", help="Per-step CSV.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG plot of load and capacity.")] = None,
    plot_rows: Annotated[
        str, typer.Option("--plot-rows", help="Rows START:END of the replay to draw (default: all).")
    ] = ":",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Replay a load trace in virtual time and report violation minutes, replica-hours and slack."""
    chosen = next((known for known in POLICIES if known == policy), None)
    if chosen is None:
        raise typer.BadParameter("must be hpa, predictive or floor", param_hint="--policy")
    if capacity_per_pod <= 0 or startup_delay < 0 or scale <= 0:
        raise typer.BadParameter("capacity and scale must be positive, the delay not negative")
    try:
        load = slice_trace(load_trace(trace, column), rows)
    except (OSError, TraceError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    if quantile is not None and not 0.5 <= quantile < 1:
        raise typer.BadParameter("must be in [0.5, 1)", param_hint="--quantile")
    autoscaler = build_autoscaler(chosen, startup_delay, quantile, load.step_seconds)
    config = ReplayConfig(capacity_per_pod=capacity_per_pod, startup_seconds=startup_delay, scale=scale)
    started = time.perf_counter()
    result = replay(load, config, autoscaler, FakeClock(float(load.timestamps[0])))
    elapsed = time.perf_counter() - started
    if output is not None:
        write_steps(result, output)
    if plot is not None:
        from kubelite.autoscaling.replay.plot import plot_replay

        start, _, end = plot_rows.partition(":")
        drawn = slice(int(start) if start.strip() else None, int(end) if end.strip() else None)
        plot_replay(result, capacity_per_pod, plot, title=f"{trace.name}: {policy}", rows=drawn)
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


async def _serve_controller(kubeconfig: Path, settings: HPAControllerSettings, metrics_port: int) -> None:
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    if metrics_port:
        start_http_server(metrics_port, registry=registry)
    client = ApiClient.from_kubeconfig(kubeconfig)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    typer.echo("kubelite HPA controller is running", err=True)
    try:
        await run_hpa_controller(client, RealClock(), settings, stop, metrics=HPAMetrics(registry))
    finally:
        await client.close()


@app.command("controller")
def controller_command(
    kubeconfig: Annotated[Path, typer.Option("--kubeconfig", help="The cluster whose HPAs to run.")],
    sync_period: Annotated[
        float, typer.Option("--sync-period", help="Seconds between syncs of every HPA.")
    ] = 15.0,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="Only this namespace (default: all).")
    ] = None,
    startup_seconds: Annotated[
        float, typer.Option("--startup-seconds", help="Pod start-up time predictive HPAs look ahead by.")
    ] = 60.0,
    metrics_port: Annotated[int, typer.Option("--metrics-port", help="Serve /metrics here (0: off).")] = 0,
) -> None:
    """Run the HorizontalPodAutoscaler controller (predictive per HPA by annotation)."""
    if sync_period <= 0:
        raise typer.BadParameter("must be positive", param_hint="--sync-period")
    settings = HPAControllerSettings(
        controller=ControllerSettings(sync_period_seconds=sync_period),
        namespace=namespace,
        predictive_startup_seconds=startup_seconds,
    )
    asyncio.run(_serve_controller(kubeconfig, settings, metrics_port))


@app.command("bound")
def bound_command(
    trace: Annotated[Path, typer.Option("--trace", help="CSV load trace, one row per time step.")],
    column: Annotated[str, typer.Option("--column", help="The load column.")],
    capacity_per_pod: Annotated[float, typer.Option("--capacity-per-pod", help="Load one pod serves.")],
    scale: Annotated[float, typer.Option("--scale", help="Offered load = scale x trace value.")] = 1.0,
    quantile: Annotated[
        float, typer.Option("--quantile", help="Noise quantile the known-mean provisioner covers.")
    ] = 0.99,
    window_rows: Annotated[int, typer.Option("--window-rows", help="Rows in the known centred mean.")] = 5,
) -> None:
    """Print what clairvoyant provisioners reach on a trace (yardsticks for `replay`), as JSON lines."""
    if capacity_per_pod <= 0 or scale <= 0 or not 0 < quantile < 1 or window_rows < 1:
        raise typer.BadParameter("capacity and scale must be positive, 0 < quantile < 1, window >= 1")
    try:
        load = load_trace(trace, column)
    except (OSError, TraceError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    for bound in foresight_bounds(load, capacity_per_pod, scale, quantile, window_rows):
        typer.echo(json.dumps({"trace": trace.name, **bound.as_dict()}))
