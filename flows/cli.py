"""The ``newsdesk`` command. Output for people by default (rich tables), for programs with
``--format csv|json``. Exit codes: 0 the command did its job (single feeds or pages failing are
data, shown in the summary), 1 a problem the user can fix (the message says how), 2 bad usage.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
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
    err_console,
    fail,
    print_rows,
    progress_bars,
    read_only,
)

# Prefect reads its settings at import: set offline-friendly defaults before anything imports it.
# The ephemeral API needs 16-24 s to start on small machines, beyond Prefect's 20 s default.
for _name, _value in {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_name, _value)

app = typer.Typer(
    help="newsdesk: news feeds to clean article text in a DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class SqlFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def _run_ingest(db: Path, **params: Any) -> dict[str, Any]:
    from flows.ingest import ingest
    from flows.settings import Settings
    from flows.sources import SourcesError
    from warehouse.db import WarehouseError

    settings = Settings()
    _preflight(db, params.get("sources"))
    from flows.runners import build_task_runner

    runner_name = params.pop("task_runner", None) or settings.task_runner
    task_runner: Any = build_task_runner(
        runner_name, settings.concurrency, settings.dask_address, settings.dask_workers
    )
    runner = ingest.with_options(task_runner=task_runner)
    with progress_bars():
        try:
            summary: dict[str, Any] = runner(db=str(db), **params)
        except (SourcesError, WarehouseError) as exc:
            raise fail(str(exc)) from exc
    return summary


def _preflight(db: Path, sources_file: str | None) -> None:
    """Fail fast, before Prefect starts, on the user errors we can see from here."""
    from flows.sources import SourcesError, load_sources
    from warehouse.db import WarehouseError, connect
    from warehouse.migrate import migrate

    if sources_file is not None:
        try:
            load_sources(Path(sources_file))
        except SourcesError as exc:
            raise fail(str(exc)) from exc
    from flows.settings import Settings

    try:
        con = connect(db, wait_seconds=30, data_path=Settings().ducklake_data_path)
        try:
            migrate(con)
        finally:
            con.close()
    except WarehouseError as exc:
        raise fail(f"{exc}") from exc


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title=f"run {summary.get('run_id', '?')}", show_header=False)
    from flows.reporting import COUNT_LABELS

    for key, label in COUNT_LABELS.items():
        table.add_row(label, str(summary.get(key, 0)))
    console.print(table)


AllowPrivateOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-private",
        help="CIDR the SSRF guard lets through (repeatable), e.g. 127.0.0.1/32 for a local site.",
    ),
]


@app.command()
def ingest(
    db: DbOption = DEFAULT_DB,
    sources: Annotated[
        Path, typer.Option("--sources", envvar="NEWSDESK_SOURCES", help="Sources TOML file.")
    ] = Path("deploy/sources.toml"),
    feed: Annotated[
        list[str] | None, typer.Option("--feed", help="Ad-hoc feed URL (repeatable); no file.")
    ] = None,
    all_feeds: Annotated[
        bool, typer.Option("--all", help="Fetch every feed now, not only those that are due.")
    ] = False,
    allow_private: AllowPrivateOption = None,
    task_runner: Annotated[
        str | None,
        typer.Option(
            "--task-runner",
            help="threads (default), processes (all cores) or dask (NEWSDESK_DASK_ADDRESS, "
            "else a local cluster).",
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Fetch the due feeds, their new article pages, and load clean articles into the warehouse."""
    params: dict[str, Any] = {"feeds": list(feed)} if feed else {"sources": str(sources)}
    params["all_feeds"] = all_feeds
    if task_runner:
        if task_runner not in ("threads", "processes", "dask"):
            raise typer.BadParameter("--task-runner must be threads, processes or dask")
        params["task_runner"] = task_runner
    if allow_private:
        params["overrides"] = {"allow_private": list(allow_private)}
    summary = _run_ingest(db, **params)
    if output is OutputFormat.json:
        console.print_json(json.dumps(summary))
    else:
        _print_summary(summary)


