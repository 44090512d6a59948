"""`open_store`: which URL opens which backend, and which URLs are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import run

from kubelite.store import MemoryStore, SQLiteStore, Store, open_store


def _close(store: Store) -> None:
    run(store.close())


@pytest.mark.parametrize(
    ("url", "error"),
    [
        pytest.param("etcd://127.0.0.1:2379", ValueError, id="etcd-not-available"),
        pytest.param("postgres://db/kubelite", ValueError, id="unknown-scheme"),
        pytest.param("store.db", ValueError, id="no-scheme"),
        pytest.param("sqlite://", ValueError, id="sqlite-without-path"),
        pytest.param("sqlite:///", ValueError, id="sqlite-empty-path"),
        pytest.param("memory://somewhere", ValueError, id="memory-with-path"),
    ],
)
def test_refused_urls(url: str, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"memory://|sqlite"):
        open_store(url)


def test_memory_url() -> None:
    store = open_store("memory://")
    assert isinstance(store, MemoryStore)
    _close(store)


def test_relative_and_absolute_sqlite_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    relative = open_store("sqlite:///data/relative.db")
    assert isinstance(relative, SQLiteStore)
    assert Path(relative.path).resolve() == tmp_path / "data" / "relative.db"
    _close(relative)
    absolute_path = tmp_path / "absolute.db"
    absolute = open_store(f"sqlite:///{absolute_path}")
    assert isinstance(absolute, SQLiteStore)
    assert Path(absolute.path) == absolute_path
    assert absolute_path.exists()
    _close(absolute)
