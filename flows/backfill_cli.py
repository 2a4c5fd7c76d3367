"""``newsdesk backfill``: history from sitemaps, the Wayback Machine, Common Crawl or WARC files,
in chunks that survive a crash (run the same command again to resume), and ``--status``."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flows.cli_common import (
    DEFAULT_DB,
    DbOption,
    OutputFormat,
    console,
    fail,
    print_rows,
    progress_bars,
    read_only,
)

__all__ = ["register"]


class Via(StrEnum):
    sitemap = "sitemap"
    wayback = "wayback"
    commoncrawl = "commoncrawl"
    warc = "warc"


class Unit(StrEnum):
    day = "day"
    week = "week"
    month = "month"


def _date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from exc
    return value


def backfill(
    via: Annotated[Via | None, typer.Option("--via", help="Where history comes from.")] = None,
    since: Annotated[
        str | None, typer.Option(help="First day (UTC, inclusive), e.g. 2026-10-01.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Day after the last (exclusive); now.")] = None,
    publisher: Annotated[
        str | None, typer.Option("--publisher", help="A publisher of the sources file.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="A site, sitemap or feed URL (instead of --publisher)."),
    ] = None,
    path: Annotated[
        Path | None, typer.Option("--path", help="A WARC/ARC file or a folder of them.")
    ] = None,
    chunk: Annotated[Unit, typer.Option("--chunk", help="Chunk size of the window.")] = Unit.day,
    status: Annotated[
        bool, typer.Option("--status", help="List backfill jobs and their progress; no run.")
    ] = False,
    db: DbOption = DEFAULT_DB,
    sources: Annotated[
        Path, typer.Option("--sources", envvar="NEWSDESK_SOURCES", help="Sources TOML file.")
    ] = Path("deploy/sources.toml"),
    allow_private: Annotated[
        list[str] | None,
        typer.Option("--allow-private", help="CIDR the SSRF guard lets through (repeatable)."),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Load a publisher's past articles (or WARC files) for a window, chunk by chunk.

    Each chunk (a day, week or month; a file for WARC) commits with its articles, so a killed
    backfill resumes where it stopped when the same command runs again.
    """
    if status:
        _print_status(db, output)
        return
    if via is None:
        raise typer.BadParameter("give --via sitemap|wayback|commoncrawl|warc", param_hint="--via")
    from flows.backfill import BackfillError, check_request

    try:  # before Prefect starts: a wrong option should not cost its start-up
        check_request(via.value, since, until, publisher, url, str(path) if path else None, chunk)
    except BackfillError as exc:
        raise fail(str(exc)) from exc
    params: dict[str, Any] = {
        "via": via.value,
        "since": _date(since, "--since"),
        "until": _date(until, "--until"),
        "publisher": publisher,
        "url": url,
        "path": str(path) if path else None,
        "chunk": chunk.value,
        "sources": str(sources),
    }
    if allow_private:
        params["overrides"] = {"allow_private": list(allow_private)}
    summary = _run(db, params)
    if output is OutputFormat.json:
        console.print_json(json.dumps(summary, default=str))
    else:
        _print_summary(db, summary)
    if summary["status"] == "shared":
        console.print(
            f"{summary['chunks_leased_elsewhere']} chunk(s) are being loaded by other workers "
            "of this job; this run's part is done"
        )
    elif summary["status"] != "completed":
        raise fail(
            f"{summary['chunks_failed']} chunk(s) not finished (see `newsdesk backfill --status`); "
            "run the same command again to resume"
        )


def _run(db: Path, params: dict[str, Any]) -> dict[str, Any]:
    from flows.backfill import BackfillError
    from flows.backfill import backfill as backfill_flow
    from warehouse.db import WarehouseError

    # Kept on screen: the per-chunk bars are the record of what each chunk found.
    with progress_bars(label_width=12, transient=False):
        try:
            summary: dict[str, Any] = backfill_flow(db=str(db), **params)
        except (BackfillError, WarehouseError) as exc:
            raise fail(str(exc)) from exc
    return summary


def _print_summary(db: Path, summary: dict[str, Any]) -> None:
    table = Table(title=f"backfill {summary['job_id']}: {summary['status']}", show_header=False)
    from warehouse.backfill import CHUNK_COUNTS

    for key in ("chunks", "chunks_run", "chunks_failed", *CHUNK_COUNTS):
        table.add_row(key.replace("_", " "), str(summary.get(key, 0)))
    console.print(table)
    for problem in summary.get("problems", []):
        console.print(f"[yellow]note:[/] {problem}")
    with read_only(db) as con:
        rows = con.execute(
            """
            select label as chunk, status, urls_found as urls, pages_fetched as pages,
                   articles_new as new, articles_known as known, articles_dropped as dropped,
                   failures as failed, error
            from backfill_chunks where job_id = ? and run_id = ? order by chunk_index
            """,
            [summary["job_id"], summary["run_id"]],
        )
        names = [d[0] for d in rows.description or []]
        print_rows(names, [list(r) for r in rows.fetchall()], "table")


def _print_status(db: Path, output: OutputFormat) -> None:
    with read_only(db) as con:
        rows = con.execute(
            """
            select j.job_id, j.via, j.target, j.since::date as since, j.until::date as until,
                   j.chunk_unit as chunk, j.status,
                   count(c.chunk_index) filter (where c.status = 'done') || '/' ||
                       count(c.chunk_index) as done,
                   count(c.chunk_index) filter (where c.status = 'failed') as failed,
                   coalesce(sum(c.articles_new), 0) as articles_new,
                   max(c.error) filter (where c.status = 'failed') as last_error,
                   j.updated_at
            from backfill_jobs j left join backfill_chunks c using (job_id)
            group by all order by j.updated_at desc
            """
        )
        names = [d[0] for d in rows.description or []]
        print_rows(names, [list(r) for r in rows.fetchall()], output.value)


def register(app: typer.Typer) -> None:
    app.command(name="backfill")(backfill)
