"""What a run tells people: a Prefect markdown artifact per run, and source-health events.

Run report
    :func:`run_report_data` reads a run's figures from the warehouse (fetch errors by class, and
    per feed: feed status, pages, articles); :func:`publish_run_report` turns them, with the
    run's counts, into a markdown artifact keyed ``ingest-run-report`` (one version per run).

Health events (``prefect.events.emit_event``; the resource of each is the feed)
    ``newsdesk.source.failing``
        a feed failed ``failing_after`` times in a row (``NEWSDESK_FAILING_AFTER``, default 3).
        Payload: feed_id, feed_url, publisher, consecutive_failures, threshold,
        last_error_class, last_error, last_fetch_at, last_success_at.
    ``newsdesk.source.silent``
        a feed that still answers brought no new entry for ``silent_factor`` times its usual
        interval (``NEWSDESK_SILENT_FACTOR``, default 3): the median gap between the last
        ``silent_window`` runs that brought it new entries, known once it has brought new
        entries ``silent_min_arrivals`` times (default 5). Only counted when a successful
        fetch came after that threshold, so a paused schedule makes no source silent, and
        not for feeds already failing. Payload: feed_id, feed_url, publisher,
        last_arrival_at, usual_interval_s, silent_for_s, threshold_factor.
    ``newsdesk.check.failed``
        a data check found offending rows (resource ``newsdesk.check.<name>``). Payload:
        check, severity, offending, title, sample (up to 5 rows).

    Feed events have the resource id ``newsdesk.feed.<feed_id>`` (name: the feed URL, label
    ``newsdesk.publisher``) and the related resource ``newsdesk.publisher.<publisher_id>``
    (role ``publisher``). Each failure streak and each silence is announced once: the
    ``health_events`` table records what was sent (episode = the last success before the
    streak, or the last arrival before the silence). Nothing is sent or recorded without a
    Prefect server (``PREFECT_API_URL`` unset: a local run on Prefect's temporary API, where
    events would vanish with it), so a scheduled run announces it later.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import duckdb
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.settings import get_current_settings
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from warehouse.checks import CheckResult
from warehouse.db import retry_conflicts, upsert

__all__ = [
    "CHECK_FAILED",
    "COUNT_LABELS",
    "MAINTENANCE_REPORT_KEY",
    "RUN_REPORT_KEY",
    "SOURCE_FAILING",
    "SOURCE_SILENT",
    "HealthSettings",
    "HealthSignal",
    "emit_check_events",
    "emit_health_events",
    "health_signals",
    "publish_maintenance_report",
    "publish_run_report",
    "render_run_report",
    "run_report_data",
]

RUN_REPORT_KEY = "ingest-run-report"
MAINTENANCE_REPORT_KEY = "maintenance-report"
SOURCE_FAILING = "newsdesk.source.failing"
SOURCE_SILENT = "newsdesk.source.silent"
CHECK_FAILED = "newsdesk.check.failed"

# The run counters (runs columns, ingest's summary keys) as people read them.
COUNT_LABELS = {
    "feeds_total": "feeds due",
    "feeds_fetched": "feeds fetched",
    "feeds_not_modified": "feeds not modified (304)",
    "feeds_failed": "feeds failed",
    "entries_seen": "entries seen",
    "entries_new": "entries new",
    "pages_fetched": "pages fetched",
    "articles_new": "articles new",
    "articles_updated": "articles updated (new version)",
    "articles_unchanged": "articles unchanged",
    "articles_dropped": "pages without article",
    "articles_failed": "pages failed",
    "articles_copies": "articles that copy a known story",
    "feeds_leased_elsewhere": "feeds due but held by another worker",
    "pages_leased_elsewhere": "pages left to another worker",
    "chunks_leased_elsewhere": "backfill chunks left to another worker",
}


class HealthSettings(BaseSettings):
    """Thresholds of the health events, from ``NEWSDESK_*`` like the other settings."""

    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore")

    failing_after: int = Field(3, ge=1, description="Failures in a row that make a feed failing.")
    silent_factor: float = Field(
        3.0, gt=0, description="Silent after this many times the feed's usual interval."
    )
    silent_min_arrivals: int = Field(
        5, ge=2, description="Runs with new entries needed before a usual interval is known."
    )
    silent_window: int = Field(20, ge=2, description="Recent arrivals the usual interval uses.")


@dataclass(frozen=True, slots=True)
class HealthSignal:
    event: str  # SOURCE_FAILING | SOURCE_SILENT
    feed_id: int
    feed_url: str
    publisher_id: int
    publisher: str
    episode: str
    payload: dict[str, Any]


# --- run report ---------------------------------------------------------------------------


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def run_report_data(
    con: duckdb.DuckDBPyConnection, run_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(errors_by_class, per_source)`` of one run, as rows for :func:`publish_run_report`.

    errors_by_class: kind, error_class, fetches, feeds, example (one error message); a
    robots.txt answering 4xx is not an error (it means "no rules").
    per_source (one row per feed the run fetched): publisher, feed_url, feed_status,
    feed_error_class, pages, pages_failed, pages_dropped, articles_new, articles_updated.
    """
    errors = _records(
        con.execute(
            """
            select kind, error_class, count(*) as fetches, count(distinct feed_id) as feeds,
                   min(error) as example
            from fetches
            where run_id = $run_id and error_class is not null
              -- a robots.txt answering 4xx means "no rules" (RFC 9309), not a failure
              and not (kind = 'robots' and status between 400 and 499)
            group by kind, error_class
            order by fetches desc, kind, error_class
            """,
            {"run_id": run_id},
        )
    )
    per_source = _records(
        con.execute(
            """
            with run_fetches as (
                -- A sitemap source is polled like a feed (its child sitemaps too).
                select * from fetches
                where run_id = $run_id and kind in ('feed', 'sitemap', 'page')
            ),
            by_feed as (
                select
                    feed_id,
                    max(status) filter (where kind in ('feed', 'sitemap')) as feed_status,
                    max(error_class) filter (where kind in ('feed', 'sitemap'))
                        as feed_error_class,
                    count(*) filter (where kind = 'page') as pages,
                    count(*) filter (where kind = 'page' and error_class is not null)
                        as pages_failed,
                    count(*) filter (where kind = 'page' and drop_reason is not null)
                        as pages_dropped
                from run_fetches
                group by feed_id
            ),
            run_articles as (
                select
                    a.feed_id,
                    count(*) filter (where a.version = 1) as articles_new,
                    count(*) filter (where a.version > 1) as articles_updated
                from articles as a
                join run_fetches as f on f.fetch_id = a.fetch_id
                group by a.feed_id
            )
            select
                p.name as publisher,
                fd.url as feed_url,
                b.feed_status,
                b.feed_error_class,
                b.pages,
                b.pages_failed,
                b.pages_dropped,
                coalesce(r.articles_new, 0) as articles_new,
                coalesce(r.articles_updated, 0) as articles_updated
            from by_feed as b
            left join feeds as fd using (feed_id)
            left join publishers as p using (publisher_id)
            left join run_articles as r using (feed_id)
            order by publisher, feed_url
            """,
            {"run_id": run_id},
        )
    )
    return errors, per_source


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    text = " ".join(text.split())
    if len(text) > 120:
        text = text[:119] + "…"
    return text.replace("|", "\\|")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# Report columns: row key -> header.
