"""Does a detector's NAB score hold on files its threshold was not tuned on?

NAB picks one threshold per detector by maximising the pooled score of the very files it then
reports, which flatters any detector with choices made while looking at those files. Two held-out
checks guard against that here:

- leave one category out: tune the threshold on every other category, score the held-out one;
- odd/even: tune on the even-numbered files (in sorted order), score the odd ones, and the reverse.

Each result also carries the held-out files' own best score, so the gap between the two shows what
threshold transfer costs. Data flow: `evaluation.run_corpus` -> `score_file_rows` per file ->
`held_out_scores`. Run it with `python -m kubelite.observability.anomaly.robustness --data DIR`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from kubelite.observability.anomaly.evaluation import run_corpus
from kubelite.observability.anomaly.nab_corpus import LabelledFile, load_corpus
from kubelite.observability.anomaly.nab_scoring import (
    PROFILES,
    CostProfile,
    ScoredRows,
    optimise_threshold,
    score_at_threshold,
    score_file_rows,
)
from kubelite.observability.anomaly.registry import DEFAULT_DETECTOR


@dataclass(frozen=True)
class HeldOutScore:
    """The score of held-out files at a threshold tuned elsewhere, and at their own best one."""

    split: str
    files: int
    windows: int
    tuned_elsewhere: float
    own_best: float


def _held_out(
    split: str, tune: Sequence[ScoredRows], test: Sequence[ScoredRows], profile: CostProfile
) -> HeldOutScore:
    threshold = optimise_threshold(tune, profile).threshold
    return HeldOutScore(
        split=split,
        files=len(test),
        windows=sum(rows.window_count for rows in test),
        tuned_elsewhere=score_at_threshold(test, profile, threshold),
        own_best=optimise_threshold(test, profile).normalised_score,
    )


def held_out_scores(
    corpus: Sequence[LabelledFile], scored: Sequence[ScoredRows], profile: CostProfile = PROFILES["standard"]
) -> list[HeldOutScore]:
    """Leave-one-category-out (categories with windows) and odd/even scores, in that order."""
    results: list[HeldOutScore] = []
    for category in sorted({labelled.category for labelled in corpus}):
        inside = [
            rows for labelled, rows in zip(corpus, scored, strict=True) if labelled.category == category
        ]
        if not any(rows.window_count for rows in inside):
            continue
        outside = [
            rows for labelled, rows in zip(corpus, scored, strict=True) if labelled.category != category
        ]
        results.append(_held_out(f"without {category}", outside, inside, profile))
    even, odd = list(scored[0::2]), list(scored[1::2])
    results.append(_held_out("tune even, score odd", even, odd, profile))
    results.append(_held_out("tune odd, score even", odd, even, profile))
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """Print the held-out scores of one detector on a NAB-layout folder as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--data", type=Path, required=True, help="A folder with data/<category>/*.csv and labels/."
    )
    parser.add_argument("--detector", default=DEFAULT_DETECTOR)
    parser.add_argument("--profile", default="standard", choices=sorted(PROFILES))
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args(argv)
    corpus = load_corpus(arguments.data)
    runs = run_corpus(arguments.detector, corpus, workers=arguments.workers)
    scored = [
        score_file_rows(run.scores, labelled.windows) for labelled, run in zip(corpus, runs, strict=True)
    ]
    results = held_out_scores(corpus, scored, PROFILES[arguments.profile])
    print(
        json.dumps(
            {"detector": arguments.detector, "held_out": [asdict(result) for result in results]}, indent=2
        )
    )


if __name__ == "__main__":
    main()
