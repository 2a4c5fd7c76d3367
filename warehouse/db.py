"""Opening the warehouse. DuckDB allows one read-write process per file; readers that find the
file held wait and retry with a message instead of failing at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb

__all__ = ["WarehouseBusy", "WarehouseError", "connect"]


class WarehouseError(Exception):
    """The warehouse could not be opened or is in a state this code refuses to touch."""


class WarehouseBusy(WarehouseError):
    """Another process holds the file read-write for longer than we were willing to wait."""


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def connect(
    path: str | Path,
    *,
    read_only: bool = False,
    wait_seconds: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file at ``path`` (``":memory:"`` for a throwaway database).

    Sessions run in UTC so timestamps print as stored. When another process holds the file,
    retry for up to ``wait_seconds``, calling ``on_wait`` once with a human-readable message.
    """
    target = str(path)
    if target != ":memory:":
        file = Path(target)
        if read_only and not file.exists():
            raise WarehouseError(
                f"no warehouse at {file}: run `newsdesk ingest` (or `make demo`) first, "
                "or point --db / NEWSDESK_DB at an existing file"
            )
        if not read_only:
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehouseError(f"cannot create the folder for {file}: {exc}") from exc
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    told = False
    while True:
        try:
            con = duckdb.connect(target, read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{target} is held by another process (an ingest run loading a batch?) "
                    f"and stayed busy for {wait_seconds:.0f}s; try again, or raise --wait"
                ) from exc
            if on_wait is not None and not told:
                on_wait(f"{target} is busy (another process is writing); waiting…")
                told = True
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from exc
    con.execute("set TimeZone = 'UTC'")
    return con
