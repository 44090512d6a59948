"""Flatline records: a run of identical values that outlasts every earlier one is reported once."""

from __future__ import annotations

import pytest

from kubelite.observability.anomaly.flatline import FlatlineRecordOverride


class Silent:
    """An inner detector that never scores."""

    def update(self, timestamp: float, value: float) -> float:
        return 0.0


def _scores(values: list[float], min_record: int = 3) -> list[float]:
    override = FlatlineRecordOverride(Silent(), min_record=min_record)
    return [override.update(float(index), value) for index, value in enumerate(values)]


BUSY = [1.0, 2.0, 3.0, 2.0]


@pytest.mark.parametrize(
    ("values", "expected_reports"),
    [
        # A 4-point flat run sets the record (3 repeats); a longer one breaks it at its 4th repeat.
        (BUSY + [5.0] * 4 + BUSY + [5.0] * 7 + BUSY, [4 + 4 + 4 + 4]),
        # A run as long as the record is not a new record.
        (BUSY + [5.0] * 4 + BUSY + [5.0] * 4 + BUSY, []),
        # Continuous values never repeat, so there is no record to break.
        ([float(index) for index in range(40)], []),
        # A record shorter than min_record does not count.
        (BUSY + [5.0] * 2 + BUSY + [5.0] * 3 + BUSY, []),
    ],
    ids=["longer-run-reported-once", "equal-run", "never-flat", "record-too-short"],
)
def test_records_of_flatness(values: list[float], expected_reports: list[int]) -> None:
    scores = _scores(values)
    assert [index for index, score in enumerate(scores) if score == 1.0] == expected_reports
