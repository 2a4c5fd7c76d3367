"""The search index is refreshed in a child process only when it is behind the articles, and
then only for what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import search_refresh
from tests.transforms.test_dedup import STRIKE, STRIKE_FOLLOW_UP
from tests.warehouse.test_dedup import T0, load_stories
from tests.warehouse.test_dedup import _page as story_page
from transforms.frames import article_frames, fetches_frame
from warehouse import load
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


def test_the_child_indexes_only_the_new_article(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    _warehouse(db, [STRIKE, STRIKE_FOLLOW_UP])
    assert search_refresh.refresh_in_child(str(db)) is None
    con = connect(db)
    try:
        page = story_page(2, "Ferries resume after the strike ends", 1, 1)
        load.load_pages(con, "r", fetches_frame([page.fetch]), article_frames([page], T0))
    finally:
        con.close()
    assert _status(db) == "stale"
    assert search_refresh.refresh_in_child(str(db)) is None
    assert _status(db) == "fresh"
    con = connect(db, read_only=True)
    try:
        assert con.execute(
            "select indexed, dropped, full_rebuild, documents from search_index_state"
        ).fetchone() == (1, 0, False, 3)
    finally:
        con.close()
