"""Idempotent loads from polars frames, each batch in one short transaction.

The write connection is held only while a batch is written, so readers wait seconds, not minutes.
Loading the same batch twice leaves the same rows: natural keys (feed URL, feed+guid, url_key)
decide what is new, and a known URL whose text changed becomes a new version. Every load runs
through :func:`warehouse.db.retry_conflicts`: on a DuckLake, where several workers write at
once, a batch whose commit conflicts with another worker's runs again on the new snapshot, and
finds done what the other worker did.

Leases (``feed_leases``, ``page_leases``) partition the work of concurrent ingest runs: a run
claims its due sources (:func:`claim_due_feeds`) and the pages it is about to fetch
(:func:`load_feed_batch_claiming`) in the transactions that decide them, and skips what another
live run holds; :func:`finish_run` ends them, and they lapse after the lease length.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl

from transforms.frames import ArticleFrames
from transforms.records import TRANSIENT_ERROR_CLASSES
from transforms.schedule import PollPolicy, needs_unconditional_fetch
from warehouse.db import is_lake, retry_conflicts, transaction, upsert

__all__ = [
    "FEED_STATE_SCHEMA",
    "RUN_COUNTERS",
    "DueFeed",
    "FeedBatch",
    "FeedClaim",
    "PageLoadCounts",
    "PublisherHints",
    "SourceRow",
    "claim_due_feeds",
    "claim_pages",
    "due_feeds",
    "fail_run",
    "finish_run",
    "load_feed_batch",
    "load_feed_batch_claiming",
    "load_pages",
    "pages_to_fetch",
    "publisher_hints",
    "reap_dead_runs",
    "register_sources",
    "release_leases",
    "renew_leases",
    "start_run",
    "transaction",
]

# Page fetch failures that are worth another try on a later run, up to MAX_PAGE_ATTEMPTS.
TRANSIENT_ERRORS = tuple(sorted(TRANSIENT_ERROR_CLASSES))
MAX_PAGE_ATTEMPTS = 3
# The counters a run row carries (columns of `runs`).
RUN_COUNTERS = (
    "feeds_total",
    "feeds_fetched",
    "feeds_not_modified",
    "feeds_failed",
    "entries_seen",
    "entries_new",
    "pages_fetched",
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "articles_dropped",
    "articles_failed",
    "articles_copies",
    "feeds_leased_elsewhere",
    "pages_leased_elsewhere",
    "chunks_leased_elsewhere",
)

_FETCH_COLUMNS = (
    "fetch_id, run_id, feed_id, url, url_key, final_url, kind, requested_at, status, bytes, "
    "elapsed_ms, content_type, charset, charset_source, error_class, error, drop_reason, "
    "robots_decision, redirects, retry_after_s, warc_path, warc_offset, discovered_via, captured_at"
)


FEED_STATE_SCHEMA: dict[str, pl.DataType] = {
    "feed_id": pl.Int32(),
    "etag": pl.String(),
    "last_modified": pl.String(),
    "last_status": pl.Int32(),
    "fetched_at": pl.Datetime("us", "UTC"),
    "ok": pl.Boolean(),
    "error_class": pl.String(),
    "error": pl.String(),
    "kind": pl.String(),
    "title": pl.String(),
    "next_check_at": pl.Datetime("us", "UTC"),
    "interval_s": pl.Float64(),
    "reason": pl.String(),
    "retired": pl.Boolean(),
    "unconditional": pl.Boolean(),
    "moved_to": pl.String(),
    "moved_status": pl.Int32(),
}


@dataclass(frozen=True, slots=True)
class DueFeed:
    feed_id: int
    publisher_id: int
    url: str
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    entries_per_day: float | None
    checks_since_unconditional: int
    last_unconditional_at: datetime | None
    source_type: str = "feed"  # feed | sitemap
    poll_interval_s: float | None = None  # the source's own poll floor
    last_success_at: datetime | None = None

    def needs_unconditional(self, now: datetime, policy: PollPolicy) -> bool:
        return needs_unconditional_fetch(
            now, self.checks_since_unconditional, self.last_unconditional_at, policy
        )


def due_feeds(
    con: duckdb.DuckDBPyConnection, feed_ids: list[int], now: datetime, all_feeds: bool = False
) -> list[DueFeed]:
    """Enabled, unretired feeds and sitemaps among ``feed_ids`` whose next check has come (or
    all of them), with their publishing rate over the last 7 days (entries per day)."""
    rows = con.execute(
        """
        with rates as (
            select feed_id, count(*) / 7.0 as per_day
            from entries
            where published_at >= $now - interval 7 day and published_at <= $now
            group by feed_id
        )
        select f.feed_id, f.publisher_id, f.url, s.etag, s.last_modified,
               coalesce(s.consecutive_failures, 0), r.per_day,
               coalesce(s.checks_since_unconditional, 0), s.last_unconditional_at,
               coalesce(f.source_type, 'feed'), f.poll_interval_s, s.last_success_at
        from feeds f join feed_state s using (feed_id) left join rates r using (feed_id)
        where f.enabled and s.retired_at is null and list_contains($ids, f.feed_id)
          and ($all or s.next_check_at is null or s.next_check_at <= $now)
        order by f.feed_id
        """,
        {"ids": feed_ids, "now": now, "all": all_feeds},
    ).fetchall()
    return [DueFeed(*row) for row in rows]


# --- leases: work partitioned between concurrent runs (migration 010) ----------------------
#
# A lease is live while it has not expired and its run is still `running`; a run's own leases
# are never "elsewhere". Claims are made in the write transaction that decides the work, so on
# a lake two runs claiming at once conflict on the write token and the second, retried, sees
# the first one's leases (on a DuckDB file the write lock serializes them).


def live_lease_sql(alias: str, holder: str = "run_id", expires: str = "expires_at") -> str:
    """SQL: the lease in row ``alias`` (its ``holder`` run and ``expires`` columns) is held by
    a live run (parameter ``$now``); null when the row holds no lease."""
    return (
        f"({alias}.{expires} > $now and {alias}.{holder} in "
        "(select run_id from runs where status = 'running'))"
    )


def _lease(
    con: duckdb.DuckDBPyConnection,
    table: str,
    wanted: pl.DataFrame,
    run_id: str,
    now: datetime,
    until: datetime,
) -> set[object]:
    """Lease the rows of ``wanted`` (its first column is ``table``'s key, the others are
    stored with the lease) to ``run_id`` until ``until``, except those another live run holds:
    their keys are returned."""
    key, *extra = wanted.columns
    con.register("wanted_leases", wanted)
    held_sql = (
        f"select l.{key} from {table} l join wanted_leases w using ({key}) "
        f"where l.run_id <> $run and {live_lease_sql('l')}"
    )
    held = {row[0] for row in con.execute(held_sql, {"run": run_id, "now": now}).fetchall()}
    stored = (*extra, "run_id", "leased_at", "expires_at")
    upsert(
        con,
        table,
        (key,),
        (key, *stored),
        f"select {', '.join((key, *extra))}, $run as run_id, $now as leased_at, "
        f"$until as expires_at from wanted_leases where {key} not in ({held_sql})",
        update=", ".join(f"{c} = excluded.{c}" for c in stored),
        params={"run": run_id, "now": now, "until": until},
    )
    con.unregister("wanted_leases")
    return held


@dataclass(frozen=True, slots=True)
class FeedClaim:
    """The due sources a run claimed, and how many due ones other live runs hold."""

    due: list[DueFeed]
    leased_elsewhere: int


@retry_conflicts
def claim_due_feeds(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    feed_ids: list[int],
    now: datetime,
    lease_s: float,
    all_feeds: bool = False,
) -> FeedClaim:
    """:func:`due_feeds`, less those another live run holds; the rest are leased to ``run_id``
    until ``now + lease_s``, in the same transaction. Expired leases and those of runs that
    ended are dropped first (a killed worker's feeds come back once its lease expires)."""
    until = now + timedelta(seconds=lease_s)
    reap_dead_runs(con, now)
    con.execute(f"delete from feed_leases where not {live_lease_sql('feed_leases')}", {"now": now})
    due = due_feeds(con, feed_ids, now, all_feeds)
    if not due:
        return FeedClaim([], 0)
    wanted = pl.DataFrame({"feed_id": [d.feed_id for d in due]}, schema={"feed_id": pl.Int32()})
    held = _lease(con, "feed_leases", wanted, run_id, now, until)
    return FeedClaim([d for d in due if d.feed_id not in held], len(held))


def claim_pages(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    todo: pl.DataFrame,
    now: datetime,
    lease_s: float,
) -> tuple[pl.DataFrame, int]:
    """The rows of ``todo`` (:func:`pages_to_fetch`'s) no other live run holds, leased to
    ``run_id``; and how many were held elsewhere. Call inside the transaction that decided
    ``todo`` (:func:`load_feed_batch_claiming` does)."""
    if todo.is_empty():
        return todo, 0
    until = now + timedelta(seconds=lease_s)
    held = _lease(con, "page_leases", todo.select("url_key", "feed_id"), run_id, now, until)
    mine = todo.filter(~pl.col("url_key").is_in(list(held))) if held else todo
    return mine, len(held)


@retry_conflicts
def renew_leases(con: duckdb.DuckDBPyConnection, run_id: str, until: datetime) -> None:
    """Push the expiry of every lease ``run_id`` holds to ``until`` (a run that is still
    loading batches is alive)."""
    for table in ("feed_leases", "page_leases"):
        con.execute(
            f"update {table} set expires_at = $until where run_id = $run and expires_at < $until",
            {"run": run_id, "until": until},
        )


def release_leases(con: duckdb.DuckDBPyConnection, run_id: str, ended_at: datetime) -> None:
    """End ``run_id``'s leases (inside the transaction that ends the run): its feeds are free,
    its fetched pages forgotten; a page it claimed but never fetched keeps its row, expired,
    so the next run fetches it (``orphaned`` in :func:`pages_to_fetch`)."""
    params = {"run": run_id, "ended": ended_at}
    con.execute("delete from feed_leases where run_id = $run", {"run": run_id})
    con.execute(
        """
        delete from page_leases
        where run_id = $run
          and (url_key in (select url_key from fetches
                           where run_id = $run and kind = 'page' and url_key is not null)
               or url_key in (select url_key from articles))
        """,
        {"run": run_id},
    )
    con.execute(
        "update page_leases set expires_at = least(expires_at, $ended) where run_id = $run",
        params,
    )


def robots_records(
    con: duckdb.DuckDBPyConnection,
) -> list[tuple[str, str | None, datetime, int | None]]:
    """Cached robots.txt answers: (origin, body, fetched_at, status)."""
    return [
        (origin, body, fetched_at, status)
        for origin, body, fetched_at, status in con.execute(
            "select origin, body, fetched_at, status from robots_cache"
        ).fetchall()
    ]


@retry_conflicts
def store_robots(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    fetches: pl.DataFrame,
    records: Sequence[tuple[str, str | None, int | None, datetime]],
) -> None:
    """robots.txt fetches of a run, and the cache rows (origin, body, status, fetched_at)."""
    frame = pl.DataFrame(
        records,
        schema={
            "origin": pl.String(),
            "body": pl.String(),
            "status": pl.Int32(),
            "fetched_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )
    with transaction(con):
        _insert_fetches(con, run_id, fetches)
        con.register("incoming_robots", frame)
        upsert(
            con,
            "robots_cache",
            ("origin",),
            ("origin", "body", "status", "fetched_at"),
            "select origin, body, status, fetched_at from incoming_robots",
            update="body = excluded.body, status = excluded.status, "
            "fetched_at = excluded.fetched_at",
        )
        con.unregister("incoming_robots")


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A configured feed or sitemap with its publisher, as the warehouse should know it.

    ``poll_interval_s`` is the source's own poll floor (None: the global setting);
    ``body_selector`` / ``prune_selectors`` are the publisher's extraction hints, stored on
    ``publishers`` so that ``reextract`` applies them too.
    """

    publisher: str
    domain: str | None
    country: str | None
    language: str | None
    feed_url: str
    feed_title: str | None = None
    enabled: bool = True
    source_type: str = "feed"  # feed | sitemap
    poll_interval_s: float | None = None
    body_selector: str | None = None
    prune_selectors: tuple[str, ...] = ()


_SOURCE_SCHEMA: dict[str, pl.DataType] = {
    "publisher": pl.String(),
    "domain": pl.String(),
    "country": pl.String(),
    "language": pl.String(),
    "feed_url": pl.String(),
    "feed_title": pl.String(),
    "enabled": pl.Boolean(),
    "source_type": pl.String(),
    "poll_interval_s": pl.Float64(),
    "body_selector": pl.String(),
    "prune_selectors": pl.List(pl.String()),
}


@retry_conflicts
def register_sources(
    con: duckdb.DuckDBPyConnection, sources: Sequence[SourceRow]
) -> dict[str, tuple[int, int]]:
    """Upsert publishers and feeds (sitemaps included); return
    ``{feed_url: (feed_id, publisher_id)}``.

    A source's type, poll floor and its publisher's extraction hints are replaced by what the
    configuration says now (dropping a hint from the sources file drops it here too).
    """
    frame = pl.DataFrame(
        [
            {
                "publisher": s.publisher,
                "domain": s.domain,
                "country": s.country,
                "language": s.language,
                "feed_url": s.feed_url,
                "feed_title": s.feed_title,
                "enabled": s.enabled,
                "source_type": s.source_type,
                "poll_interval_s": s.poll_interval_s,
                "body_selector": s.body_selector,
                "prune_selectors": list(s.prune_selectors),
            }
            for s in sources
        ],
        schema=_SOURCE_SCHEMA,
    )
    # A feed that answered 301/308 lives on under its new URL: a sources file that still
    # lists the old one maps to it instead of adding it again.
    moves = dict(
        con.execute(
            "select m.old_url, f.url from feed_moves m join feeds f using (feed_id)"
        ).fetchall()
    )
    if moves:
        frame = frame.with_columns(pl.col("feed_url").replace(moves))
    # Ids follow the order of the configuration, so "the first feed that listed it" is stable.
    frame = frame.with_row_index("position")
    with transaction(con):
        con.register("incoming_sources", frame)
        upsert(
            con,
            "publishers",
            ("name",),
            ("name", "domain", "country", "language", "body_selector", "prune_selectors"),
            """
            select publisher as name, any_value(domain) as domain,
                   any_value(country) as country, any_value(language) as language,
                   any_value(body_selector) as body_selector,
                   any_value(prune_selectors) as prune_selectors, min(position) as position
            from incoming_sources group by publisher
            """,
            update="""
                domain = coalesce(excluded.domain, publishers.domain),
                country = coalesce(excluded.country, publishers.country),
                language = coalesce(excluded.language, publishers.language),
                body_selector = excluded.body_selector,
                prune_selectors = excluded.prune_selectors
            """,
            new_id=("publisher_id", "publisher_id_seq", "position"),
        )
        upsert(
            con,
            "feeds",
            ("url",),
            ("publisher_id", "url", "title", "enabled", "source_type", "poll_interval_s"),
            """
            select p.publisher_id, s.feed_url as url, any_value(s.feed_title) as title,
                   bool_or(s.enabled) as enabled,
                   arg_min(s.source_type, s.position) as source_type,
                   min(s.poll_interval_s) as poll_interval_s, min(s.position) as position
            from incoming_sources s join publishers p on p.name = s.publisher
            group by p.publisher_id, s.feed_url
            """,
            update="""
                enabled = excluded.enabled,
                source_type = excluded.source_type,
                poll_interval_s = excluded.poll_interval_s
            """,
            new_id=("feed_id", "feed_id_seq", "position"),
        )
        upsert(con, "feed_state", ("feed_id",), ("feed_id",), "select feed_id from feeds")
        rows = con.execute(
            """
            select f.url, f.feed_id, f.publisher_id
            from feeds f where f.url in (select feed_url from incoming_sources)
            """
        ).fetchall()
        con.unregister("incoming_sources")
    return {url: (feed_id, publisher_id) for url, feed_id, publisher_id in rows}


@dataclass(frozen=True, slots=True)
class PublisherHints:
    """What a publisher's pages are extracted with besides the generic rules."""

    language: str | None
    body_selector: str | None
    prune_selectors: tuple[str, ...]


def publisher_hints(con: duckdb.DuckDBPyConnection) -> dict[int, PublisherHints]:
    """Per publisher_id: its language and extraction hints, for those that have any."""
    rows = con.execute(
        """
        select publisher_id, language, body_selector, prune_selectors from publishers
        where language is not null or body_selector is not null
           or len(coalesce(prune_selectors, [])) > 0
        """
    ).fetchall()
    return {
        publisher_id: PublisherHints(language, body, tuple(prune or ()))
        for publisher_id, language, body, prune in rows
    }


@retry_conflicts
def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str, started_at: datetime) -> None:
    """Record the run as running, with the host and process it runs in (see
    :func:`reap_dead_runs`)."""
    upsert(
        con,
        "runs",
        ("run_id",),
        ("run_id", "flow", "started_at", "status", "host", "pid"),
        "select $run_id as run_id, $flow as flow, $started_at as started_at, "
        "'running' as status, $host as host, $pid as pid",
        update="status = 'running', finished_at = null, error = null, "
        "host = excluded.host, pid = excluded.pid",
        params={
            "run_id": run_id,
            "flow": flow,
            "started_at": started_at,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        },
    )


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return False


def reap_dead_runs(con: duckdb.DuckDBPyConnection, now: datetime) -> list[str]:
    """Mark failed the runs still ``running`` whose process, on this host, is gone (killed,
    crashed machine restarted), and end their leases: a worker started again after a crash
    takes its work back at once rather than after the leases expire. Runs on other hosts are
    left to lease expiry. Returns the run ids reaped."""
    rows = con.execute(
        "select run_id, pid from runs where status = 'running' and host = $host "
        "and pid is not null and pid <> $pid",
        {"host": socket.gethostname(), "pid": os.getpid()},
    ).fetchall()
    dead = [(run_id, pid) for run_id, pid in rows if _process_gone(int(pid))]
    for run_id, pid in dead:
        con.execute(
            "update runs set status = 'failed', finished_at = $now, error = $error "
            "where run_id = $run and status = 'running'",
            {
                "now": now,
                "run": run_id,
                "error": f"its process (pid {pid} on {socket.gethostname()}) ended without "
                "finishing the run (killed?); found by a later run",
            },
        )
        release_leases(con, run_id, now)
    return [run_id for run_id, _ in dead]


@retry_conflicts
def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    finished_at: datetime,
    status: str,
    counts: dict[str, int],
    error: str | None = None,
) -> None:
    """Close the run with its status and counters, and end its leases."""
    unknown = set(counts) - set(RUN_COUNTERS)
    if unknown:
        raise ValueError(f"unknown run counters: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in counts)
    con.execute(
        f"update runs set finished_at = ?, status = ?, error = ?"
        f"{', ' + assignments if assignments else ''} where run_id = ?",
        [finished_at, status, error, *counts.values(), run_id],
    )
    release_leases(con, run_id, finished_at)


def fail_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    exc: BaseException,
    counts: dict[str, int] | None = None,
) -> None:
    """Close the run as failed, with what got done and what stopped it."""
    finish_run(
        con,
        run_id,
        datetime.now(UTC),
        "failed",
        counts or {},
        error=f"{type(exc).__name__}: {exc}",
    )


def _insert_fetches(
    con: duckdb.DuckDBPyConnection, run_id: str, fetches: pl.DataFrame
) -> list[int]:
    """Insert fetch rows and return their ids in frame order."""
    if fetches.is_empty():
        return []
    # A lake has no sequence: the numbers after the largest (its writes are serialized).
    query = (
        "select (select coalesce(max(fetch_id), 0) from fetches) + i from range(1, ? + 1) t(i)"
        if is_lake(con)
        else "select nextval('fetch_id_seq') from range(?)"
    )
    ids = [row[0] for row in con.execute(query, [fetches.height]).fetchall()]
    framed = fetches.with_columns(
        pl.Series("fetch_id", ids, dtype=pl.Int64()), pl.lit(run_id).alias("run_id")
    )
    con.register("incoming_fetches", framed)
    con.execute(
        f"insert into fetches ({_FETCH_COLUMNS}) select {_FETCH_COLUMNS} from incoming_fetches"
    )
    con.unregister("incoming_fetches")
    return ids


# A stored entry as a candidate page row (pages_to_fetch's retried and orphaned pages).
_STORED_ENTRY = (
    "e.feed_id, e.guid, e.url, e.url_key, e.title, e.summary, e.published_at, e.updated_at, "
    "e.authors, e.tags, e.language, coalesce(e.discovered_via, 'feed') as discovered_via, "
    "f.publisher_id"
)


def pages_to_fetch(
    con: duckdb.DuckDBPyConnection, candidates: pl.DataFrame, now: datetime | None = None
) -> pl.DataFrame:
    """Which entry pages to fetch now: new URLs, entries the feed marks as updated, earlier
    transient failures below the attempt limit, and pages a run claimed but ended (or was
    killed) without fetching (``orphaned``: their lease, no longer live at ``now``, is all that
    is left of the claim). Call before :func:`load_feed_batch` stores the entries, so "updated"
    compares against what the feed said last time.

    ``candidates`` has the :data:`transforms.frames.ENTRY_SCHEMA` columns plus ``publisher_id``.
    Returns one row per url_key: url, url_key, feed_id, publisher_id, published_at, title,
    language, discovered_via, reason. A page listed by several sources (a feed and a sitemap
    of one publisher) is one row: a feed's entry wins over a sitemap's (it says more), then the
    lowest feed_id.
    """
    con.register("candidates", candidates)
    transient = ", ".join(f"'{c}'" for c in TRANSIENT_ERRORS)
    frame = con.execute(
        f"""
        with history as (
            select
                url_key,
                count(*) filter (where error_class is not null) as failures,
                bool_or(error_class is not null and error_class not in ({transient}))
                    as permanent_failure,
                bool_or(drop_reason is not null) as dropped
            from fetches
            where kind = 'page' and url_key is not null
            group by url_key
        ),

        fresh as (
            select c.*, 'new' as reason
            from candidates c
            anti join articles a using (url_key)
            left join history h using (url_key)
            where coalesce(h.failures, 0) < {MAX_PAGE_ATTEMPTS}
              and not coalesce(h.permanent_failure, false)
              and not coalesce(h.dropped, false)
        ),

        edited as (
            select c.*, 'updated' as reason
            from candidates c
            join articles a using (url_key)
            join entries e on e.feed_id = c.feed_id and e.guid = c.guid
            where c.updated_at > e.updated_at
        ),

        retried as (
            select {_STORED_ENTRY}, 'retry' as reason
            from entries e
            join feeds f using (feed_id)
            join history h using (url_key)
            anti join articles a using (url_key)
            where h.failures between 1 and {MAX_PAGE_ATTEMPTS - 1}
              and not h.permanent_failure and not h.dropped
              and e.url_key not in (select url_key from candidates)
        ),

        orphaned as (
            select {_STORED_ENTRY}, 'orphaned' as reason
            from entries e
            join feeds f using (feed_id)
            join page_leases l using (url_key)
            anti join articles a using (url_key)
            anti join history h using (url_key)
            where not {live_lease_sql("l")}
              and e.url_key not in (select url_key from candidates)
        ),

        final as (
            select url, url_key, feed_id, publisher_id, published_at, title, language,
                   coalesce(discovered_via, 'feed') as discovered_via, reason
            from (select * from fresh union all by name select * from edited
                  union all by name select * from retried
                  union all by name select * from orphaned)
            qualify row_number() over (
                partition by url_key
                order by coalesce(discovered_via, 'feed') = 'sitemap', feed_id, guid
            ) = 1
        )

        select * from final order by feed_id, url
        """,
        {"now": now or datetime.now(UTC)},
    ).pl()
    con.unregister("candidates")
    return frame


@retry_conflicts
def load_feed_batch(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    fetches: pl.DataFrame,
    entries: pl.DataFrame,
    states: pl.DataFrame,
) -> int:
    """Store feed fetches, upsert entries, update feed_state; return how many entries were new."""
    with transaction(con):
        _insert_fetches(con, run_id, fetches)
        new = None
        if not entries.is_empty():  # all-304 batches carry no entries: skip the upsert
            entries = entries.unique(["feed_id", "guid"], keep="first", maintain_order=True)
            con.register("incoming_entries", entries)
            new = con.execute(
                """
                select count(*) from incoming_entries i
                anti join entries e on e.feed_id = i.feed_id and e.guid = i.guid
                """
            ).fetchone()
            upsert(
                con,
                "entries",
                ("feed_id", "guid"),
                (
                    "feed_id",
                    "guid",
                    "url",
                    "url_key",
                    "title",
                    "summary",
                    "published_at",
                    "updated_at",
                    "authors",
                    "tags",
                    "language",
                    "discovered_via",
                    "first_seen_run",
                    "last_seen_run",
                ),
                """
                select feed_id, guid, url, url_key, title, summary, published_at, updated_at,
                       authors, tags, language,
                       coalesce(discovered_via, 'feed') as discovered_via,
                       $run_id as first_seen_run, $run_id as last_seen_run
                from incoming_entries
                """,
                update="""
                    url = excluded.url, url_key = excluded.url_key, title = excluded.title,
                    summary = excluded.summary, published_at = excluded.published_at,
                    updated_at = excluded.updated_at, authors = excluded.authors,
                    tags = excluded.tags, language = excluded.language,
                    discovered_via = excluded.discovered_via,
                    last_seen_run = excluded.last_seen_run
                """,
                params={"run_id": run_id},
            )
            con.unregister("incoming_entries")
        if not states.is_empty():
            con.register("incoming_states", states)
            con.execute(
                """
                update feed_state set
                    etag = coalesce(s.etag, feed_state.etag),
                    last_modified = coalesce(s.last_modified, feed_state.last_modified),
                    last_status = s.last_status,
                    last_fetch_at = s.fetched_at,
                    last_success_at = case when s.ok then s.fetched_at
                                           else feed_state.last_success_at end,
                    consecutive_failures = case when s.ok then 0
                                                else feed_state.consecutive_failures + 1 end,
                    last_error_class = s.error_class,
                    last_error = s.error,
                    next_check_at = s.next_check_at,
                    interval_s = s.interval_s,
                    next_check_reason = s.reason,
                    retired_at = case when s.retired then s.fetched_at else null end,
                    checks_since_unconditional = case when s.unconditional then 0
                        else coalesce(feed_state.checks_since_unconditional, 0) + 1 end,
                    last_unconditional_at = case when s.unconditional then s.fetched_at
                        else feed_state.last_unconditional_at end,
                    not_modified_count = coalesce(feed_state.not_modified_count, 0)
                        + (s.last_status = 304)::integer,
                    fetch_count = coalesce(feed_state.fetch_count, 0) + 1
                from incoming_states s
                where feed_state.feed_id = s.feed_id
                """
            )
            con.execute(
                """
                update feeds set kind = s.kind, title = coalesce(feeds.title, s.title)
                from incoming_states s
                where feeds.feed_id = s.feed_id and s.kind is not null
                """
            )
            # 301/308: record the move, then follow it (unless another feed has that URL).
            upsert(
                con,
                "feed_moves",
                ("feed_id", "old_url"),
                ("feed_id", "old_url", "new_url", "status", "moved_at"),
                """
                select s.feed_id, f.url as old_url, s.moved_to as new_url,
                       s.moved_status as status, s.fetched_at as moved_at
                from incoming_states s join feeds f using (feed_id)
                where s.moved_to is not null and s.moved_to <> f.url
                """,
            )
            con.execute(
                """
                update feeds set url = s.moved_to
                from incoming_states s
                where feeds.feed_id = s.feed_id and s.moved_to is not null
                  and s.moved_to <> feeds.url
                  and s.moved_to not in (select url from feeds)
                """
            )
            con.unregister("incoming_states")
    return int(new[0]) if new else 0


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """What :func:`load_feed_batch_claiming` stored and claimed."""

    entries_new: int
    pages: pl.DataFrame | None  # the pages this run is to fetch (None: not looked up)
    pages_leased_elsewhere: int


@retry_conflicts
def load_feed_batch_claiming(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    fetches: pl.DataFrame,
    candidates: pl.DataFrame,
    states: pl.DataFrame,
    *,
    find_pages: bool,
    now: datetime,
    lease_s: float,
) -> FeedBatch:
    """One transaction for a group of source results: which pages to fetch
    (:func:`pages_to_fetch` over ``candidates``, when ``find_pages``), less those another live
    run has claimed, claimed for ``run_id``; then the batch stored (:func:`load_feed_batch`)
    and the run's leases renewed. On a lake, a worker whose batch saw the same new URLs as
    another's conflicts at commit and runs again: it then finds them leased (or loaded)."""
    todo = pages_to_fetch(con, candidates, now) if find_pages else None
    elsewhere = 0
    if todo is not None:
        todo, elsewhere = claim_pages(con, run_id, todo, now, lease_s)
    new = load_feed_batch(con, run_id, fetches, candidates.drop("publisher_id"), states)
    renew_leases(con, run_id, now + timedelta(seconds=lease_s))
    return FeedBatch(new, todo, elsewhere)


@dataclass(frozen=True, slots=True)
class PageLoadCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@retry_conflicts
def load_pages(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    fetches: pl.DataFrame,
    frames: ArticleFrames,
    *,
    refresh_unchanged: bool = False,
    keep_existing: bool = False,
) -> PageLoadCounts:
    """Store one batch of page fetches, raw pages and articles in one transaction.

    ``fetch_index`` columns point at rows of ``fetches``; rows that already carry a
    ``fetch_id`` (re-extraction of a stored page) keep it. A known url_key with the same
    content hash only moves ``last_seen_at`` — unless ``refresh_unchanged`` (re-extraction),
    which also refreshes metadata, ``extractor_version`` and the removed-spans/images/links
    tables. With a new hash the article takes the new text and version + 1, and
    ``article_versions`` keeps every version's text. ``keep_existing`` (backfills: an archived
    copy is older than what the warehouse holds) leaves known articles as they are and counts
    them as unchanged.
    """
    with transaction(con):
        fetch_ids = _insert_fetches(con, run_id, fetches)
        id_map = pl.DataFrame(
            {"fetch_index": range(len(fetch_ids)), "new_fetch_id": fetch_ids},
            schema={"fetch_index": pl.Int32(), "new_fetch_id": pl.Int64()},
        )
        if not frames.raw_pages.is_empty():
            raw = frames.raw_pages.join(id_map, on="fetch_index", how="inner")
            con.register("incoming_raw", raw)
            upsert(
                con,
                "raw_pages",
                ("fetch_id",),
                ("fetch_id", "url", "content_type", "fetched_at", "encoding", "body"),
                """
                select new_fetch_id as fetch_id, url, content_type, fetched_at, encoding, body
                from incoming_raw
                """,
            )
            con.unregister("incoming_raw")
        if frames.articles.is_empty():
            return PageLoadCounts()
        incoming = (
            frames.articles.join(id_map, on="fetch_index", how="left")
            .with_columns(pl.coalesce("fetch_id", "new_fetch_id").alias("fetch_id"))
            .drop("fetch_index", "new_fetch_id")
        )
        con.register("incoming_articles", incoming)
        con.execute(
            """
            create or replace temp table batch_status as
            select i.url_key,
                   case when a.url_key is null then 'new'
                        when a.content_hash = i.content_hash then 'unchanged'
                        else 'updated' end as status
            from incoming_articles i left join articles a using (url_key)
            """
        )
        if keep_existing:
            con.execute("update batch_status set status = 'known' where status <> 'new'")
        refreshed = "('updated', 'unchanged')" if refresh_unchanged else "('updated')"
        con.execute(
            f"""
            update articles set
                title = i.title, text = i.text, description = i.description,
                language = i.language, language_source = i.language_source,
                html_lang = i.html_lang,
                published_at = coalesce(i.published_at, articles.published_at),
                modified_at = i.modified_at, date_source = i.date_source,
                last_seen_at = greatest(i.seen_at, articles.last_seen_at),
                word_count = i.word_count,
                content_hash = i.content_hash,
                version = articles.version + (b.status = 'updated')::integer,
                extractor_version = i.extractor_version, fetch_id = i.fetch_id,
                is_paywalled = i.is_paywalled, charset = i.charset,
                charset_source = i.charset_source
            from incoming_articles i join batch_status b using (url_key)
            where articles.url_key = i.url_key and b.status in {refreshed}
            """
        )
        if not refresh_unchanged:
            con.execute(
                """
                update articles set last_seen_at = i.seen_at
                from incoming_articles i join batch_status b using (url_key)
                where articles.url_key = i.url_key and b.status = 'unchanged'
                """
            )
        # A lake has no sequence: new articles take the numbers after the largest, in batch
        # order (writes there are serialized).
        id_column, id_value = "", ""
        if is_lake(con):
            id_column = "article_id, "
            id_value = (
                "(select coalesce(max(article_id), 0) from articles) "
                "+ row_number() over (order by i.url_key), "
            )
        con.execute(
            f"""
            insert into articles ({id_column}url_key, canonical_url, url, publisher_id, feed_id,
                title, text, description, language, language_source, html_lang, published_at,
                modified_at, date_source, first_seen_at, last_seen_at, word_count, content_hash,
                version,
                extractor_version, fetch_id, is_paywalled, charset, charset_source,
                discovered_via, captured_at)
            select {id_value}i.url_key, i.canonical_url, i.url, i.publisher_id, i.feed_id,
                i.title, i.text,
                i.description, i.language, i.language_source, i.html_lang, i.published_at,
                i.modified_at, i.date_source, i.seen_at, i.seen_at, i.word_count, i.content_hash,
                1, i.extractor_version, i.fetch_id, i.is_paywalled, i.charset, i.charset_source,
                i.discovered_via, i.captured_at
            from incoming_articles i join batch_status b using (url_key)
            where b.status = 'new'
            """
        )
        upsert(
            con,
            "article_versions",
            ("article_id", "version"),
            ("article_id", "version", "content_hash", "title", "text", "seen_at", "fetch_id"),
            # The text (and what was set with it) from the batch, not from `articles`: a join
            # there would read every stored article's text, on every batch.
            """
            select a.article_id, a.version, i.content_hash, i.title, i.text,
                   a.last_seen_at as seen_at, a.fetch_id
            from batch_status b join incoming_articles i using (url_key)
            join articles a using (url_key)
            where b.status in ('new', 'updated')
            """,
        )
        touched = "('new', 'updated', 'unchanged')" if refresh_unchanged else "('new', 'updated')"
        con.execute(
            f"""
            create or replace temp table touched as
            select a.article_id, a.url_key, b.status <> 'new' as known
            from articles a join batch_status b using (url_key)
            where b.status in {touched}
            """
        )
        _replace_links(con, frames)
        counts = dict(
            con.execute("select status, count(*) from batch_status group by status").fetchall()
        )
        con.unregister("incoming_articles")
        con.execute("drop table batch_status")
        con.execute("drop table touched")
    return PageLoadCounts(
        new=counts.get("new", 0),
        updated=counts.get("updated", 0),
        unchanged=counts.get("unchanged", 0) + counts.get("known", 0),
    )


def _replace_links(con: duckdb.DuckDBPyConnection, frames: ArticleFrames) -> None:
    """Authors, tags, images, links and removed spans of the ``touched`` articles, replaced.

    Written as a difference: rows of a touched article that are not in the batch (or differ in
    any column) are deleted, rows of the batch the table lacks are inserted. That leaves the same
    rows as deleting and re-inserting them all, without deleting and re-indexing the rows an
    updated text left as they were (usually all of them)."""
    con.register("incoming_authors", frames.authors)
    con.register("incoming_tags", frames.tags)
    con.register("incoming_images", frames.images)
    con.register("incoming_links", frames.links)
    con.register("incoming_removed", frames.removed)
    upsert(
        con,
        "authors",
        ("name", "kind"),
        ("name", "kind"),
        "select distinct i.name, i.kind from incoming_authors i join touched using (url_key)",
        new_id=("author_id", "author_id_seq", "name, kind"),
    )
    upsert(
        con,
        "tags",
        ("name",),
        ("name",),
        "select distinct i.name from incoming_tags i join touched using (url_key)",
        new_id=("tag_id", "tag_id_seq", "name"),
    )
    # (table, key columns after article_id, other columns, the rows the touched articles get)
    children = (
        (
            "article_authors",
            ("author_id",),
            ("position",),
            """
            select t.article_id, au.author_id, min(i.position) as position
            from incoming_authors i join touched t using (url_key)
            join authors au on au.name = i.name and au.kind = i.kind
            group by all
            """,
        ),
        (
            "article_tags",
            ("tag_id",),
            (),
            """
            select distinct t.article_id, tg.tag_id
            from incoming_tags i join touched t using (url_key) join tags tg on tg.name = i.name
            """,
        ),
        (
            "images",
            ("position",),
            ("url", "caption", "credit", "alt"),
            """
            select t.article_id, i.position, i.url, i.caption, i.credit, i.alt
            from incoming_images i join touched t using (url_key)
            """,
        ),
        (
            "links",
            ("url", "kind"),
            ("anchor_text",),
            """
            select t.article_id, i.url, i.anchor_text, i.kind
            from incoming_links i join touched t using (url_key)
            """,
        ),
        (
            "removed_spans",
            ("position",),
            ("rule", "text"),
            """
            select t.article_id, i.position, i.rule, i.text
            from incoming_removed i join touched t using (url_key)
            """,
        ),
    )
    # Articles new to the warehouse hold no such rows: theirs are only inserted.
    known = con.execute("select count(*) from touched where known").fetchone()
    for table, keys, values, wanted in children:
        columns = ", ".join(("article_id", *keys, *values))
        if not known or not known[0]:
            con.execute(f"insert into {table} ({columns}) select {columns} from ({wanted})")
            continue
        same_key = [f"w.{c} = {table}.{c}" for c in ("article_id", *keys)]
        same_row = " and ".join(
            (*same_key, *(f"w.{c} is not distinct from {table}.{c}" for c in values))
        )
        held = f"{table}.article_id in (select article_id from touched where known)"
        con.execute(
            f"delete from {table} where {held} "
            f"and not exists (select 1 from ({wanted}) w where {same_row})"
        )
        # What a known article still holds is what it should hold: insert what it lacks.
        con.execute(
            f"""
            insert into {table} ({columns})
            select {columns} from ({wanted}) w
            where not exists (select 1 from {table} where {held} and {" and ".join(same_key)})
            """
        )
    for name in ("authors", "tags", "images", "links", "removed"):
        con.unregister(f"incoming_{name}")
