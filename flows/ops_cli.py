"""Operations commands of ``newsdesk``: ``check`` (data checks) and ``serve`` (scheduled runs).

:func:`register` adds them to the main typer app (``flows/cli.py``). This module does not
import ``flows.cli``, so the app can import it at any point.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from flows.cli_common import DEFAULT_DB, DbOption, console, err_console, fail, warehouse_exists

__all__ = ["CHECK_HELP", "SERVE_HELP", "check", "register", "serve"]


class CheckFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


# Paragraphs are single lines: typer keeps line breaks inside a paragraph.
CHECK_HELP = "\n\n".join(
    [
        "Run the data checks (warehouse/checks/*.sql) and print what each found.",
        "Each check returns the rows that offend it: duplicate url_keys, empty texts, dates in "
        "the future, articles without publisher or story cluster, credits and read-more labels "
        "left in text, runs stuck in 'running', … Results are recorded in check_results "
        "(unless --no-record, which opens the warehouse read-only).",
        "Exit code 0 whatever the data holds (failing data is data, shown here); with --strict, "
        "1 when a check of severity 'error' fails or cannot run (warnings never fail it).",
    ]
)

SERVE_HELP = "\n\n".join(
    [
        "Start scheduled runs on this machine, in the background; prints the UI address.",
        "Starts a Prefect server on 127.0.0.1 (its own SQLite database in the state folder, "
        "default prefect/ beside the warehouse), creates the 'process' work pool, deploys "
        "deploy/prefect.yaml (ingest every 15 minutes, reextract on demand, maintenance nightly "
        "with a Parquet export) and starts a worker. PIDs, port and logs stay in the state "
        "folder; 'newsdesk serve --stop' stops the processes by those PIDs. See deploy/README.md.",
    ]
)


def _result_record(result: Any) -> dict[str, Any]:
    return {
        "check": result.name,
        "severity": result.severity,
        "status": result.status,
        "offending": result.offending,
        "title": result.title,
        "description": result.description,
        "error": result.error,
        "sample": result.sample,
    }


def check(
    db: DbOption = DEFAULT_DB,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 when a check of severity error fails or cannot run."),
    ] = False,
    record: Annotated[
        bool,
        typer.Option("--record/--no-record", help="Record the results in check_results."),
    ] = True,
    output: Annotated[CheckFormat, typer.Option("--format")] = CheckFormat.table,
) -> None:
    from datetime import UTC, datetime

    from warehouse.checks import run_checks
    from warehouse.db import WarehouseError, connect
    from warehouse.migrate import migrate

    if not warehouse_exists(db):
        raise fail(f"no warehouse at {db}: run `newsdesk ingest` (or `make demo`) first")
    try:
        con = connect(
            db,
            read_only=not record,
            wait_seconds=60,
            on_wait=lambda m: err_console.print(f"[yellow]{m}[/]"),
        )
    except WarehouseError as exc:
        raise fail(str(exc)) from exc
    try:
        if record:
            migrate(con)
        results = run_checks(con, datetime.now(UTC), record=record)
    except WarehouseError as exc:
        raise fail(str(exc)) from exc
    finally:
        con.close()
    if output is CheckFormat.json:
        sys.stdout.write(json.dumps([_result_record(r) for r in results], ensure_ascii=False))
        sys.stdout.write("\n")
    elif output is CheckFormat.csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(["check", "severity", "status", "offending", "title", "error"])
        for r in results:
            writer.writerow([r.name, r.severity, r.status, r.offending, r.title, r.error])
    else:
        _print_checks(results)
    if strict and any(
        r.status == "error" or (r.status == "fail" and r.severity == "error") for r in results
    ):
        raise typer.Exit(1)


def _print_checks(results: list[Any]) -> None:
    styles = {"pass": "green", "fail": "red", "error": "bold red"}
    table = Table(
        Column("check", no_wrap=True),
        "severity",
        "status",
        Column("offending", justify="right"),
        Column("looks for", ratio=1),
    )
    for r in results:
        status = r.status if r.status == "pass" or r.severity == "error" else "warn"
        style = "yellow" if status == "warn" else styles[r.status]
        table.add_row(r.name, r.severity, f"[{style}]{status}[/]", str(r.offending), r.title)
    console.print(table)
    for r in results:
        if r.status == "error":
            console.print(f"\n[bold red]{r.name}[/] could not run: {r.error}")
        elif r.sample:
            shown = r.sample[:5]
            rows = Table(*r.columns, title=f"{r.name}: first {len(shown)} of {r.offending}")
            for row in shown:
                rows.add_row(*("" if row[c] is None else str(row[c]) for c in r.columns))
            console.print(rows)


def _project_dir() -> Path:
    """The checkout holding deploy/prefect.yaml: the current folder, else this package's."""
    from flows.serve import PREFECT_FILE

    here = Path.cwd()
    if (here / PREFECT_FILE).is_file():
        return here
    return Path(__file__).resolve().parent.parent


def serve(
    db: DbOption = DEFAULT_DB,
    sources: Annotated[
        Path,
        typer.Option(
            "--sources", envvar="NEWSDESK_SOURCES", help="Sources file of the scheduled ingest."
        ),
    ] = Path("deploy/sources.toml"),
    export_dir: Annotated[
        str | None,
        typer.Option(
            "--export-dir",
            help="Where the nightly maintenance exports Parquet ('' for no export). "
            "Default: export/ beside --db.",
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Loopback port of the Prefect server and UI.")] = 4200,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir", help="Prefect database, logs and PIDs. Default: prefect/ beside --db."
        ),
    ] = None,
    stop_: Annotated[
        bool, typer.Option("--stop", help="Stop the server and worker started by serve.")
    ] = False,
) -> None:
    from flows import serve as serving

    folder = state_dir or serving.state_dir_for(db)
    if stop_:
        try:
            stopped = serving.stop(folder)
        except serving.ServeError as exc:
            raise fail(str(exc)) from exc
        console.print(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
        return
    project = _project_dir()
    sources_path = sources if sources.is_file() else project / sources
    if not sources_path.is_file():
        raise fail(f"no sources file at {sources_path}: pass --sources")
    export: Path | None = db.resolve().parent / "export"
    if export_dir is not None:
        export = Path(export_dir) if export_dir else None
    try:
        state = serving.start(
            project=project,
            db=db,
            sources=sources_path,
            export_dir=export,
            port=port,
            state_dir=folder,
            # Background logs at INFO (the CLI itself runs Prefect at WARNING).
            extra_env={"PREFECT_LOGGING_LEVEL": "INFO"},
            echo=lambda m: err_console.print(m),
        )
    except serving.ServeError as exc:
        raise fail(str(exc)) from exc
    console.print(f"\nPrefect UI: [bold]{state.ui_url}[/]")
    console.print(f"API:        {state.api_url}   (export PREFECT_API_URL={state.api_url})")
    console.print(f"logs:       {folder}/server.log, worker.log, deploy.log")
    console.print("deployments: ingest/ingest (every 15 min), reextract/reextract (on demand),")
    console.print("             maintenance/maintenance (02:30 UTC); see deploy/README.md")
    where = f" --state-dir {folder}" if state_dir else (f" --db {db}" if db != DEFAULT_DB else "")
    console.print(f"stop with:  newsdesk serve --stop{where}")


def register(app: typer.Typer) -> None:
    """Add ``check`` and ``serve`` to the ``newsdesk`` app."""
    app.command(name="check", help=CHECK_HELP)(check)
    app.command(name="serve", help=SERVE_HELP)(serve)
