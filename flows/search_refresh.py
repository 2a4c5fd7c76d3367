"""Refreshing the full-text index in a short-lived process of its own.

A refresh indexes only the articles that changed since the last one, but the first refresh of
a warehouse, a forced one and one after a new tokenizing scheme (``warehouse.search.SCHEME``)
index every article, and the memory that takes is not handed back to the system by the process
that did it: done in the flow's process it would set that process's peak for the rest of its
life. A spawned child does the refresh and exits, taking its memory with it. Same on both
backends: a DuckLake keeps its index in the same tables.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

__all__ = ["refresh_in_child"]

# As long as the flow waits for a reader to let go of the file (flows.ingest).
WAIT_SECONDS = 120.0


def _refresh(db: str) -> str | None:
    """In the child: refresh; the error's message when the index could not be refreshed."""
    from warehouse.db import connect
    from warehouse.search import SearchError, refresh_search_index

    con = connect(db, wait_seconds=WAIT_SECONDS)
    try:
        refresh_search_index(con)
    except SearchError as exc:
        return str(exc)
    finally:
        con.close()
    return None


def _needs_refresh(db: str) -> bool:
    """Whether the stored index is missing or behind the articles (a cheap read): a run that
    changed nothing — every feed answering 304 — starts no child at all."""
    from warehouse.db import connect
    from warehouse.search import index_status

    con = connect(db, read_only=True, wait_seconds=WAIT_SECONDS)
    try:
        return not index_status(con).fresh
    finally:
        con.close()


def refresh_in_child(db: str) -> str | None:
    """Refresh the warehouse's full-text index in a child process when it is behind; None
    when it went well (or there was nothing to do), else why not (it is an index: the loaded
    data never depends on it). When no child can be started here, the refresh runs in this
    process instead."""
    if not _needs_refresh(db):
        return None
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            return pool.submit(_refresh, db).result()
    except (BrokenProcessPool, OSError):
        return _refresh(db)
