"""`kubelite anomaly`: run the streaming anomaly detectors on CSV files and score them with NAB.

`detect` reads `timestamp,value` rows and writes `timestamp,value,anomaly_score`, one row per input
row in order, each score computed online from the rows before it. `nab` runs a detector over every
file of a NAB-layout folder and prints the normalised score per profile, per category, the chosen
thresholds and the single-core cost per point (as JSON with `--json`).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kubelite.observability.anomaly.evaluation import CorpusReport, run_corpus, run_detector, score_runs
from kubelite.observability.anomaly.nab_corpus import load_corpus, read_series
from kubelite.observability.anomaly.registry import DEFAULT_DETECTOR, DETECTOR_FACTORIES, make_detector

app = typer.Typer(help="Streaming anomaly detection and NAB scoring.", no_args_is_help=True)

DetectorOption = Annotated[
    str, typer.Option("--detector", help=f"One of: {', '.join(sorted(DETECTOR_FACTORIES))}.")
]


def _check_detector(name: str) -> None:
    if name not in DETECTOR_FACTORIES:
        raise typer.BadParameter(f"unknown detector {name!r}; choose from {sorted(DETECTOR_FACTORIES)}")


@app.command()
def detect(
    input_path: Annotated[Path, typer.Option("--input", help="CSV with columns timestamp,value.")],
    output_path: Annotated[Path, typer.Option("--output", help="Where to write the scored CSV.")],
    detector: DetectorOption = DEFAULT_DETECTOR,
) -> None:
    """Score every row of a CSV online and write timestamp,value,anomaly_score."""
    _check_detector(detector)
    texts, series = read_series(input_path)
    scores = run_detector(make_detector(detector), series)
    with output_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score"])
        for text, value, score in zip(texts, series.values, scores, strict=True):
            writer.writerow([text, repr(value), f"{score:.6f}"])


def _report_as_dict(report: CorpusReport) -> dict[str, object]:
    return {
        "detector": report.detector,
        "files": report.files,
        "points": report.points,
        "windows": report.windows,
        "microseconds_per_point": round(report.microseconds_per_point, 3),
        "profiles": {name: asdict(score) for name, score in report.profiles.items()},
        "categories": report.categories,
    }


def _print_report(report: CorpusReport) -> None:
    console = Console()
    title = f"NAB scores of {report.detector!r} ({report.files} files, {report.windows} windows)"
    summary = Table(title=title)
    for column in ("profile", "score", "threshold", "TP windows", "FN windows", "FP rows"):
        summary.add_column(column)
    for name, score in report.profiles.items():
        summary.add_row(
            name,
            f"{score.normalised_score:.2f}",
            f"{score.threshold:.4f}",
            str(score.true_positive_windows),
            str(score.false_negative_windows),
            str(score.false_positive_rows),
        )
    console.print(summary)
    by_category = Table(title="Per category, at the corpus threshold")
    by_category.add_column("category")
    for name in report.profiles:
        by_category.add_column(name)
    for category, scores in report.categories.items():
        by_category.add_row(category, *(f"{scores[name]:.2f}" for name in report.profiles))
    console.print(by_category)
    console.print(f"{report.points} points, {report.microseconds_per_point:.2f} us per point on one core")


@app.command()
def nab(
    data: Annotated[Path, typer.Option("--data", help="A folder with data/<category>/*.csv and labels/.")],
    detector: DetectorOption = DEFAULT_DETECTOR,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    workers: Annotated[int, typer.Option("--workers", help="Processes to spread files over.")] = 0,
) -> None:
    """Score a detector on a NAB-layout folder with NAB's three profiles."""
    _check_detector(detector)
    corpus = load_corpus(data)
    pool_size = workers if workers > 0 else min(2, os.cpu_count() or 1)
    report = score_runs(detector, corpus, run_corpus(detector, corpus, workers=pool_size))
    if as_json:
        typer.echo(json.dumps(_report_as_dict(report), indent=2))
    else:
        _print_report(report)
