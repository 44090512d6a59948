"""Expectations gate syncs until a controller's own writes are observed, or expire."""

from __future__ import annotations

import pytest

from kubelite.client.expectations import Expectations, UIDTrackingExpectations
from kubelite.clock import FakeClock


@pytest.mark.parametrize(
    ("adds", "observed", "elapsed", "satisfied"),
    [
        (3, 0, 0, False),
        (3, 2, 0, False),
        (3, 3, 0, True),
        (3, 4, 0, True),
        (3, 0, 299, False),
        (3, 0, 301, True),
    ],
    ids=["none-observed", "some-observed", "all-observed", "extra-observed", "before-ttl", "after-ttl"],
)
def test_creations(adds: int, observed: int, elapsed: float, satisfied: bool) -> None:
    clock = FakeClock()
    expectations = Expectations(clock)
    expectations.expect_creations("ns/rs", adds)
    for _ in range(observed):
        expectations.creation_observed("ns/rs")
    clock.advance(elapsed)
    assert expectations.satisfied("ns/rs") is satisfied


def test_unknown_key_is_satisfied_and_observations_for_it_are_ignored() -> None:
    expectations = Expectations(FakeClock())
    expectations.creation_observed("ns/x")
    assert expectations.satisfied("ns/x")
    assert expectations.get("ns/x") is None


def test_failed_creations_lower_the_count() -> None:
    expectations = Expectations(FakeClock())
    expectations.expect_creations("k", 5)
    expectations.lower_expectations("k", 3, 0)  # three creates failed: they will never be observed
    expectations.creation_observed("k")
    assert not expectations.satisfied("k")
    expectations.creation_observed("k")
    assert expectations.satisfied("k")


def test_uid_tracking_counts_each_deleted_pod_once() -> None:
    expectations = UIDTrackingExpectations(FakeClock())
    expectations.expect_deletions_of("k", {"u1", "u2"})
    expectations.deletion_observed_uid("k", "u1")
    expectations.deletion_observed_uid("k", "u1")  # graceful delete, then removal
    expectations.deletion_observed_uid("k", "other")
    assert not expectations.satisfied("k")
    assert expectations.pending_deletions("k") == {"u2"}
    expectations.deletion_observed_uid("k", "u2")
    assert expectations.satisfied("k")
    expectations.delete_expectations("k")
    assert expectations.pending_deletions("k") == set()
