"""Analytics commands of ``newsdesk``: ``search``, ``export`` and ``report``.

:func:`register` adds them to the main typer app (``flows/cli.py``). This module does not
import ``flows.cli``, so the app can import it at any point. Every command opens the warehouse
read-only and waits (with a message, up to ``--wait`` seconds) while an ingest batch holds it.
Exit codes as everywhere: 0 done, 1 a problem the message explains (unreadable or busy
warehouse, SQL error, unwritable output), 2 bad usage.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli_common import (
    DEFAULT_DB,
    DbOption,
    console,
    err_console,
    fail,
    jsonable,
    note,
    print_rows,
    read_only,
    warehouse_errors,
)

__all__ = ["SEARCH_HELP", "export", "register", "report", "search"]

WaitOption = Annotated[
    float,
    typer.Option(
        "--wait", min=0, help="Seconds to wait while an ingest batch holds the warehouse."
    ),
]
DEFAULT_WAIT = 60.0


class SearchFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


SEARCH_HELP = """Full-text search over article titles and texts, ranked by BM25.

Words are matched after stemming in each article's language ("ferries" finds "ferry",
"Fähren" finds "Fähre"); prints score, date, publisher, title, a snippet around the first
match and the URL. The stored index is refreshed by ingest runs; while it is behind the
articles table (during a run) the articles it lacks are indexed in memory for the search, so
new articles are found (--stale-ok leaves them out: the stored index as it is).
"""


def search(
    query: Annotated[str, typer.Argument(help="Words to look for (any of them; best first).")],
    since: Annotated[
        datetime | None,
        typer.Option(help="Only articles published (UTC) on or after this date."),
    ] = None,
    publisher: Annotated[
        str | None, typer.Option(help="Only this publisher (name or domain, any case).")
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="Only articles in this language (ISO 639-1, e.g. de).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many hits.")] = 10,
    stale_ok: Annotated[
        bool,
        typer.Option("--stale-ok", help="Use the stored index even when it is behind."),
    ] = False,
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = DEFAULT_WAIT,
    output: Annotated[SearchFormat, typer.Option("--format")] = SearchFormat.table,
) -> None:

    from warehouse.search import SearchError
    from warehouse.search import search as run_search

    with read_only(db, wait) as con, warehouse_errors():
        try:
            hits = run_search(
                con,
                query,
                since=since,
                publisher=publisher,
                language=language,
                limit=limit,
                allow_stale=stale_ok,
                on_note=note,
            )
        except SearchError as exc:
            if "no words" in str(exc):
                raise typer.BadParameter(str(exc), param_hint="QUERY") from exc
            raise fail(str(exc)) from exc
    names = ["score", "date", "publisher", "title", "snippet", "url"]
    if output is SearchFormat.json:
        records = [
            {
                "rank": rank,
                "score": h.score,
                "date": jsonable(h.date),
                "published_at": jsonable(h.published_at),
                "publisher": h.publisher,
                "language": h.language,
                "title": h.title,
                "snippet": h.snippet,
                "url": h.url,
                "article_id": h.article_id,
            }
            for rank, h in enumerate(hits, start=1)
        ]
        sys.stdout.write(json.dumps(records, ensure_ascii=False) + "\n")
        return
    rows = [[h.score, jsonable(h.date), h.publisher, h.title, h.snippet, h.url] for h in hits]
    if output is SearchFormat.csv:
        print_rows(names, rows, "csv")
        return
    if not hits:
        err_console.print(f"no articles match {query!r}")
        return
    table = Table(show_lines=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("publisher")
    table.add_column("title", ratio=2)
    table.add_column("snippet", ratio=3)
    table.add_column("url", overflow="fold", ratio=2)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def export(
    to: Annotated[
        Path, typer.Option("--to", help="Folder to write the Parquet files into (created).")
    ],
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Write the warehouse as Parquet files that other engines read.

    articles, article_versions and fetches are partitioned by UTC day in the hive layout
    (articles/published_date=2026-11-02/data_0.parquet, …); the other tables are one file
    each (publishers.parquet, …); _manifest.json lists tables, paths and row counts. Raw page
    bodies and internal dedup/search tables are left out. Each table replaces its earlier
    export in that folder.
    """

    from warehouse.export import export_warehouse

    with read_only(db, wait) as con, warehouse_errors():
        tables = export_warehouse(con, to)
    table = Table("table", "path", "rows", "partitioned by", title=f"exported to {to}")
    for t in tables:
        table.add_row(t.name, t.path, str(t.rows), t.partitioned_by or "")
    console.print(table)


def report(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Write a one-page HTML report with charts (static, works offline).

    Inline SVG charts, each with its numbers: articles per day per publisher, language mix,
    syndication spread, source health, drop reasons, fetch errors by class and removed-span
    rules. No JavaScript and nothing loaded from the network.
    """

    from flows.report import write_report

    with read_only(db, wait) as con, warehouse_errors():
        try:
            data = write_report(con, out)
        except OSError as exc:
            raise fail(f"cannot write {out}: {exc}") from exc
    console.print(f"wrote {out} ({len(data.charts)} charts)")


def register(app: typer.Typer) -> None:
    """Add ``search``, ``export`` and ``report`` to ``app``."""
    app.command(name="search", help=SEARCH_HELP)(search)
    app.command(name="export")(export)
    app.command(name="report")(report)
