"""``newsdesk sources``: the publishers of the sources file, kept in step with the warehouse.

Commands: ``list``, ``show NAME``, ``add URL`` (discovers the site's feeds and news sitemap,
:mod:`flows.discover`), ``disable NAME``, ``enable NAME``, ``remove NAME``. Without a command,
``newsdesk sources [--health]`` prints every feed with its last status, as it always has.

Writes change the file and the warehouse together or not at all: the new file is written beside
the old one, the warehouse change runs in a transaction, the file is swapped in (``os.replace``),
then the transaction commits (and if that fails, the old file is put back). The warehouse keeps
history: disabling or removing a publisher disables its feeds, it never deletes rows.

:func:`register` adds the group to the main app (``flows/cli.py``); this module does not import
``flows.cli``. Heavy modules (HTTP, discovery, DuckDB) are imported by the commands that use
them, so ``newsdesk --help`` stays quick.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.markup import escape
from rich.table import Table

from flows.cli_common import (
    DEFAULT_DB,
    DbOption,
    OutputFormat,
    console,
    fail,
    note,
    print_rows,
    read_only,
    warehouse_errors,
    warehouse_exists,
)

if TYPE_CHECKING:
    import duckdb

    from flows.discover import DiscoveryReport
    from flows.http import HttpResult
    from flows.sources import Publisher, SourcesDocument

__all__ = ["MAX_FEEDS", "register", "sources_app"]

DEFAULT_SOURCES = Path("deploy/sources.toml")
# Feeds recorded per publisher by `add`: the main feed and a few sections cover a site; more
# would poll the same articles again and again.
MAX_FEEDS = 5
DEFAULT_WAIT = 30.0


def _help(*paragraphs: str) -> str:
    # Paragraphs are single lines: typer keeps line breaks inside a paragraph.
    return "\n\n".join(paragraphs)


GROUP_HELP = _help(
    "Publishers and feeds — from the sources file and the warehouse — with their last status.",
    "Without a command: one row per feed (--health: how each is doing). The commands list, "
    "show, add, disable, enable and remove publishers; `newsdesk sources COMMAND --help` "
    "says how. Commands that write change the file and the warehouse together, or neither.",
)
LIST_HELP = _help(
    "Publishers in the sources file: enabled, feeds, news sitemaps, language.",
    "When the warehouse exists, also the last success of any of a publisher's feeds and the "
    "most failures in a row of any of them.",
)
SHOW_HELP = _help(
    "One publisher: every setting, and each feed and news sitemap with its warehouse state.",
    "State: enabled, last status, last success, failures in a row, last error, next check. "
    "Settings left out of the file show the global value they fall back on.",
)
ADD_HELP = _help(
    "Add a publisher from its homepage (or any page of its site): its feeds and news sitemap.",
    "Reads the page's feed links (RSS, Atom, JSON Feed), common feed paths and robots.txt "
    "sitemaps (indexes followed one level); fetches each candidate once; keeps feeds that "
    "parse, have entries on the same site and are fresh, and a Google News sitemap. Prints each "
    "candidate with why it was kept or dropped, then records the best in the sources file and "
    "the warehouse.",
    "Exit 1 with nothing written when the page is missing or not HTML, when nothing usable is "
    "found, or when the name is taken. --dry-run prints the same and writes nothing.",
)
DISABLE_HELP = _help(
    "Stop polling a publisher: enabled = false in the file, its feeds disabled in the warehouse.",
    "Its history (entries, articles, fetches) is kept; `enable` resumes polling.",
)
ENABLE_HELP = "Poll a disabled publisher again: enabled = true in the file and the warehouse."
REMOVE_HELP = _help(
    "Remove a publisher from the sources file, with the comment lines right above it.",
    "In the warehouse its feeds are disabled, not deleted: the articles it brought stay, and "
    "adding it again under the same name picks its history up.",
)

sources_app = typer.Typer(help=GROUP_HELP, no_args_is_help=False)

SourcesOption = Annotated[
    Path, typer.Option("--sources", envvar="NEWSDESK_SOURCES", help="Sources TOML file.")
]
# The commands' own --sources/--db default to the group's (`newsdesk sources --db X list` and
# `newsdesk sources list --db X` mean the same), which read the environment and the defaults.
CommandSourcesOption = Annotated[
    Path | None,
    typer.Option(
        "--sources",
        help="Sources TOML file [default: NEWSDESK_SOURCES or deploy/sources.toml].",
        show_default=False,
    ),
]
CommandDbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="The DuckDB warehouse file [default: NEWSDESK_DB or data/newsdesk.duckdb].",
        show_default=False,
    ),
]
FormatOption = Annotated[OutputFormat | None, typer.Option("--format", show_default=False)]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait", min=0, help="Seconds to wait while another process writes the warehouse."
    ),
]
NameArgument = Annotated[str, typer.Argument(help="The publisher's name in the sources file.")]


@dataclass(frozen=True)
class _Group:
    """The group's options, for its commands to fall back on."""

    db: Path = DEFAULT_DB
    sources: Path = DEFAULT_SOURCES
    output: OutputFormat = OutputFormat.table


