"""`kubelite sim ...`: simulations that run the real scheduler on recorded traces.

`kubelite sim openb` replays the Alibaba OpenB GPU trace with the FGD paper's method (see
`kubelite.sim.openb`) for one placement policy over several seeds, prints the unallocated GPU %
at 90..130% of arrived demand (mean and standard deviation over seeds) and the seconds per seed,
and can write every placement to a CSV so that anyone can check that no node or GPU is
over-committed and recompute the figure.
"""

from __future__ import annotations

import csv
import json
import statistics
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kubelite.scheduler.gpu.demand import format_gpu_indices
from kubelite.scheduler.gpu.policies import POLICIES
from kubelite.sim.openb.metrics import CHECKPOINTS
from kubelite.sim.openb.runner import SeedResult, run_seed
from kubelite.sim.openb.trace import MIB, read_nodes, read_pods

app = typer.Typer(name="sim", help="Simulations on recorded traces.", no_args_is_help=True)


@app.callback()
def sim() -> None:
    """Simulations on recorded traces (a group, so that more simulations can join it)."""


FIRST_SEED = 42
"""The paper's artifact runs seeds 42..51."""


def _run(arguments: tuple[Path, Path, str, int]) -> SeedResult:
    nodes_path, pods_path, policy, seed = arguments
    return run_seed(read_nodes(nodes_path), read_pods(pods_path), policy, seed)


def summarise(results: list[SeedResult]) -> dict[str, object]:
    """Mean and standard deviation per checkpoint, and per-seed figures."""
    summary: dict[str, dict[str, float]] = {}
    for checkpoint in CHECKPOINTS:
        values = [r.unallocated_percent[checkpoint] for r in results if checkpoint in r.unallocated_percent]
        if values:
            summary[str(checkpoint)] = {
                "mean": round(statistics.fmean(values), 3),
                "sd": round(statistics.stdev(values), 3) if len(values) > 1 else 0.0,
            }
    return {
        "unallocated_gpu_percent": summary,
        "seconds_per_seed": round(statistics.fmean(r.seconds for r in results), 2),
        "seeds": [
            {
                "seed": r.seed,
                "unallocated_gpu_percent": {str(k): v for k, v in r.unallocated_percent.items()},
                "placed": r.placed,
                "unplaced": r.unplaced,
                "seconds": round(r.seconds, 2),
            }
            for r in results
        ],
    }


def write_placements(path: Path, results: list[SeedResult]) -> None:
    """One row per arriving pod; `gpu_milli` is the share taken from each listed GPU."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["seed", "pod", "node", "gpu_indices", "gpu_milli", "cpu_milli", "memory_mib"])
        for result in results:
            for p in result.placements:
                writer.writerow(
                    [
                        p.seed,
                        p.pod,
                        p.node,
                        format_gpu_indices(p.gpu_indices),
                        p.demand.milli_per_gpu,
                        p.demand.cpu_milli,
                        p.demand.memory_bytes // MIB,
                    ]
                )


@app.command("openb")
def openb(
    nodes: Annotated[Path, typer.Option("--nodes", exists=True, dir_okay=False, help="Node list CSV.")],
    pods: Annotated[Path, typer.Option("--pods", exists=True, dir_okay=False, help="Pod list CSV.")],
    policy: Annotated[str, typer.Option("--policy", help=f"One of: {', '.join(POLICIES)}.")],
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds 42, 43, ... to run.")] = 10,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes running seeds.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    placements: Annotated[
        Path | None, typer.Option("--placements", dir_okay=False, help="Write every placement here.")
    ] = None,
) -> None:
    """Replay the OpenB trace with one policy and report the unallocated GPU %."""
    if policy not in POLICIES:
        raise typer.BadParameter(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    jobs = [(nodes, pods, policy, FIRST_SEED + offset) for offset in range(seeds)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_run, jobs))
    else:
        results = [_run(job) for job in jobs]
    if placements is not None:
        write_placements(placements, results)
    summary = {"policy": policy, "nodes": nodes.name, "pods": pods.name, **summarise(results)}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table(title=f"{policy} on {pods.name}: unallocated GPU % ({seeds} seeds)")
    table.add_column("arrived demand")
    table.add_column("mean", justify="right")
    table.add_column("sd", justify="right")
    checkpoints = summary["unallocated_gpu_percent"]
    assert isinstance(checkpoints, dict)
    for checkpoint, values in checkpoints.items():
        table.add_row(f"{checkpoint}%", f"{values['mean']:.2f}", f"{values['sd']:.2f}")
    Console().print(table)
    Console().print(f"seconds per seed: {summary['seconds_per_seed']}")
