"""`kubelite sim ...`: simulations that run the real scheduler on recorded traces.

`kubelite sim openb` replays the Alibaba OpenB GPU trace with the FGD paper's method (see
`kubelite.sim.openb`) for one placement policy over several seeds, prints the unallocated GPU %
at 90..130% of arrived demand (mean and standard deviation over seeds) and the seconds per seed,
and can write every placement to a CSV so that anyone can check that no node or GPU is
over-committed and recompute the figure. `kubelite sim openb-bound` prints the share-packing lower
bound on that figure (`kubelite.sim.openb.bound`), and `kubelite sim openb-variant` writes a
synthetic variant of a pod list (`kubelite.sim.openb.variants`) for robustness checks.
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
from kubelite.sim.openb.bound import share_packing_bound
from kubelite.sim.openb.metrics import CHECKPOINTS
from kubelite.sim.openb.runner import SeedResult, run_seed
from kubelite.sim.openb.trace import MIB, read_nodes, read_pods
from kubelite.sim.openb.variants import VARIANT_KINDS, VariantKind, synthesise, write_pods

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


@app.command("openb-bound")
def openb_bound(
    pods: Annotated[Path, typer.Option("--pods", exists=True, dir_okay=False, help="Pod list CSV.")],
) -> None:
    """Print the lower bounds on unallocated GPU % at 100% that GPU-share packing imposes (JSON)."""
    bound = share_packing_bound([pod.demand for pod in read_pods(pods)])
    summary = {
        "pods": pods.name,
        "share_sizes": len(bound.share_sizes),
        "patterns": bound.patterns,
        "unallocated_gpu_percent_at_100": {
            "every_share_placed": round(bound.percent(bound.all_shares_placed_milli), 3),
            "any_policy": round(bound.percent(bound.any_policy_milli), 3),
        },
    }
    typer.echo(json.dumps(summary, indent=2))


@app.command("openb-variant")
def openb_variant(
    nodes: Annotated[Path, typer.Option("--nodes", exists=True, dir_okay=False, help="Node list CSV.")],
    pods: Annotated[Path, typer.Option("--pods", exists=True, dir_okay=False, help="Pod list CSV.")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of: {', '.join(VARIANT_KINDS)}.")],
    percent: Annotated[float, typer.Option("--percent", min=0, max=100, help="Share of GPU pods.")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="Where to write the pod list.")],
    seed: Annotated[int, typer.Option("--seed", help="Resampling seed.")] = 0,
) -> None:
    """Write a synthetic OpenB variant: more sharing, multi-GPU or model-constrained pods."""
    if kind not in VARIANT_KINDS:
        raise typer.BadParameter(f"unknown kind {kind!r}; choose one of {', '.join(VARIANT_KINDS)}")
    variant_kind: VariantKind = "share" if kind == "share" else "multi" if kind == "multi" else "spec"
    variant = synthesise(read_pods(pods), read_nodes(nodes), variant_kind, percent, seed)
    write_pods(out, variant)
    typer.echo(f"{len(variant)} pods written to {out}")