@app.command()
def demo(
    db: DbOption = DEFAULT_DB,
    port: Annotated[int, typer.Option(help="Loopback port of the sample site.")] = 8642,
) -> None:
    """Serve the bundled sample news site on 127.0.0.1 and ingest it into the warehouse.

    The first run loads edition 1; later runs serve edition 2, in which one article was edited.
    """
    import duckdb

    from flows.demo import DemoServer, demo_publishers
    from warehouse.db import WarehouseError, connect

    edition = 1
    if db.exists() or str(db).startswith("ducklake:"):
        try:
            con = connect(db, read_only=True, wait_seconds=30)
            try:
                done = con.execute(
                    "select count(*) from runs where flow = 'ingest' and status = 'completed'"
                ).fetchone()
                edition = 2 if done and done[0] else 1
            finally:
                con.close()
        # An unreadable file, or one without a runs table yet: ingest reports what is wrong.
        except (WarehouseError, duckdb.Error) as exc:
            err_console.print(f"[yellow]note:[/] could not read past runs ({exc}); edition 1")
    try:
        server = DemoServer(port=port, edition=edition)
    except OSError as exc:
        raise fail(
            f"cannot serve the demo site on 127.0.0.1:{port} ({exc}); free the port or pass --port"
        ) from exc
    with server:
        console.print(f"serving the sample site (edition {edition}) at {server.base_url}/")
        publishers = [p.model_dump() for p in demo_publishers(server.base_url)]
        # The sample site is on loopback, which the SSRF guard refuses unless allowed, and it
        # is ours: no need to wait between requests to it.
        overrides = {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0}
        summary = _run_ingest(db, publishers=publishers, all_feeds=True, overrides=overrides)
    _print_summary(summary)
    console.print(f"\nwarehouse: {db}\n")
    _query_and_print(
        db,
        "select p.name as publisher, count(*) as articles, max(a.version) as max_version, "
        "min(a.published_at) as first_published, max(a.published_at) as last_published "
        "from articles a join publishers p using (publisher_id) group by all order by 1",
        OutputFormat.table,
    )
    console.print(
        '\ntry: newsdesk sql "select title, published_at from articles '
        'order by published_at desc limit 5"'
    )


class ExtractFormat(StrEnum):
    text = "text"
    json = "json"


def _extract_one(data: bytes, url: str | None) -> dict[str, Any]:
    from transforms.extract import extract_article
    from transforms.records import Dropped, article_to_dict

    result = extract_article(data, url)
    if isinstance(result, Dropped):
        return {"dropped": result.reason.value, "detail": result.detail}
    return article_to_dict(result)


@app.command()
def extract(
    file: Annotated[
        Path | None, typer.Argument(help="An HTML file ('-' for standard input).")
    ] = None,
    url: Annotated[str | None, typer.Option(help="The page's URL (resolves links).")] = None,
    output: Annotated[ExtractFormat, typer.Option("--format")] = ExtractFormat.text,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help='Read JSON lines {"id", "path", "url"} from stdin; write one JSON line each.',
        ),
    ] = False,
) -> None:
    """Extract clean text and metadata from saved pages, with the code the flows use."""
    if batch:
        _extract_batch()
        return
    if file is None:
        raise typer.BadParameter("give a FILE (or --batch)")
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc}") from exc
    record = _extract_one(data, url)
    if output is ExtractFormat.json:
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif "dropped" in record:
        err_console.print(f"no article: {record['dropped']} ({record['detail']})")
    else:
        sys.stdout.write((record["title"] or "") + "\n\n" + record["text"] + "\n")


