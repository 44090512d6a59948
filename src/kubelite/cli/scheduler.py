"""`kubelite bench scheduler`: the scheduler benchmark (see `kubelite.scheduler.bench`).

Prints one JSON object (`--json`) or a short table: pods/s, p50/p99 creation-to-binding latency,
peak RSS, and whether it ran in-process or against a live server, next to kube-scheduler's
scheduler_perf reference figures at 5,000 nodes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, cast

import typer
from rich.console import Console

from kubelite.scheduler.bench import Workload, run_in_process

# kube-scheduler scheduler_perf at 5,000 nodes (pods/s): SchedulingBasic, TopologySpreading, MixedChurn.
REFERENCE_PODS_PER_SECOND: dict[str, float] = {"basic": 270.0, "spread": 85.0, "mixed": 265.0}

bench_app = typer.Typer(name="bench", help="Benchmarks that print JSON.", no_args_is_help=True)


@bench_app.command("scheduler")
def bench_scheduler(
    nodes: Annotated[int, typer.Option("--nodes", help="Fake nodes (objects only).")] = 5000,
    pods: Annotated[int, typer.Option("--pods", help="Pods created in the measured window.")] = 10000,
    existing_pods: Annotated[int, typer.Option("--existing-pods", help="Pods bound before measuring.")] = 0,
    workload: Annotated[str, typer.Option("--workload", help="basic | spread | affinity | mixed")] = "basic",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure scheduling throughput and latency, modelled on kube-scheduler's scheduler_perf."""
    if workload not in ("basic", "spread", "affinity", "mixed"):
        raise typer.BadParameter("workload must be basic, spread, affinity or mixed", param_hint="--workload")
    chosen = cast(Workload, workload)
    result = asyncio.run(run_in_process(nodes, pods, existing_pods, chosen, seed)).as_dict()
    reference = REFERENCE_PODS_PER_SECOND.get(workload)
    if reference is not None:
        result["reference_kube_scheduler_pods_per_second"] = reference
        result["ratio_to_reference"] = round(float(result["pods_per_second"]) / reference, 2)
    if as_json:
        typer.echo(json.dumps(result))
        return
    console = Console()
    for key, value in result.items():
        console.print(f"{key:>40}: {value}")

