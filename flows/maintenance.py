"""The nightly ``maintenance`` flow: refresh the schema and views, check the data, announce.

Steps, each a task that holds the warehouse only for its own short transaction:

1. ``refresh-views``: apply pending migrations and rebuild every view (``warehouse.migrate``).
2. ``run-checks``: every ``warehouse/checks/*.sql``; results go to ``check_results``.
3. ``health-events``: ``newsdesk.source.failing`` / ``newsdesk.source.silent`` for episodes not
   announced yet, and ``newsdesk.check.failed`` for failing checks (:mod:`flows.reporting`).
4. the full-text search index, refreshed when articles changed (the changed ones only);
5. ``export-parquet`` when ``export_dir`` is given: every table as Parquet
   (``warehouse.export.export_warehouse``; one consistent read-only snapshot).
6. A ``maintenance-report`` markdown artifact with the steps and the checks' outcomes.

Raw captures need no step here: the capture writer rotates its WARC files by size as it
writes, and fetch rows point into them, so old files are not removed behind their backs.

The run is recorded in ``runs`` (flow ``maintenance``) like ingest and reextract runs.
Failing checks do not fail the flow: failing data is data, reported and announced.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.ingest import WRITE_WAIT_SECONDS, open_warehouse, refresh_search
from flows.reporting import (
    HealthSettings,
    emit_check_events,
    emit_health_events,
    publish_maintenance_report,
)
from warehouse import load
from warehouse.checks import CheckResult, run_checks
from warehouse.db import connect
from warehouse.export import export_warehouse
from warehouse.migrate import migrate

__all__ = ["maintenance"]


@task(name="refresh-views", cache_policy=NO_CACHE)
def refresh_views(db: str) -> list[str]:
    """Apply pending migrations and rebuild the views; returns the migrations applied now."""
    with open_warehouse(db) as con:
        return migrate(con)


@task(name="run-checks", cache_policy=NO_CACHE)
def check_data(db: str, now: datetime, run_id: str) -> list[CheckResult]:
    with open_warehouse(db) as con:
        return run_checks(con, now, run_id=run_id)


@task(name="health-events", cache_policy=NO_CACHE)
def announce_health(db: str, now: datetime, settings: HealthSettings) -> list[str]:
    """Emit the health events not sent yet; returns ``event feed_url`` for each one sent."""
    with open_warehouse(db) as con:
        signals = emit_health_events(con, now, settings)
    return [f"{s.event} {s.feed_url}" for s in signals]


@task(name="export-parquet", cache_policy=NO_CACHE)
def export_parquet(db: str, export_dir: str) -> int:
    """Export every table to Parquet under ``export_dir``; returns the rows written."""
    con = connect(db, read_only=True, wait_seconds=WRITE_WAIT_SECONDS)
    try:
        return sum(table.rows for table in export_warehouse(con, export_dir))
    finally:
        con.close()


@flow(name="maintenance")
def maintenance(db: str = "data/newsdesk.duckdb", export_dir: str | None = None) -> dict[str, Any]:
    """Refresh views (re-run migrations), run the data checks, emit health events, and export
    the tables to Parquet under ``export_dir`` (none when empty)."""
    if not db:  # an unset Prefect variable in the deployment's parameters
        raise ValueError("no warehouse path (db is empty): set newsdesk_db and deploy again")
    logger = get_run_logger()
    run_id = str(flow_run.id or uuid.uuid4())
    now = datetime.now(UTC)
    health = HealthSettings()
    applied = refresh_views(db)
    with open_warehouse(db) as con:
        load.start_run(con, run_id, "maintenance", now)
    try:
        results = check_data(db, now, run_id)
        announced = announce_health(db, now, health)
        check_events = emit_check_events(results, now)
        refresh_search(db)  # a safety net: ingest and reextract refresh it after their loads
        exported = export_parquet(db, export_dir) if export_dir else None
    except BaseException as exc:
        with open_warehouse(db) as con:
            load.fail_run(con, run_id, exc)
        raise
    with open_warehouse(db) as con:
        load.finish_run(
            con, run_id, datetime.now(UTC), "completed", dict.fromkeys(load.RUN_COUNTERS, 0)
        )
    failed = [r.name for r in results if r.status != "pass"]
    summary: dict[str, Any] = {
        "run_id": run_id,
        "status": "completed",
        "migrations_applied": len(applied),
        "checks": len(results),
        "checks_failed": len(failed),
        "failed_checks": ", ".join(failed),
        "health_events": len(announced),
        "check_events": check_events,
        "exported_rows": exported,
        "export_dir": export_dir or None,
    }
    for line in announced:
        logger.warning("health event: %s", line)
    if failed:
        logger.warning("checks not passing: %s", ", ".join(failed))
    publish_maintenance_report(summary, results)
    logger.info("maintenance %s: %s", run_id, summary)
    return summary
