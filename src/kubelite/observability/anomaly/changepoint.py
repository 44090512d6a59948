"""Bayesian online change-point detection: how surprising is a value to every "since the last change" model?

After Adams & MacKay 2007, "Bayesian Online Changepoint Detection" (arXiv:0710.3742). The series is
modelled as segments of i.i.d. Gaussian values with unknown mean and variance (a Normal-Gamma prior,
so each segment's predictive is a Student-t), separated by change points that arrive at a constant
hazard rate. The detector keeps a posterior over the *run length* (points since the last change)
and, for each run length, the segment's sufficient statistics. Each new value:

1. is scored by its predictive surprise -log p(x_t | x_1..x_{t-1}) under the run-length mixture,
   measured in units of the running range so that it does not depend on the series' scale;
2. updates the run-length posterior (grow every run by one, or start a new one at the change
   probability) and the statistics.

A level or variance shift is surprising to the long runs and then adopted by a new short run, so
the surprise spikes once per shift; `AnomalyLikelihood` (Ahmad et al. 2017) calibrates it per
series, with a one-point short window, since averaging would dilute a one-point spike. The run length is truncated to `max_run_length` hypotheses (the oldest is dropped), which
bounds state and cost: one pass of numpy arithmetic over at most that many floats per point.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

from kubelite.observability.anomaly.likelihood import AnomalyLikelihood
from kubelite.observability.anomaly.streaming import RunningRange

# Adams & MacKay's example hazard: a change every 250 points on average.
DEFAULT_HAZARD = 1.0 / 250.0
DEFAULT_MAX_RUN_LENGTH = 200
# A new segment's prior: its mean is barely known (a pseudo-count of 0.05 points at the current value)
# and its spread is about 5% of the range seen so far (Numenta's spatial tolerance, see `spatial`).
PRIOR_MEAN_PSEUDO_COUNT = 0.05
PRIOR_SHAPE = 1.0
PRIOR_SPREAD_OF_RANGE = 0.05
# Surprise beyond this many nats (either way) adds no information and would swamp the likelihood's
# statistics; the raw score maps [-MAX_SURPRISE, MAX_SURPRISE] onto [0, 1].
MAX_SURPRISE = 30.0


class BayesianChangePoint:
    """Predictive surprise under a truncated run-length posterior, calibrated by the likelihood."""

    NAME = "changepoint"

    def __init__(
        self,
        hazard: float = DEFAULT_HAZARD,
        max_run_length: int = DEFAULT_MAX_RUN_LENGTH,
        use_likelihood: bool = True,
    ) -> None:
        self._log_hazard = math.log(hazard)
        self._log_survival = math.log1p(-hazard)
        self._max_run = max_run_length
        # With one observation per step, the shape grows by 1/2 and the pseudo-count by 1 per run
        # length, so everything that depends only on them is a per-index constant.
        run = np.arange(max_run_length, dtype=np.float64)
        pseudo_count = PRIOR_MEAN_PSEUDO_COUNT + run
        degrees_of_freedom = 2.0 * (PRIOR_SHAPE + run / 2.0)
        self._log_normaliser = (
            gammaln((degrees_of_freedom + 1.0) / 2.0)
            - gammaln(degrees_of_freedom / 2.0)
            - 0.5 * np.log(2.0 * np.pi * (pseudo_count + 1.0) / pseudo_count)
        )
        self._tail_exponent = (degrees_of_freedom + 1.0) / 2.0
        self._spread_gain = pseudo_count / (2.0 * (pseudo_count + 1.0))
        self._mean_gain = 1.0 / (pseudo_count + 1.0)
        self._log_run_probability = np.zeros(0)
        self._mean = np.zeros(0)
        self._scale = np.zeros(0)
        self._range = RunningRange()
        self._likelihood = AnomalyLikelihood(short_window=1) if use_likelihood else None

    @property
    def run_length_hypotheses(self) -> int:
        """How many run lengths the posterior currently tracks (at most `max_run_length`)."""
        return len(self._mean)

    def _prior_scale(self) -> float:
        spread = PRIOR_SPREAD_OF_RANGE * self._range.span
        return PRIOR_SHAPE * spread * spread

    def raw_score(self, value: float) -> float:
        """The predictive surprise of `value` in nats (range-normalised), then learn from it."""
        self._range.observe(value)
        runs = len(self._mean)
        if runs == 0:
            self._log_run_probability = np.zeros(1)
            self._mean = np.array([value])
            self._scale = np.array([self._prior_scale()])
            return 0.0
        deviation = value - self._mean
        squared = deviation * deviation
        log_predictive = (
            self._log_normaliser[:runs]
            - 0.5 * np.log(self._scale)
            - self._tail_exponent[:runs] * np.log1p(self._spread_gain[:runs] * squared / self._scale)
        )
        log_joint = self._log_run_probability + log_predictive
        peak = float(log_joint.max())
        joint = np.exp(log_joint - peak)
        log_evidence = peak + math.log(float(joint.sum()))
        surprise = min(MAX_SURPRISE, max(-MAX_SURPRISE, -log_evidence - math.log(self._range.span)))
        kept = min(runs, self._max_run - 1)
        log_growth = log_joint[:kept] + self._log_survival
        log_change = log_evidence + self._log_hazard
        log_posterior = np.concatenate(([log_change], log_growth)) - log_evidence
        self._log_run_probability = log_posterior - math.log(float(np.exp(log_posterior).sum()))
        self._mean = np.concatenate(([value], (self._mean + deviation * self._mean_gain[:runs])[:kept]))
        self._scale = np.concatenate(
            ([self._prior_scale()], (self._scale + self._spread_gain[:runs] * squared)[:kept])
        )
        return 0.5 + 0.5 * surprise / MAX_SURPRISE

    def update(self, timestamp: float, value: float) -> float:
        raw = self.raw_score(value)
        return raw if self._likelihood is None else self._likelihood.update(raw)
