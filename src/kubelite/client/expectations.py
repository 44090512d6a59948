"""Expectations: stop a controller acting twice before its own writes come back through the watch.

Data flow (client-go's `ControllerExpectations`, used by the ReplicaSet and Job controllers):
a sync decides to create n pods, calls `expect_creations(key, n)` and sends the creates; the
informer's add handler calls `creation_observed(key)` as each pod arrives. Until the count drops
to zero (or the record is older than `ttl`, 5 minutes, in case a watch event was lost),
`satisfied(key)` is False and the sync must not act on its possibly stale cache again. A create
that fails is never going to be observed, so the sync lowers the count itself.

`UIDTrackingExpectations` does the same for deletions by pod uid, so that a delete observed
twice (graceful deletion then removal) is counted once.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.clock import Clock

EXPECTATIONS_TTL_SECONDS = 300.0


@dataclass(slots=True)
class ExpectationRecord:
    """Outstanding creations and deletions of one controller key, and when they were set."""

    adds: int
    deletes: int
    set_at: float

    def fulfilled(self) -> bool:
        return self.adds <= 0 and self.deletes <= 0


class Expectations:
    """Per-key counts of creations and deletions a controller is waiting to observe."""

    def __init__(self, clock: Clock, ttl: float = EXPECTATIONS_TTL_SECONDS) -> None:
        self._clock = clock
        self.ttl = ttl
        self._records: dict[str, ExpectationRecord] = {}

    def get(self, key: str) -> ExpectationRecord | None:
        return self._records.get(key)

    def satisfied(self, key: str) -> bool:
        """True when the controller may sync the key: nothing pending, expired, or never set."""
        record = self._records.get(key)
        if record is None:
            # A controller that never set expectations (for example after a restart) must sync.
            return True
        if record.fulfilled():
            return True
        return self._clock.monotonic() - record.set_at > self.ttl

    def set_expectations(self, key: str, adds: int, deletes: int) -> None:
        self._records[key] = ExpectationRecord(adds, deletes, self._clock.monotonic())

    def expect_creations(self, key: str, adds: int) -> None:
        self.set_expectations(key, adds, 0)

    def expect_deletions(self, key: str, deletes: int) -> None:
        self.set_expectations(key, 0, deletes)

    def creation_observed(self, key: str) -> None:
        self.lower_expectations(key, 1, 0)

    def deletion_observed(self, key: str) -> None:
        self.lower_expectations(key, 0, 1)

    def raise_expectations(self, key: str, adds: int, deletes: int) -> None:
        record = self._records.get(key)
        if record is not None:
            record.adds += adds
            record.deletes += deletes

    def lower_expectations(self, key: str, adds: int, deletes: int) -> None:
        """Count observed (or failed, hence never observed) writes; ignored for unknown keys."""
        record = self._records.get(key)
        if record is not None:
            record.adds -= adds
            record.deletes -= deletes

    def delete_expectations(self, key: str) -> None:
        """Forget the key (the controller object itself was deleted)."""
        self._records.pop(key, None)


class UIDTrackingExpectations(Expectations):
    """Expectations whose deletions are tracked by object uid, so each deletion counts once."""

    def __init__(self, clock: Clock, ttl: float = EXPECTATIONS_TTL_SECONDS) -> None:
        super().__init__(clock, ttl)
        self._pending_deletes: dict[str, set[str]] = {}

    def expect_deletions_of(self, key: str, uids: set[str]) -> None:
        """Expect these objects to be deleted (replaces any earlier deletion set for the key)."""
        self._pending_deletes[key] = set(uids)
        self.set_expectations(key, 0, len(uids))

    def deletion_observed_uid(self, key: str, uid: str) -> None:
        pending = self._pending_deletes.get(key)
        if pending is not None and uid in pending:
            pending.discard(uid)
            self.lower_expectations(key, 0, 1)

    def pending_deletions(self, key: str) -> set[str]:
        return set(self._pending_deletes.get(key, ()))

    def delete_expectations(self, key: str) -> None:
        super().delete_expectations(key)
        self._pending_deletes.pop(key, None)
