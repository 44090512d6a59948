"""Running a detector over a NAB-layout corpus and scoring it for every profile.

Data flow: `load_corpus` -> one fresh detector per file, fed row by row (`run_detector`, timed in
CPU seconds of one core) -> `score_file_rows` per file -> `optimise_threshold` per profile over the
pooled files -> `CorpusReport`. Files may be spread over worker processes; the reported cost is the sum of the
per-file single-core times divided by the number of points, so it does not depend on the workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from kubelite.observability.anomaly.detector import Detector
from kubelite.observability.anomaly.nab_corpus import LabelledFile, Series
from kubelite.observability.anomaly.nab_scoring import (
    PROFILES,
    CorpusScore,
    ScoredRows,
    optimise_threshold,
    score_at_threshold,
    score_file_rows,
)
from kubelite.observability.anomaly.registry import make_detector


def run_detector(detector: Detector, series: Series) -> list[float]:
    """Feed a series to a detector point by point and collect its scores."""
    update = detector.update
    return [update(stamp, value) for stamp, value in zip(series.timestamps, series.values, strict=True)]


@dataclass(frozen=True)
class FileRun:
    """One detector's scores for one file, and the single-core CPU time they took."""

    relative_path: str
    scores: list[float]
    seconds: float


def _run_file(detector_name: str, labelled: LabelledFile) -> FileRun:
    detector = make_detector(detector_name)
    # CPU time of this (single-threaded) process: the single-core cost, whatever else the machine runs.
    started = time.process_time()
    scores = run_detector(detector, labelled.series)
    return FileRun(labelled.relative_path, scores, time.process_time() - started)


@dataclass(frozen=True)
class CorpusReport:
    """A detector's NAB scores: pooled per profile, and per category at the pooled threshold."""

    detector: str
    files: int
    points: int
    windows: int
    microseconds_per_point: float
    profiles: dict[str, CorpusScore]
    categories: dict[str, dict[str, float]] = field(default_factory=dict)


def score_runs(detector_name: str, corpus: Sequence[LabelledFile], runs: Sequence[FileRun]) -> CorpusReport:
    """Score the runs of one detector over a corpus (runs in the same order as the corpus)."""
    scored: list[ScoredRows] = [
        score_file_rows(run.scores, labelled.windows) for labelled, run in zip(corpus, runs, strict=True)
    ]
    profiles = {name: optimise_threshold(scored, profile) for name, profile in PROFILES.items()}
    categories: dict[str, dict[str, float]] = {}
    for category in sorted({labelled.category for labelled in corpus}):
        members = [
            rows for labelled, rows in zip(corpus, scored, strict=True) if labelled.category == category
        ]
        if not any(rows.window_count for rows in members):
            # A normalised score needs windows to normalise against; window-free files still count
            # in the pooled score through their false positives.
            continue
        categories[category] = {
            name: score_at_threshold(members, PROFILES[name], profiles[name].threshold) for name in profiles
        }
    points = sum(len(run.scores) for run in runs)
    seconds = sum(run.seconds for run in runs)
    return CorpusReport(
        detector=detector_name,
        files=len(corpus),
        points=points,
        windows=sum(rows.window_count for rows in scored),
        microseconds_per_point=1e6 * seconds / max(points, 1),
        profiles=profiles,
        categories=categories,
    )


def run_corpus(
    detector_name: str,
    corpus: Sequence[LabelledFile],
    workers: int = 1,
    progress: Callable[[FileRun], None] | None = None,
) -> list[FileRun]:
    """Run a fresh detector over every file, largest files first so workers finish together."""
    order = sorted(range(len(corpus)), key=lambda index: -len(corpus[index].series.values))
    results: dict[int, FileRun] = {}
    if workers <= 1:
        for index in order:
            results[index] = _run_file(detector_name, corpus[index])
            if progress is not None:
                progress(results[index])
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {index: pool.submit(_run_file, detector_name, corpus[index]) for index in order}
            for index in order:
                results[index] = futures[index].result()
                if progress is not None:
                    progress(results[index])
    return [results[index] for index in range(len(corpus))]