def _extract_batch() -> None:
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            job = json.loads(line)
            record: dict[str, Any] = {"id": job.get("id")}
            record |= _extract_one(Path(job["path"]).read_bytes(), job.get("url"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            record = {"id": None, "error": f"line {number}: not a job object ({exc})"}
        except OSError as exc:
            record = {"id": job.get("id"), "error": f"cannot read {job.get('path')}: {exc}"}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()


@app.command()
def reextract(
    db: DbOption = DEFAULT_DB,
    since: Annotated[
        datetime | None, typer.Option(help="Only articles first seen on or after this date.")
    ] = None,
    publisher: Annotated[str | None, typer.Option(help="Only this publisher's articles.")] = None,
) -> None:
    """Run the current extractor again on stored pages, without fetching.

    Changed text becomes a new version; the extractor version is recorded on each article.
    """
    from flows.reextract import reextract as reextract_flow
    from warehouse.db import WarehouseError, connect

    if not db.exists() and not str(db).startswith("ducklake:"):
        raise fail(f"no warehouse at {db}")
    try:
        connect(db, wait_seconds=30).close()
    except WarehouseError as exc:
        raise fail(str(exc)) from exc
    since_utc = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    with progress_bars():
        summary = reextract_flow(db=str(db), since=since_utc, publisher=publisher)
    table = Table(title=f"re-extraction {summary['run_id']}", show_header=False)
    for key in ("pages", "articles_updated", "articles_unchanged", "articles_dropped"):
        table.add_row(key.replace("_", " "), str(summary[key]))
    console.print(table)


@app.command()
def dedup(
    file: Annotated[
        Path, typer.Argument(help='JSON lines {"id", "text"[, "url", "published_at"]}.')
    ],
) -> None:
    """Cluster texts into stories with the near-duplicate code the ingest flow uses.

    Writes one JSON line per input: {"id", "cluster_id", "similarity"}.
    """
    from transforms.dedup import Doc, cluster_documents
    from transforms.metadata import parse_datetime

    docs: list[Doc] = []
    seen: set[str] = set()
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            doc_id = str(item["id"])
            text = item["text"]
            if not isinstance(text, str):
                raise TypeError("text must be a string")
        except (ValueError, KeyError, TypeError) as exc:
            raise fail(f'{file}:{number}: expected {{"id", "text"}} ({exc})') from exc
        if doc_id in seen:
            raise fail(f"{file}:{number}: id {doc_id!r} appears twice")
        seen.add(doc_id)
        docs.append(Doc(doc_id, text, parse_datetime(item.get("published_at"))))
    for result in cluster_documents(docs):
        record = {
            "id": result.doc_id,
            "cluster_id": result.cluster_id,
            "similarity": result.similarity,
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


@app.command()
def discover(
    url: Annotated[str, typer.Argument(help="The publisher's homepage, or any page of the site.")],
    allow_private: AllowPrivateOption = None,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Find a site's feeds and news sitemaps, and say which are worth keeping and why.

    Reads the page's feed links, common feed paths and robots.txt sitemaps; fetches each
    candidate once; keeps feeds that parse, have entries on the same site and are fresh.
    Nothing is written (adding the result to the sources file comes with `sources add`).
    """
    from flows.discover import discover as discover_site
    from flows.discover import report_lines
    from flows.settings import Settings

    overrides: dict[str, Any] = {"allow_private": list(allow_private)} if allow_private else {}
    report = discover_site(url, Settings(**overrides), datetime.now(UTC))
    if output is OutputFormat.json:
        records = [
            {
                "url": a.candidate.url,
                "kind": a.kind,
                "found_via": a.candidate.found_via,
                "keep": a.verdict.keep,
                "score": a.verdict.score,
                "reason": a.verdict.reason,
            }
            for a in (*report.feeds, *report.news_sitemaps, *report.dropped)
        ]
        sys.stdout.write(
            json.dumps({"url": url, "error": report.error, "candidates": records}) + "\n"
        )
    else:
        for line in report_lines(report):
            # markup=False: "[link-alternate]" is how a candidate was found, not rich markup.
            console.print(line, highlight=False, soft_wrap=True, markup=False)
    if report.error_class:
        raise typer.Exit(1)


@app.command()
def capture(
    fetch_id: Annotated[int, typer.Argument(help="fetches.fetch_id of the response.")],
    db: DbOption = DEFAULT_DB,
    body: Annotated[bool, typer.Option("--body", help="Print only the body.")] = False,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Print a stored response (status, headers, body) from the WARC captures."""
    from flows.capture_cli import show_capture
    from flows.settings import Settings

    code = show_capture(
        db, fetch_id, body_only=body, output=output.value, captures_dir=Settings().captures_dir
    )
    if code:
        raise typer.Exit(code)


def _query_and_print(
    db: Path, query: str, output: OutputFormat | SqlFormat, out: Path | None = None
) -> None:
    import duckdb

    from warehouse.export import ExportError, write_parquet

    with read_only(db) as con:
        try:
            if output == "parquet":
                if out is None:
                    raise fail("--format parquet writes a file: give --out FILE.parquet")
                written = write_parquet(con, query, out)
                err_console.print(f"wrote {written} rows to {out}")
                return
            cursor = con.execute(query)
            names = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
        except (duckdb.Error, ExportError) as exc:
            raise fail(f"{type(exc).__name__}: {exc}") from exc
    print_rows(names, [list(r) for r in rows], output.value)


@app.command()
def sql(
    query: Annotated[
        str | None, typer.Argument(help="One SQL statement, run read-only; none: a prompt.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    output: Annotated[SqlFormat, typer.Option("--format")] = SqlFormat.table,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --format parquet: the file to write.")
    ] = None,
) -> None:
    """Run a read-only SQL query on the warehouse (waits while an ingest batch holds the file).

    Without a query, reads statements from a prompt (end each with ';', quit with Ctrl-D);
    each statement opens the warehouse anew, so an ingest can write between them.
    """
    if query is not None:
        _query_and_print(db, query, output, out)
        return
    if output is SqlFormat.parquet:
        raise typer.BadParameter("--format parquet needs a query argument")
    _prompt(db, output)


def _prompt(db: Path, output: SqlFormat) -> None:
    interactive = sys.stdin.isatty()
    buffer: list[str] = []
    while True:
        if interactive:
            sys.stderr.write("newsdesk> " if not buffer else "      ...> ")
            sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            break
        buffer.append(line)
        statement = "".join(buffer).strip()
        if not statement.endswith(";"):
            continue
        buffer.clear()
        if statement.rstrip(";").strip():
            try:
                _query_and_print(db, statement, output)
            except typer.Exit:
                if not interactive:
                    raise  # scripted input: stop at the first error, with its exit code
    leftover = "".join(buffer).strip()
    if leftover:
        _query_and_print(db, leftover, output)


@app.command()
def runs(
    db: DbOption = DEFAULT_DB,
    limit: Annotated[int, typer.Option(help="How many recent runs.")] = 10,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Recent runs with their counts."""
    _query_and_print(
        db,
        "select left(run_id, 8) as run, flow, status, "
        "strftime(started_at, '%Y-%m-%d %H:%M:%S') as started_utc, "
        "round(epoch(finished_at - started_at), 1) as secs, feeds_total as feeds, "
        "feeds_not_modified as unchanged, feeds_failed as failed, entries_new as entries, "
        "articles_new as new, articles_updated as edited, "
        "articles_dropped + articles_failed as page_errors "
        f"from runs order by started_at desc limit {int(limit)}",
        output,
    )


from flows.analytics_cli import register as register_analytics_commands  # noqa: E402
from flows.backfill_cli import register as register_backfill_commands  # noqa: E402
from flows.ops_cli import register as register_ops_commands  # noqa: E402
from flows.sources_cli import register as register_sources_commands  # noqa: E402

register_analytics_commands(app)
register_ops_commands(app)
register_sources_commands(app)
register_backfill_commands(app)


def main() -> None:
    _warehouse_from_settings()
    app()


def _warehouse_from_settings() -> None:
    """``NEWSDESK_WAREHOUSE=ducklake`` (with ``NEWSDESK_DUCKLAKE_CATALOG``) makes the lake every
    command's default ``--db``, as ``NEWSDESK_DB=ducklake:<catalog>`` would; an explicit
    ``NEWSDESK_DB`` wins."""
    import os

    from flows.settings import Settings

    if "NEWSDESK_DB" in os.environ:
        return
    settings = Settings()
    if settings.warehouse == "ducklake":
        os.environ["NEWSDESK_DB"] = settings.warehouse_target


if __name__ == "__main__":
    main()
