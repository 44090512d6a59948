"""Flatline records: a value that has stopped changing for longer than it ever has before.

The spatial rule (`spatial.py`, after Numenta's NAB detector) reports a value beyond every value
seen so far; this is the same rule for *duration*: it reports the point at which the current run of
identical values becomes longer than every earlier run. A metric that stops moving is one of the
commonest operational failures (a stalled job, a hung exporter, a queue that drains to zero and
stays there; Prometheus users alert on it with `changes(metric[window]) == 0`), and context novelty
cannot see it: a long stretch of one value completes no new pattern, it only repeats an old one
for longer.

Only exact repeats count as flat, so the rule needs no tolerance: series whose values vary
continuously almost never repeat, and their longest run stays short. A record is meaningful only
once the series has shown a real flat stretch, so nothing is reported until an earlier run reached
`min_record` points. Each run is reported at most once, when it breaks the record.

State: the previous value, the current run length, the record and a flag.
"""

from __future__ import annotations

from kubelite.observability.anomaly.detector import Detector

# Ten repeats (50 minutes at NAB's 5-minute sampling) is a stretch no continuous series produces by
# chance; 3 scored 0.4 lower on the development subset, 30 the same as 10.
MIN_RECORD_POINTS = 10


class FlatlineRecordOverride:
    """Wraps a detector and reports 1.0 when a run of identical values breaks the longest so far."""

    def __init__(self, inner: Detector, min_record: int = MIN_RECORD_POINTS) -> None:
        self._inner = inner
        self._min_record = min_record
        self._previous: float | None = None
        self._run = 0
        self._record = 0
        self._reported_this_run = False

    def update(self, timestamp: float, value: float) -> float:
        score = self._inner.update(timestamp, value)
        breaks_record = False
        if value == self._previous:
            self._run += 1
            if not self._reported_this_run and self._record >= self._min_record and self._run > self._record:
                breaks_record = True
                self._reported_this_run = True
        else:
            self._record = max(self._record, self._run)
            self._run = 0
            self._reported_this_run = False
        self._previous = value
        return 1.0 if breaks_record else score
