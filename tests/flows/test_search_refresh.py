"""The search index is rebuilt in a child process only when it is behind the articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import search_refresh
from tests.transforms.test_dedup import STRIKE, STRIKE_FOLLOW_UP
from tests.warehouse.test_dedup import load_stories
from warehouse.db import connect
from warehouse.search import index_status


def _warehouse(path: Path, texts: list[str]) -> None:
    load_stories(path, [texts]).close()


def _status(path: Path) -> str:
    con = connect(path, read_only=True)
    try:
        return index_status(con).state
    finally:
        con.close()


def test_a_stale_index_is_rebuilt_and_a_fresh_one_starts_no_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    _warehouse(db, [STRIKE, STRIKE_FOLLOW_UP])
    assert _status(db) == "missing"
    assert search_refresh.refresh_in_child(str(db)) is None
    assert _status(db) == "fresh"

    class NoChild:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("a child process was started for a fresh index")

    monkeypatch.setattr(search_refresh, "ProcessPoolExecutor", NoChild)
    assert search_refresh.refresh_in_child(str(db)) is None  # nothing changed: no child
    assert _status(db) == "fresh"
