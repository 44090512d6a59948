"""The `kubelite` command: one Typer application with a sub-command per component.

Each sub-command lives in its own module under `kubelite.cli` and exposes a `typer.Typer` named
`app` (or a plain command function); this module only assembles them.
"""

from __future__ import annotations

import typer

from kubelite.cli.agent import agent
from kubelite.cli.anomaly import app as anomaly_app
from kubelite.cli.anomaly_detector import anomaly_detector
from kubelite.cli.autoscale import app as autoscale_app
from kubelite.cli.bench import app as bench_app
from kubelite.cli.bench_controllers import bench_controllers
from kubelite.cli.bench_pod_startup import bench_pod_startup
from kubelite.cli.controller_manager import controller_manager
from kubelite.cli.image import app as image_app
from kubelite.cli.scheduler import bench_scheduler, scheduler
from kubelite.cli.secrets import app as secrets_app
from kubelite.cli.sim import app as sim_app
from kubelite.cli.token import app as token_app
from kubelite.cli.up import up

app = typer.Typer(
    name="kubelite",
    help="A container orchestrator that speaks the Kubernetes API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Sub-command registration: one line each, in alphabetical order.
app.command("agent")(agent)
app.add_typer(anomaly_app, name="anomaly")
app.command("anomaly-detector")(anomaly_detector)
app.add_typer(autoscale_app, name="autoscale")
app.add_typer(bench_app, name="bench")
bench_app.command("pod-startup")(bench_pod_startup)
bench_app.command("controllers")(bench_controllers)
bench_app.command("scheduler")(bench_scheduler)
app.command("controller-manager")(controller_manager)
app.add_typer(image_app, name="image")
app.command("scheduler")(scheduler)
app.add_typer(secrets_app, name="secrets")
app.add_typer(sim_app, name="sim")
app.add_typer(token_app, name="token")
app.command("up")(up)


def main() -> None:
    """Entry point of the `kubelite` console script."""
    app()


if __name__ == "__main__":
    main()
