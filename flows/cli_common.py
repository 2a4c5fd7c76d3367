"""What every ``newsdesk`` command shares: consoles, the ``--db`` option, output formats,
the error exit, read-only warehouse access with waiting, and JSON-ready values.

Kept apart from ``flows/cli.py`` so command modules (``analytics_cli``, ``ops_cli``) can use it
without importing the app.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "DEFAULT_DB",
    "DbOption",
    "OutputFormat",
    "console",
    "err_console",
    "fail",
    "jsonable",
    "note",
    "print_rows",
    "progress_bars",
    "read_only",
    "warehouse_errors",
    "warehouse_exists",
]

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="NEWSDESK_DB", help="The DuckDB warehouse file."),
]
DEFAULT_DB = Path("data/newsdesk.duckdb")


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit (code 1) for the caller to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(1)


def note(message: str) -> None:
    err_console.print(f"[yellow]{message}[/]")


class _RichReporter:
    """flows.progress's reporter as rich bars: one per stage, created as stages appear."""

    def __init__(self, bars: Progress) -> None:
        self._bars = bars
        self._tasks: dict[str, Any] = {}

    def _task(self, stage: str) -> Any:
        if stage not in self._tasks:
            # No total until a stage announces one (a WARC file's record count is unknown).
            self._tasks[stage] = self._bars.add_task(stage, total=None)
        return self._tasks[stage]

    def add_total(self, stage: str, amount: int) -> None:
        task_id = self._task(stage)
        total = self._bars.tasks[task_id].total or 0
        self._bars.update(task_id, total=total + amount)

    def advance(self, stage: str, amount: int = 1) -> None:
        self._bars.advance(self._task(stage), amount)


@contextmanager
def progress_bars(label_width: int = 6, transient: bool = True) -> Iterator[None]:
    """Progress of the flow run inside the block, as rich bars on standard error."""
    from flows import progress

    columns = (
        TextColumn(f"{{task.description:>{label_width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=transient) as bars:
        progress.install(_RichReporter(bars))
        try:
            yield
        finally:
            progress.install(None)


def warehouse_exists(db: Path | str) -> bool:
    """Whether ``db`` names a warehouse there is: a DuckDB file that exists, or any
    ``ducklake:`` target (a lake is created by connecting to it; its catalog server answers
    for the rest)."""
    from warehouse.db import is_lake_target

    return is_lake_target(db) or Path(db).exists()


@contextmanager
def read_only(db: Path, wait: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened read-only, waiting (with a note) while a load holds it."""
    from warehouse.db import WarehouseError, connect

    try:
        con = connect(db, read_only=True, wait_seconds=wait, on_wait=note)
    except WarehouseError as exc:
        raise fail(str(exc)) from exc
    try:
        yield con
    finally:
        con.close()


@contextmanager
def warehouse_errors() -> Iterator[None]:
    """Warehouse and SQL errors as the command's exit 1, with the message."""
    import duckdb

    from warehouse.db import WarehouseError

    try:
        yield
    except WarehouseError as exc:
        raise fail(str(exc)) from exc
    except duckdb.Error as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from exc


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def print_rows(names: list[str], rows: list[list[Any]], output: str) -> None:
    """Rows for people (a rich table) or programs (``csv``, ``json``)."""
    if output == "json":
        records = [{n: jsonable(v) for n, v in zip(names, r, strict=True)} for r in rows]
        sys.stdout.write(json.dumps(records, ensure_ascii=False) + "\n")
    elif output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(names)
        writer.writerows([[jsonable(v) for v in r] for r in rows])
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(*names)
        for r in rows:
            table.add_row(*("" if v is None else str(jsonable(v)) for v in r))
        console.print(table)