def _options(
    ctx: typer.Context, db: Path | None, sources: Path | None, output: OutputFormat | None = None
) -> _Group:
    group = ctx.find_object(_Group) or _Group()
    return _Group(db or group.db, sources or group.sources, output or group.output)


def _fail(message: str) -> typer.Exit:
    """:func:`fail`, with the message taken literally: file messages hold ``[[publisher]]``,
    ``feeds[0]`` and names or URLs with brackets, which rich would read as markup."""
    return fail(escape(message))


def _say(message: str) -> None:
    console.print(message, highlight=False, markup=False, soft_wrap=True)


def _quoted(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def _read(path: Path, missing_ok: bool = False) -> SourcesDocument:
    from flows.sources import SourcesDocument, SourcesError

    try:
        return SourcesDocument.read(path, missing_ok=missing_ok)
    except SourcesError as exc:
        raise _fail(str(exc)) from exc


def _index(document: SourcesDocument, name: str) -> int:
    from flows.sources import SourcesError

    try:
        return document.index(name)
    except SourcesError as exc:
        raise _fail(str(exc)) from exc


# --- newsdesk sources (no command) ---------------------------------------------------------


@sources_app.callback(invoke_without_command=True)
def sources(
    ctx: typer.Context,
    db: DbOption = DEFAULT_DB,
    sources_file: SourcesOption = DEFAULT_SOURCES,
    health: Annotated[
        bool,
        typer.Option(
            "--health",
            help="Per feed: last success, failures in a row, next check, last error, 304 ratio.",
        ),
    ] = False,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Without a command, the feed overview; with one, hand the group's options down."""
    if ctx.invoked_subcommand is not None:
        if health:
            raise typer.BadParameter(
                "--health goes without a command: `newsdesk sources --health`",
                param_hint="--health",
            )
        ctx.obj = _Group(db, sources_file, output)
        return
    if health:
        with read_only(db) as con, warehouse_errors():
            cursor = con.execute(
                "select publisher, feed_url, last_success_at, consecutive_failures as failures, "
                "next_check_at, next_check_reason as why, last_error_class, last_error, "
                "not_modified_ratio, new_articles_last_day, usual_articles_per_day, retired_at "
                "from source_health order by consecutive_failures desc, publisher, feed_url"
            )
            names = [d[0] for d in cursor.description or []]
            found = [list(r) for r in cursor.fetchall()]
        print_rows(names, found, output.value)
        return
    _overview(db, sources_file, output)


def _overview(db: Path, sources_file: Path, output: OutputFormat) -> None:
    from warehouse.db import WarehouseError, connect

    configured: list[Publisher] = []
    if sources_file.exists():
        configured = _read(sources_file).publishers
    known: dict[str, tuple[Any, ...]] = {}
    if warehouse_exists(db):
        try:
            con = connect(db, read_only=True, wait_seconds=60)
            try:
                for row in con.execute(
                    "select feed_url, publisher, last_status, last_fetch_at, last_error_class, "
                    "articles from feed_overview order by publisher, feed_url"
                ).fetchall():
                    known[row[0]] = row[1:]
            finally:
                con.close()
        except WarehouseError as exc:
            raise _fail(str(exc)) from exc
    if not configured and not known:
        raise _fail(f"no sources: {sources_file} does not exist and {db} has no feeds yet")
    names = [
        "publisher",
        "feed",
        "in_file",
        "last_status",
        "last_fetch_at",
        "last_error",
        "articles",
    ]
    rows: list[list[Any]] = []
    for publisher in configured:
        for url in publisher.feeds:
            _, *last = known.pop(url, (None, None, None, None, 0))
            rows.append([publisher.name, url, True, *last])
    for url, (publisher_name, *last) in known.items():  # e.g. the demo's or ad-hoc feeds
        rows.append([publisher_name, url, False, *last])
    print_rows(names, rows, output.value)


# --- list and show -------------------------------------------------------------------------


def _health_by_publisher(db: Path) -> dict[str, tuple[Any, Any]] | None:
    """``{publisher: (last success of any feed, most failures in a row of any feed)}``; None
    when there is no warehouse (yet)."""
    if not warehouse_exists(db):
        return None
    with read_only(db) as con, warehouse_errors():
        rows = con.execute(
            "select publisher, max(last_success_at), max(consecutive_failures) "
            "from source_health group by publisher"
        ).fetchall()
    return {name: (success, failures) for name, success, failures in rows}


@sources_app.command("list", help=LIST_HELP)
def list_sources(
    ctx: typer.Context,
    db: CommandDbOption = None,
    sources_file: CommandSourcesOption = None,
    output: FormatOption = None,
) -> None:
    """One row per publisher in the file, with health when the warehouse exists."""
    options = _options(ctx, db, sources_file, output)
    document = _read(options.sources)
    health = _health_by_publisher(options.db)
    names = ["name", "enabled", "feeds", "sitemaps", "language"]
    if health is not None:
        names += ["last_success_at", "failures"]
    rows: list[list[Any]] = []
    for publisher in document.publishers:
        row: list[Any] = [
            publisher.name,
            publisher.enabled,
            len(publisher.feeds),
            len(publisher.sitemaps),
            publisher.language,
        ]
        if health is not None:
            row += list(health.get(publisher.name, (None, None)))
        rows.append(row)
    print_rows(names, rows, options.output.value)


# (column of source_health, name in the output): the warehouse's state of one address.
_STATE = (
    ("enabled", "enabled"),
    ("last_status", "last_status"),
    ("last_success_at", "last_success_at"),
    ("consecutive_failures", "failures"),
    ("last_error_class", "last_error_class"),
    ("last_error", "last_error"),
    ("next_check_at", "next_check_at"),
    ("retired_at", "retired_at"),
)
_STATE_COLUMNS = tuple(name for _, name in _STATE)
# What fits a terminal; csv and json carry every column.
_TABLE_COLUMNS = ("kind", "url", "in_file", "enabled", "last_success_at", "failures", "last_error")


def _states(db: Path, publisher: Publisher) -> dict[str, dict[str, Any]] | None:
    """The warehouse's view of each of the publisher's addresses (those the file lists and any
    other the warehouse has under its name); None without a warehouse."""
    if not warehouse_exists(db):
        return None
    with read_only(db) as con, warehouse_errors():
        cursor = con.execute(
            f"select feed_url, {', '.join(column for column, _ in _STATE)} from source_health "
            "where publisher = $name or feed_url in (select unnest($urls::varchar[])) "
            "order by feed_url",
            {"name": publisher.name, "urls": publisher.urls},
        )
        rows = cursor.fetchall()
    return {row[0]: dict(zip(_STATE_COLUMNS, row[1:], strict=True)) for row in rows}


def _setting_rows(document: SourcesDocument, publisher: Publisher) -> list[tuple[str, Any]]:
    from flows.settings import Settings

    defaults = Settings()
    hints = publisher.extraction

    def own_or_global(value: Any, default: Any) -> str:
        return f"{default} (global)" if value is None else str(value)

    return [
        ("name", publisher.name),
        ("defined_at", f"{document.path}:{document.line_of(publisher.name)}"),
        ("enabled", publisher.enabled),
        ("domain", publisher.domain),
        ("country", publisher.country),
        ("language", publisher.language),
        ("poll_interval_s", own_or_global(publisher.poll_interval_s, defaults.poll_interval_s)),
        (
            "per_host_delay_s",
            own_or_global(publisher.per_host_delay_s, defaults.per_host_delay_s),
        ),
        (
            "per_host_concurrency",
            own_or_global(publisher.per_host_concurrency, defaults.per_host_concurrency),
        ),
        ("extraction.body_selector", hints.body_selector if hints else None),
        ("extraction.prune_selectors", ", ".join(hints.prune_selectors) if hints else None),
    ]


@sources_app.command("show", help=SHOW_HELP)
def show(
    ctx: typer.Context,
    name: NameArgument,
    db: CommandDbOption = None,
    sources_file: CommandSourcesOption = None,
    output: FormatOption = None,
) -> None:
    """Settings, then sources with their warehouse state (file and warehouse may differ)."""
    options = _options(ctx, db, sources_file, output)
    document = _read(options.sources)
    publisher = document.publishers[_index(document, name)]
    states = _states(options.db, publisher) or {}
    listed = [("feed", url) for url in publisher.feeds]
    listed += [("sitemap", url) for url in publisher.sitemaps]
    names = ["kind", "url", "in_file", *_STATE_COLUMNS]
    rows: list[list[Any]] = []
    for kind, url in listed:
        state = states.pop(url, {})
        rows.append([kind, url, True, *(state.get(c) for c in _STATE_COLUMNS)])
    for url, state in states.items():  # known to the warehouse, no longer in the file
        rows.append(["feed", url, False, *(state.get(c) for c in _STATE_COLUMNS)])
    settings = _setting_rows(document, publisher)
    if options.output is OutputFormat.json:
        records = [dict(zip(names, row, strict=True)) for row in rows]
        payload = {"settings": dict(settings), "sources": records}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
        return
    if options.output is OutputFormat.table:
        table = Table(title=escape(publisher.name), show_header=False)
        for setting, value in settings:
            table.add_row(setting, "" if value is None else escape(str(value)))
        console.print(table)
        if not warehouse_exists(options.db):
            note(escape(f"no warehouse at {options.db}: states appear after the first ingest"))
        keep = [names.index(column) for column in _TABLE_COLUMNS]
        names = [names[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
    print_rows(names, rows, options.output.value)


# --- writing: file and warehouse together ---------------------------------------------------


def _commit(
    document: SourcesDocument,
    db: Path,
    wait: float,
    change: Callable[[duckdb.DuckDBPyConnection], int],
    create_db: bool = False,
) -> int | None:
    """Put ``document`` in place and apply ``change`` to the warehouse, both or neither.

    Returns ``change``'s result, or None when the warehouse was left alone because it does not
    exist (and ``create_db`` is false: disabling a source needs no new warehouse). On a
    DuckLake, a commit that conflicts with another writer (an ingest worker) puts the old file
    back and runs the change again on the new snapshot.
    """
    import duckdb

    from flows.settings import Settings
    from flows.sources import SourcesError, staged_write
    from warehouse.db import WarehouseError, connect

    try:
        if not create_db and not warehouse_exists(db):
            with staged_write(document) as staged:
                staged.put_in_place()
            return None
        try:
            con = connect(
                db, wait_seconds=wait, on_wait=note, data_path=Settings().ducklake_data_path
            )
        except WarehouseError as exc:
            raise _fail(f"{exc}; nothing written") from exc
        try:
            return _commit_retrying(con, document, change)
        finally:
            con.close()
    except SourcesError as exc:
        raise _fail(str(exc)) from exc
    except (WarehouseError, duckdb.Error) as exc:
        raise _fail(f"{db}: {exc}; nothing written") from exc


def _commit_retrying(
    con: duckdb.DuckDBPyConnection,
    document: SourcesDocument,
    change: Callable[[duckdb.DuckDBPyConnection], int],
) -> int:
    """:func:`_commit`'s warehouse part: each attempt stages the file afresh, swaps it in
    before the commit and back when the commit fails."""
    import duckdb

    from flows.sources import staged_write
    from warehouse.db import CONFLICT_ATTEMPTS, back_off, is_conflict, transaction
    from warehouse.migrate import migrate

    migrate(con)
    delay = 0.05
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            with staged_write(document) as staged:
                try:
                    with transaction(con):  # commits on leaving; rolls back on an exception
                        outcome = change(con)
                        staged.put_in_place()
                    return outcome
                except BaseException:
                    staged.put_back()  # only when the file was replaced and the commit failed
                    raise
        except duckdb.TransactionException as exc:
            if not is_conflict(exc) or attempt == CONFLICT_ATTEMPTS:
                raise
            note(f"the warehouse changed meanwhile (another writer); trying again ({attempt})")
        delay = back_off(delay, 2.0)
    raise AssertionError("unreachable")


def _register(publisher: Publisher) -> Callable[[duckdb.DuckDBPyConnection], int]:
    """Upsert the publisher and its feeds (enabled as the file says); count them."""

    def change(con: duckdb.DuckDBPyConnection) -> int:
        from flows.sources import source_rows
        from warehouse.load import register_sources

        return len(register_sources(con, source_rows([publisher])))

    return change


def _disable(publisher: Publisher, keep: set[str]) -> Callable[[duckdb.DuckDBPyConnection], int]:
    """Disable every feed the warehouse has under the publisher's name or at its addresses,
    except ``keep`` (addresses another publisher in the file still lists). Rows are kept: their
    entries, articles and fetches are history."""

    def change(con: duckdb.DuckDBPyConnection) -> int:
        # Counted, then updated: a DuckLake takes no RETURNING.
        chosen = """
            where (publisher_id in (select publisher_id from publishers where name = $name)
                   or url in (select unnest($urls::varchar[])))
              and url not in (select unnest($keep::varchar[]))
        """
        params = {"name": publisher.name, "urls": publisher.urls, "keep": sorted(keep)}
        row = con.execute(f"select count(*) from feeds {chosen}", params).fetchone()
        con.execute(f"update feeds set enabled = false {chosen}", params)
        return int(row[0]) if row else 0

    return change


def _others_urls(document: SourcesDocument, name: str) -> set[str]:
    return {url for p in document.publishers if p.name != name for url in p.urls}


def _warehouse_note(db: Path, count: int | None, done: str) -> str:
    if count is None:
        return f"no warehouse at {db}: only the file changed (`newsdesk ingest` reads it)"
    return f"in {db}: {count} feed(s) {done}"


def _set_enabled(
    ctx: typer.Context,
    name: str,
    enabled: bool,
    db: Path | None,
    sources_file: Path | None,
    wait: float,
) -> None:
    from flows.sources import SourcesError

    options = _options(ctx, db, sources_file)
    document = _read(options.sources)
    index = _index(document, name)
    publisher = document.publishers[index]
    verb = "enabled" if enabled else "disabled"
    if publisher.enabled == enabled:
        note(escape(f"{_quoted(publisher.name)} is already {verb} in {options.sources}"))
        updated = document
    else:
        try:
            updated = document.with_enabled(publisher.name, enabled)
        except SourcesError as exc:
            raise _fail(str(exc)) from exc
    if enabled:
        change = _register(updated.publishers[index])
    else:
        change = _disable(publisher, _others_urls(document, publisher.name))
    count = _commit(updated, options.db, wait, change)
    _say(
        f"{verb} {_quoted(publisher.name)} in {options.sources}; "
        + _warehouse_note(options.db, count, verb)
    )
    if not enabled:
        _say(
            "its history is kept; it is not polled until "
            f"`newsdesk sources enable {_quoted(publisher.name)}`"
        )


@sources_app.command("disable", help=DISABLE_HELP)
def disable(
    ctx: typer.Context,
    name: NameArgument,
    db: CommandDbOption = None,
    sources_file: CommandSourcesOption = None,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Set enabled = false; the warehouse disables the publisher's feeds."""
    _set_enabled(ctx, name, False, db, sources_file, wait)


@sources_app.command("enable", help=ENABLE_HELP)
def enable(
    ctx: typer.Context,
    name: NameArgument,
    db: CommandDbOption = None,
    sources_file: CommandSourcesOption = None,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Set enabled = true; the warehouse enables the feeds the file lists."""
    _set_enabled(ctx, name, True, db, sources_file, wait)


@sources_app.command("remove", help=REMOVE_HELP)
def remove(
    ctx: typer.Context,
    name: NameArgument,
    db: CommandDbOption = None,
    sources_file: CommandSourcesOption = None,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Drop the entry from the file; disable (never delete) its feeds in the warehouse."""
    from flows.sources import SourcesError

    options = _options(ctx, db, sources_file)
    document = _read(options.sources)
    publisher = document.publishers[_index(document, name)]
    try:
        updated = document.without(publisher.name)
    except SourcesError as exc:
        raise _fail(str(exc)) from exc
    count = _commit(
        updated, options.db, wait, _disable(publisher, _others_urls(document, publisher.name))
    )
    _say(f"removed {_quoted(publisher.name)} from {options.sources}")
    if count is None:
        _say(_warehouse_note(options.db, count, "disabled"))
    else:
        _say(
            f"in {options.db}: {count} feed(s) disabled; the publisher and its history "
            "(entries, articles, fetches) are kept"
        )


# --- add -----------------------------------------------------------------------------------


@dataclass
class _Choice:
    """What `add` records out of the discovery's kept candidates, and why it passed over the
    rest of them."""

    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    passed_over: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)


def _choose(report: DiscoveryReport, document: SourcesDocument) -> _Choice:
    from transforms.urls import canonical_url

    owners = {canonical_url(u): p.name for p in document.publishers for u in p.urls}
    choice = _Choice()
    for kept in report.feeds:  # best first
        url = kept.candidate.url
        owner = owners.get(canonical_url(url))
        if owner is not None:
            choice.passed_over.append(
                (url, f"already in {document.path} under publisher {_quoted(owner)}")
            )
        elif "comments feed" in kept.verdict.reason:  # assess()'s note for one
            choice.passed_over.append(
                (url, "comments feed: its entries point at articles the main feed brings")
            )
        elif len(choice.feeds) >= MAX_FEEDS:
            choice.passed_over.append((url, f"ranked below the {MAX_FEEDS} best feeds"))
        else:
            choice.feeds.append(url)
    for kept in report.news_sitemaps:
        url = kept.candidate.url
        owner = owners.get(canonical_url(url))
        if owner is not None:
            choice.passed_over.append(
                (url, f"already in {document.path} under publisher {_quoted(owner)}")
            )
        elif choice.sitemaps:
            choice.passed_over.append((url, "ranked below the best news sitemap"))
        else:
            choice.sitemaps.append(url)
    return choice


def _site_url(url: str) -> str:
    """The address as typed, with https:// when no scheme was given (`dw.com`)."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        usable = False
    if not usable:
        raise typer.BadParameter(
            f"{url!r} is not an http(s) address; give the publisher's homepage, "
            "e.g. https://www.dw.com/",
            param_hint="URL",
        )
    return url


def _page_name(page: HttpResult | None) -> tuple[str, str] | None:
    """The site's own name for itself, and where it was found: og:site_name, then
    application-name, then the page title."""
    from transforms.decode import decode_document
    from transforms.metadata import parse_html

    if page is None or not page.ok or not page.body:
        return None
    tree = parse_html(decode_document(page.body, page.content_type).text)
    if tree is None:
        return None
    for xpath, origin in (
        ('//meta[@property="og:site_name"]/@content', "og:site_name"),
        ('//meta[@name="application-name"]/@content', "application-name"),
        ("//title//text()", "the page title"),
    ):
        found = " ".join(" ".join(str(t) for t in tree.xpath(xpath)).split())
        if found:
            return found[:80].rstrip(), origin
    return None


def _discover(
    url: str, allow_private: list[str] | None
) -> tuple[DiscoveryReport, HttpResult | None]:
    """Run discovery; also return the page's response, which names the site (no second fetch)."""
    from flows.discover import discover
    from flows.http import Fetcher
    from flows.settings import Settings

    class PageKeeper(Fetcher):
        """Keeps the first response: the page discovery starts from."""

        page: HttpResult | None = None

        def get(self, url: str, **kwargs: Any) -> HttpResult:
            result = super().get(url, **kwargs)
            if self.page is None:
                self.page = result
            return result

    overrides: dict[str, Any] = {"allow_private": list(allow_private)} if allow_private else {}
    settings = Settings(**overrides)
    try:
        fetcher = PageKeeper(settings)
    except ValueError as exc:  # a CIDR that is not one
        raise typer.BadParameter(str(exc), param_hint="--allow-private") from exc
    try:
        return discover(url, settings, datetime.now(UTC), fetcher=fetcher), fetcher.page
    finally:
        fetcher.close()


def _page_failure(url: str, report: DiscoveryReport) -> typer.Exit:
    if report.error_class == "page_not_found":
        return _fail(
            f"{url}: {report.error}; give the publisher's homepage or another page of its site "
            "that exists. Nothing written."
        )
    if report.error_class == "not_html":
        return _fail(
            f"{url}: {report.error}; give an HTML page of the site (its homepage), not a feed "
            "or a file. Nothing written."
        )
    hint = ""
    if "ssrf_refused" in (report.error or ""):
        hint = " (a private or loopback address: --allow-private CIDR lets it through)"
    return _fail(f"{url}: could not fetch it: {report.error}{hint}. Nothing written.")


def _refuse_taken(document: SourcesDocument, name: str) -> None:
    taken = [n for n in document.names if n.casefold() == name.casefold()]
    if taken:
        raise _fail(
            f"a publisher named {_quoted(taken[0])} is already in {document.path} "
            f"(line {document.line_of(taken[0])}): give another --name, or "
            f"`newsdesk sources remove {_quoted(taken[0])}` first. Nothing written."
        )


def _check_options(name: str | None, language: str | None, country: str | None) -> None:
    """Refuse a bad --name, --language or --country before any request (exit 2)."""
    from pydantic import ValidationError

    from flows.sources import Publisher

    try:
        Publisher(
            name="-" if name is None else name,
            language=language,
            country=country,
            feeds=["https://x.invalid/"],
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        field_name = str(err["loc"][0])
        raise typer.BadParameter(
            f"{err['msg']}: {err.get('input')!r}", param_hint=f"--{field_name}"
        ) from exc


@sources_app.command("add", help=ADD_HELP)
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The publisher's homepage, or any page of its site.")],
    name: Annotated[
        str | None,
        typer.Option(help="Its name in the file [default: the site's own name, or its domain]."),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="ISO 639-1 code of most of its articles, e.g. de.")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="ISO 3166-1 alpha-2 code of its country, e.g. DE.")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print what was found and why each candidate was kept; write nothing."
        ),
    ] = False,
    allow_private: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-private",
            help="CIDR the SSRF guard lets through (repeatable), e.g. 127.0.0.1/32.",
        ),
    ] = None,
    db: CommandDbOption = None,
    sources_file: CommandSourcesOption = None,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Discover, choose, then write file and warehouse together (or print, with --dry-run).

    Everything that can be refused without the network (a bad URL, language or country, a
    taken --name, an invalid sources file) is refused before the first request.
    """
    from pydantic import ValidationError

    from flows.discover import report_lines
    from flows.sources import Publisher, SourcesError, render_publisher
    from transforms.urls import registrable_domain

    options = _options(ctx, db, sources_file)
    site = _site_url(url)
    language = language.lower() if language else None
    country = country.upper() if country else None
    _check_options(name, language, country)
    document = _read(options.sources, missing_ok=True)
    if name is not None:
        _refuse_taken(document, name)  # before any request: the answer will not change

    report, page = _discover(site, allow_private)
    if report.error_class:
        raise _page_failure(url, report)
    for line in report_lines(report):
        _say(line)  # not markup: "[link-alternate]" says how a candidate was found

    domain = registrable_domain(urlsplit(report.site_url).hostname or "") or None
    if name is None:
        found = _page_name(page)
        name, origin = found if found else (domain or site, "the domain")
        _say(f"name: {_quoted(name)} (from {origin}; --name sets another)")
        _refuse_taken(document, name)

    choice = _choose(report, document)
    for passed_url, reason in choice.passed_over:
        _say(f"  NOT CHOSEN {passed_url}: {reason}")
    if not choice.feeds and not choice.sitemaps:
        tried = len(report.feeds) + len(report.news_sitemaps) + len(report.dropped)
        raise _fail(
            f"no usable feed or news sitemap for {site}: {tried} candidate(s) tried, none "
            "chosen (each one's reason is above). Nothing written."
        )

    try:
        publisher = Publisher(
            name=name,
            domain=domain,
            country=country,
            language=language,
            feeds=choice.feeds,
            sitemaps=choice.sitemaps,
        )
    except ValidationError as exc:  # a name taken from the page that does not fit
        raise _fail(f"cannot record {_quoted(name)}: {exc}; give --name. Nothing written.") from exc
    comment = f"added {datetime.now(UTC).date().isoformat()} by `newsdesk sources add {url}`"
    try:
        updated = document.adding(publisher, comment)
    except SourcesError as exc:
        raise _fail(str(exc)) from exc
    summary = (
        f"{_quoted(publisher.name)}: {len(publisher.feeds)} feed(s), "
        f"{len(publisher.sitemaps)} news sitemap(s)"
    )
    if dry_run:
        _say(f"dry run, nothing written; without --dry-run this is added to {options.sources}:")
        _say(render_publisher(publisher, comment))
        return
    count = _commit(updated, options.db, wait, _register(publisher), create_db=True)
    _say(
        f"added {summary} to {options.sources} (line {updated.line_of(publisher.name)}); "
        f"{count} address(es) registered in {options.db}. `newsdesk ingest` polls them."
    )


def register(app: typer.Typer) -> None:
    """Add the ``sources`` group to the ``newsdesk`` app."""
    app.add_typer(sources_app, name="sources")
