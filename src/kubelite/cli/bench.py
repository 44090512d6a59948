"""`kubelite bench ...`: benchmarks that print JSON."""

from __future__ import annotations

from pathlib import Path

import typer

from .bench_api import bench_api, print_json
from .bench_tls import bench_tls

app = typer.Typer(name="bench", help="Benchmarks that print JSON.", no_args_is_help=True)


@app.command("api")
def api(
    kubeconfig: Path | None = typer.Option(
        None, "--kubeconfig", help="Benchmark this cluster (default: start a local one)."
    ),
    quick: bool = typer.Option(False, "--quick", help="A tenth of the load, for a smoke test."),
    json_output: bool = typer.Option(True, "--json/--no-json", help="Print JSON (the only format)."),
) -> None:
    """API server: GET, create, paced writes, LIST of 10,000 pods, watch fan-out."""
    print_json(bench_api(kubeconfig, quick))


app.command("tls")(bench_tls)
