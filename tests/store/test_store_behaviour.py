"""Create/get/update/delete, conditional writes and lists, against every backend."""

from __future__ import annotations

from typing import Literal

import pytest
from store_helpers import Backend, run

from kubelite.store import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RevisionConflictError,
    Store,
    StoreError,
)

POD_A = "/registry/pods/default/a"
MISSING = "/registry/pods/default/missing"

WriteKind = Literal["create", "update", "delete"]


async def _write(store: Store, kind: WriteKind, key: str, value: bytes, expected: int | None) -> KeyValue:
    if kind == "create":
        return await store.create(key, value)
    if kind == "update":
        return await store.update(key, value, expected_revision=expected)
    return await store.delete(key, expected_revision=expected)


def test_revisions_through_a_key_lifecycle(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.open()
        assert store.revision == 0
        assert await store.get(POD_A) is None
        created = await store.create(POD_A, b"v1")
        assert created == KeyValue(POD_A, b"v1", create_revision=1, mod_revision=1)
        assert await store.get(POD_A) == created
        updated = await store.update(POD_A, b"v2", expected_revision=1)
        assert updated == KeyValue(POD_A, b"v2", create_revision=1, mod_revision=2)
        deleted = await store.delete(POD_A)
        assert deleted == KeyValue(POD_A, b"v2", create_revision=1, mod_revision=3)
        assert await store.get(POD_A) is None
        recreated = await store.create(POD_A, b"v3")
        assert recreated == KeyValue(POD_A, b"v3", create_revision=4, mod_revision=4)
        assert store.revision == 4
        await store.close()

    run(scenario())


# The store holds POD_A created at revision 1 and updated at revision 2 (value b"v2").
CONDITIONAL_WRITES = [
    pytest.param("create", POD_A, None, KeyExistsError, None, id="create-existing"),
    pytest.param("create", MISSING, None, None, (3, 3, b"new"), id="create-absent"),
    pytest.param("update", POD_A, 2, None, (3, 1, b"new"), id="update-expected-current"),
    pytest.param("update", POD_A, 1, RevisionConflictError, None, id="update-stale"),
    pytest.param("update", POD_A, None, None, (3, 1, b"new"), id="update-unconditional"),
    pytest.param("update", MISSING, None, KeyNotFoundError, None, id="update-absent"),
    pytest.param("update", MISSING, 2, KeyNotFoundError, None, id="update-absent-conditional"),
    pytest.param("delete", POD_A, 2, None, (3, 1, b"v2"), id="delete-expected-current"),
    pytest.param("delete", POD_A, 1, RevisionConflictError, None, id="delete-stale"),
    pytest.param("delete", POD_A, None, None, (3, 1, b"v2"), id="delete-unconditional"),
    pytest.param("delete", MISSING, None, KeyNotFoundError, None, id="delete-absent"),
]


@pytest.mark.parametrize(("kind", "key", "expected", "error", "result"), CONDITIONAL_WRITES)
def test_conditional_writes(
    backend: Backend,
    kind: WriteKind,
    key: str,
    expected: int | None,
    error: type[StoreError] | None,
    result: tuple[int, int, bytes] | None,
) -> None:
    async def scenario() -> None:
        store = backend.open()
        await store.create(POD_A, b"v1")
        await store.update(POD_A, b"v2")
        if error is not None:
            with pytest.raises(error) as raised:
                await _write(store, kind, key, b"new", expected)
            if isinstance(raised.value, RevisionConflictError):
                assert (raised.value.expected, raised.value.actual) == (expected, 2)
            assert store.revision == 2, "a failed write must not consume a revision"
            assert await store.get(POD_A) == KeyValue(POD_A, b"v2", 1, 2)
        else:
            assert result is not None
            mod_revision, create_revision, value = result
            written = await _write(store, kind, key, b"new", expected)
            assert written == KeyValue(key, value, create_revision=create_revision, mod_revision=mod_revision)
            assert store.revision == 3
        await store.close()

    run(scenario())


SEEDED_KEYS = [
    "/registry/pods/default/a",
    "/registry/pods/default/b",
    "/registry/pods/default/c",
    "/registry/pods/kube-system/d",
    "/registry/podsecuritypolicies/x",
    "/registry/deployments.apps/default/web",
]

LISTS = [
    pytest.param("/registry/pods/", 0, None, ["a", "b", "c", "d"], False, id="prefix-stops-at-slash"),
    pytest.param("/registry/pods/default/", 0, None, ["a", "b", "c"], False, id="namespace"),
    pytest.param("/registry/pods/", 2, None, ["a", "b"], True, id="limit-leaves-more"),
    pytest.param("/registry/pods/default/", 3, None, ["a", "b", "c"], False, id="limit-exact-no-more"),
    pytest.param("/registry/pods/", 0, "/registry/pods/default/b", ["b", "c", "d"], False, id="start-key"),
    pytest.param("/registry/pods/", 1, "/registry/pods/default/b", ["b"], True, id="start-key-and-limit"),
    pytest.param("/registry/pods/", 0, "/registry/pods/default/bb", ["c", "d"], False, id="start-between"),
    pytest.param("/registry/pods/", 0, "/registry/a", ["a", "b", "c", "d"], False, id="start-before-prefix"),
    pytest.param("/registry/", 0, None, ["web", "a", "b", "c", "d", "x"], False, id="everything-in-order"),
    pytest.param("/registry/nodes/", 5, None, [], False, id="empty-range"),
]


@pytest.mark.parametrize(("prefix", "limit", "start_key", "names", "more"), LISTS)
def test_list(
    backend: Backend, prefix: str, limit: int, start_key: str | None, names: list[str], more: bool
) -> None:
    async def scenario() -> None:
        store = backend.open()
        for key in SEEDED_KEYS:
            await store.create(key, key.encode())
        page = await store.list(prefix, limit=limit, start_key=start_key)
        assert [item.key.rsplit("/", 1)[1] for item in page.items] == names
        assert all(item.value == item.key.encode() for item in page.items)
        assert page.more is more
        assert page.revision == len(SEEDED_KEYS)
        await store.close()

    run(scenario())


# Revisions 1-3 create a, b, c; 4 updates a; 5 deletes b; 6 creates e; 7 updates c.
LISTS_AT_REVISION = [
    pytest.param(3, 0, None, [("a", 1), ("b", 2), ("c", 3)], False, id="before-changes"),
    pytest.param(4, 0, None, [("a", 4), ("b", 2), ("c", 3)], False, id="after-update"),
    pytest.param(5, 0, None, [("a", 4), ("c", 3)], False, id="after-delete"),
    pytest.param(6, 0, None, [("a", 4), ("c", 3), ("e", 6)], False, id="after-recreate"),
    pytest.param(1, 0, None, [("a", 1)], False, id="first-revision"),
    pytest.param(3, 2, None, [("a", 1), ("b", 2)], True, id="paged"),
    pytest.param(3, 2, "/registry/pods/default/c", [("c", 3)], False, id="second-page"),
    pytest.param(0, 0, None, [("a", 4), ("c", 7), ("e", 6)], False, id="current"),
    pytest.param(99, 0, None, [("a", 4), ("c", 7), ("e", 6)], False, id="future-reads-current"),
]


@pytest.mark.parametrize(("revision", "limit", "start_key", "expected", "more"), LISTS_AT_REVISION)
def test_list_at_revision(
    backend: Backend,
    revision: int,
    limit: int,
    start_key: str | None,
    expected: list[tuple[str, int]],
    more: bool,
) -> None:
    async def scenario() -> None:
        store = backend.open()
        for name in "abc":
            await store.create(f"/registry/pods/default/{name}", name.encode())
        await store.update("/registry/pods/default/a", b"a2")
        await store.delete("/registry/pods/default/b")
        await store.create("/registry/pods/default/e", b"e")
        await store.update("/registry/pods/default/c", b"c2")
        await store.create("/registry/pods/other/z", b"outside the listed prefix")
        page = await store.list(
            "/registry/pods/default/", limit=limit, start_key=start_key, revision=revision
        )
        assert [(item.key.rsplit("/", 1)[1], item.mod_revision) for item in page.items] == expected
        assert page.more is more
        assert page.revision == (revision if 0 < revision <= store.revision else store.revision)
        await store.close()

    run(scenario())


@pytest.mark.parametrize(
    ("compact_at", "read_at", "compacted"),
    [
        pytest.param(4, 3, True, id="below-compaction"),
        pytest.param(4, 4, False, id="at-compaction-is-kept"),
        pytest.param(4, 5, False, id="above-compaction"),
        pytest.param(99, 5, True, id="compaction-is-clamped-to-current"),
    ],
)
def test_list_after_compaction(backend: Backend, compact_at: int, read_at: int, compacted: bool) -> None:
    async def scenario() -> None:
        store = backend.open()
        await store.create("/registry/pods/default/a", b"1")  # 1
        await store.create("/registry/pods/default/b", b"2")  # 2
        await store.update("/registry/pods/default/a", b"3")  # 3
        await store.delete("/registry/pods/default/b")  # 4
        await store.update("/registry/pods/default/a", b"5")  # 5
        await store.create("/registry/pods/default/c", b"6")  # 6
        await store.compact(compact_at)
        assert store.compacted_revision == min(compact_at, 6)
        if compacted:
            with pytest.raises(CompactedError) as raised:
                await store.list("/registry/pods/", revision=read_at)
            assert raised.value.compacted == store.compacted_revision
        else:
            page = await store.list("/registry/pods/", revision=read_at)
            expected = {4: [("a", 3)], 5: [("a", 5)]}[read_at]
            assert [(item.key.rsplit("/", 1)[1], item.mod_revision) for item in page.items] == expected
        current = await store.list("/registry/pods/")
        assert [item.value for item in current.items] == [b"5", b"6"], "current values survive compaction"
        await store.close()

    run(scenario())


def test_large_values_round_trip(backend: Backend) -> None:
    big = bytes(range(256)) * 6144  # 1.5 MiB, the largest object the API server accepts
    key = "/registry/configmaps/default/big"

    async def scenario() -> None:
        store = backend.open()
        await store.create(key, big)
        assert (await store.get(key)) == KeyValue(key, big, 1, 1)
        assert (await store.list("/registry/configmaps/")).items[0].value == big
        await store.close()

    run(scenario())