_ERROR_COLUMNS = {
    "kind": "kind",
    "error_class": "error class",
    "fetches": "fetches",
    "feeds": "feeds",
    "example": "example",
}
_SOURCE_COLUMNS = {
    "publisher": "publisher",
    "feed_url": "feed",
    "feed_status": "feed status",
    "feed_error_class": "feed error",
    "pages": "pages",
    "pages_failed": "pages failed",
    "pages_dropped": "pages dropped",
    "articles_new": "articles new",
    "articles_updated": "articles updated",
}


def _columns_table(columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> str:
    return _table(list(columns.values()), [[row.get(key) for key in columns] for row in rows])


def render_run_report(
    summary: dict[str, Any],
    errors_by_class: Sequence[dict[str, Any]],
    per_source: Sequence[dict[str, Any]],
) -> str:
    """The markdown of a run report (see :func:`publish_run_report`)."""
    run_id = summary.get("run_id", "?")
    parts = [
        f"# Ingest run `{run_id}`",
        f"Status: **{summary.get('status', '?')}** · "
        f"{summary.get('articles_new', 0)} new articles, "
        f"{summary.get('articles_updated', 0)} updated, "
        f"{summary.get('feeds_failed', 0)} feeds and "
        f"{summary.get('articles_failed', 0)} pages failed.",
        "## Counts",
        _table(
            ["counter", "value"],
            [(label, summary.get(key, 0)) for key, label in COUNT_LABELS.items()],
        ),
        "## Errors by class",
    ]
    if errors_by_class:
        parts.append(_columns_table(_ERROR_COLUMNS, errors_by_class))
    else:
        parts.append("No fetch failed.")
    parts.append("## Per source")
    if per_source:
        parts.append(_columns_table(_SOURCE_COLUMNS, per_source))
    else:
        parts.append("No feed was due.")
    return "\n\n".join(parts) + "\n"


def publish_run_report(
    summary: dict[str, Any],
    errors_by_class: Sequence[dict[str, Any]],
    per_source: Sequence[dict[str, Any]],
) -> UUID:
    """Create the run's markdown artifact (key ``ingest-run-report``); returns its id.

    Call it inside the flow run, so the artifact is attached to it."""
    markdown = render_run_report(summary, errors_by_class, per_source)
    artifact_id = create_markdown_artifact(
        markdown=markdown,
        key=RUN_REPORT_KEY,
        description=f"newsdesk ingest run {summary.get('run_id', '?')}: counts, errors, sources",
        _sync=True,  # type: ignore[call-arg]  # async_dispatch: run the sync implementation
    )
    assert isinstance(artifact_id, UUID)
    return artifact_id


def publish_maintenance_report(summary: dict[str, Any], results: Sequence[CheckResult]) -> UUID:
    """The maintenance run's markdown artifact (key ``maintenance-report``): its steps and
    every check's outcome, with the first offending rows of failing checks."""
    parts = [
        f"# Maintenance run `{summary.get('run_id', '?')}`",
        _table(
            ["step", "result"],
            [(k, v) for k, v in summary.items() if k not in ("run_id", "checks")],
        ),
        "## Checks",
        _table(
            ["check", "severity", "status", "offending", "looks for"],
            [(r.name, r.severity, r.status, r.offending, r.title) for r in results],
        ),
    ]
    for r in results:
        if r.status == "error":
            parts.append(f"### {r.name}: could not run\n\n{_cell(r.error)}")
        elif r.sample:
            shown = r.sample[:10]
            parts.append(
                f"### {r.name}: {r.offending} offending rows (first {len(shown)})\n\n"
                + _table(r.columns, [[row.get(c) for c in r.columns] for row in shown])
            )
    artifact_id = create_markdown_artifact(
        markdown="\n\n".join(parts) + "\n",
        key=MAINTENANCE_REPORT_KEY,
        description="newsdesk maintenance: views refreshed, data checks",
        _sync=True,  # type: ignore[call-arg]  # async_dispatch: run the sync implementation
    )
    assert isinstance(artifact_id, UUID)
    return artifact_id


# --- health events ------------------------------------------------------------------------

_FAILING_SQL = """
select
    f.feed_id,
    f.url as feed_url,
    p.publisher_id,
    p.name as publisher,
    s.consecutive_failures,
    s.last_error_class,
    s.last_error,
    s.last_fetch_at,
    s.last_success_at,
    coalesce(s.last_success_at, f.added_at) as streak_after
from feed_state as s
join feeds as f using (feed_id)
join publishers as p using (publisher_id)
where f.enabled and s.retired_at is null and s.consecutive_failures >= $failing_after
order by f.feed_id
"""

# Arrivals: the start of each run that brought a feed new entries (entries.first_seen_run).
_SILENT_SQL = """
with arrivals as (
    select distinct e.feed_id, r.started_at as arrived_at
    from entries as e
    join runs as r on r.run_id = e.first_seen_run
),
recent as (
    select
        feed_id,
        arrived_at,
        epoch(arrived_at) - lag(epoch(arrived_at)) over (
            partition by feed_id order by arrived_at
        ) as gap_s
    from arrivals
    qualify row_number() over (partition by feed_id order by arrived_at desc) <= $last_n
),
usual as (
    select
        feed_id,
        count(*) as arrivals,
        max(arrived_at) as last_arrival_at,
        median(gap_s) as usual_interval_s
    from recent
    group by feed_id
)
select
    f.feed_id,
    f.url as feed_url,
    p.publisher_id,
    p.name as publisher,
    u.last_arrival_at,
    u.usual_interval_s,
    s.last_success_at
from usual as u
join feeds as f using (feed_id)
join publishers as p using (publisher_id)
join feed_state as s using (feed_id)
where f.enabled
  and s.retired_at is null
  and s.consecutive_failures < $failing_after
  and u.arrivals >= $min_arrivals
  and u.usual_interval_s > 0
  and epoch(s.last_success_at) - epoch(u.last_arrival_at) > $factor * u.usual_interval_s
order by f.feed_id
"""


def health_signals(
    con: duckdb.DuckDBPyConnection, now: datetime, settings: HealthSettings | None = None
) -> list[HealthSignal]:
    """Feeds failing or silent as of ``now`` (whether or not they were announced already)."""
    cfg = settings or HealthSettings()
    signals = []
    failing = con.execute(_FAILING_SQL, {"failing_after": cfg.failing_after})
    for row in _records(failing):
        payload = {
            "feed_id": row["feed_id"],
            "feed_url": row["feed_url"],
            "publisher": row["publisher"],
            "consecutive_failures": row["consecutive_failures"],
            "threshold": cfg.failing_after,
            "last_error_class": row["last_error_class"],
            "last_error": row["last_error"],
            "last_fetch_at": _iso(row["last_fetch_at"]),
            "last_success_at": _iso(row["last_success_at"]),
        }
        signals.append(_signal(SOURCE_FAILING, row, _iso(row["streak_after"]), payload))
    silent = con.execute(
        _SILENT_SQL,
        {
            "failing_after": cfg.failing_after,
            "min_arrivals": cfg.silent_min_arrivals,
            "last_n": cfg.silent_window,
            "factor": cfg.silent_factor,
        },
    )
    for row in _records(silent):
        payload = {
            "feed_id": row["feed_id"],
            "feed_url": row["feed_url"],
            "publisher": row["publisher"],
            "last_arrival_at": _iso(row["last_arrival_at"]),
            "usual_interval_s": round(float(row["usual_interval_s"]), 1),
            "silent_for_s": round((now - row["last_arrival_at"]).total_seconds(), 1),
            "threshold_factor": cfg.silent_factor,
        }
        signals.append(_signal(SOURCE_SILENT, row, _iso(row["last_arrival_at"]), payload))
    return signals


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _signal(
    event: str, row: dict[str, Any], episode: str | None, payload: dict[str, Any]
) -> HealthSignal:
    return HealthSignal(
        event,
        row["feed_id"],
        row["feed_url"],
        row["publisher_id"],
        row["publisher"],
        episode or "",
        payload,
    )


def _events_reach_a_server() -> bool:
    """Whether a Prefect server keeps what we emit. Without ``PREFECT_API_URL`` (a local
    ``newsdesk ingest`` on Prefect's temporary API) events would vanish with that API."""
    return get_current_settings().api.url is not None


def emit_health_events(
    con: duckdb.DuckDBPyConnection, now: datetime, settings: HealthSettings | None = None
) -> list[HealthSignal]:
    """Send ``newsdesk.source.failing`` / ``newsdesk.source.silent`` for each episode not
    announced yet and record it in ``health_events``; returns the signals sent. Needs the
    write connection and the migrated schema (006). Sends nothing (and records nothing, so
    a later run announces it) when no Prefect server is configured."""
    if not _events_reach_a_server():
        return []
    announced = {
        (feed_id, event, episode)
        for feed_id, event, episode in con.execute(
            "select feed_id, event, episode from health_events"
        ).fetchall()
    }
    sent = []
    for signal in health_signals(con, now, settings):
        if (signal.feed_id, signal.event, signal.episode) in announced:
            continue
        event = emit_event(
            event=signal.event,
            resource={
                "prefect.resource.id": f"newsdesk.feed.{signal.feed_id}",
                "prefect.resource.name": signal.feed_url,
                "newsdesk.publisher": signal.publisher,
            },
            related=[
                {
                    "prefect.resource.id": f"newsdesk.publisher.{signal.publisher_id}",
                    "prefect.resource.role": "publisher",
                    "prefect.resource.name": signal.publisher,
                }
            ],
            payload=signal.payload,
            occurred=now,
        )
        if event is None:  # no API takes events here: try again next time
            continue
        sent.append(signal)
    if sent:
        _record_health_events(
            con,
            [
                (s.feed_id, s.event, s.episode, now, json.dumps(s.payload, ensure_ascii=False))
                for s in sent
            ],
        )
    return sent


@retry_conflicts
def _record_health_events(
    con: duckdb.DuckDBPyConnection, rows: list[tuple[int, str, str, datetime, str]]
) -> None:
    """The events sent, each episode once (another worker may have announced it too)."""
    columns = ("feed_id", "event", "episode", "emitted_at", "payload")
    con.execute(
        "create or replace temp table sent_health_events "
        "(feed_id integer, event varchar, episode varchar, emitted_at timestamptz, payload json)"
    )
    con.executemany("insert into sent_health_events values (?, ?, ?, ?, ?)", rows)
    upsert(
        con,
        "health_events",
        ("feed_id", "event", "episode"),
        columns,
        "select distinct on (feed_id, event, episode) * from sent_health_events",
    )
    con.execute("drop table sent_health_events")


def emit_check_events(results: Sequence[CheckResult], now: datetime) -> int:
    """Send ``newsdesk.check.failed`` for each failing check; returns how many were sent
    (none when no Prefect server is configured)."""
    if not _events_reach_a_server():
        return 0
    sent = 0
    for r in results:
        if r.status != "fail":
            continue
        event = emit_event(
            event=CHECK_FAILED,
            resource={"prefect.resource.id": f"newsdesk.check.{r.name}"},
            payload={
                "check": r.name,
                "severity": r.severity,
                "offending": r.offending,
                "title": r.title,
                "sample": r.sample[:5],
            },
            occurred=now,
        )
        sent += event is not None
    return sent
