"""Backfill bookkeeping: jobs, their chunks, and which chunks are finished.

A job is named by what it was started with (via, target, window, chunk unit), so running the same
``newsdesk backfill`` command again resumes it. A chunk is matched by its label (a day, a week, a
file), so a chunk list that grows (a new WARC file in the folder) keeps the finished ones. A
chunk's `done` mark is written in the caller's transaction with the chunk's articles
(:func:`finish_chunk` inside :func:`warehouse.load.transaction`): after a crash a chunk is either
loaded and done, or neither.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import duckdb

from transforms.urls import registrable_domain
from warehouse.db import next_id_sql, retry_conflicts, transaction, upsert
from warehouse.load import live_lease_sql, reap_dead_runs

# A chunk's lease is held by a live run (the same rule as feed and page leases).
_CHUNK_LEASE_LIVE = live_lease_sql("backfill_chunks", "claimed_by", "lease_expires_at")

__all__ = [
    "CHUNK_COUNTS",
    "ChunkCounts",
    "ChunkPlan",
    "ChunkRow",
    "claim_chunks",
    "close_job",
    "fail_chunk",
    "finish_chunk",
    "job_chunks",
    "job_id_for",
    "list_jobs",
    "open_job",
    "publishers_for_domains",
    "record_progress",
    "renew_chunk_leases",
]


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    label: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChunkRow:
    index: int
    label: str
    starts_at: datetime | None
    ends_at: datetime | None
    status: str  # pending | done | failed
    attempts: int
    resume_offset: int | None = None  # WARC: where the next batch of records starts


@dataclass(frozen=True, slots=True)
class ChunkCounts:
    """What a chunk (or a batch of one) did; each field is a column of backfill_chunks."""

    urls_found: int = 0
    pages_fetched: int = 0
    articles_new: int = 0
    articles_known: int = 0
    articles_dropped: int = 0
    failures: int = 0

    def __add__(self, other: ChunkCounts) -> ChunkCounts:
        return ChunkCounts(*(getattr(self, n) + getattr(other, n) for n in CHUNK_COUNTS))


# The counters, in order: ChunkCounts' fields and backfill_chunks' columns.
CHUNK_COUNTS: tuple[str, ...] = tuple(f.name for f in fields(ChunkCounts))


def job_id_for(
    via: str, target: str, since: datetime | None, until: datetime | None, unit: str
) -> str:
    """The job's name: the same request always gives the same id (that is how it resumes)."""
    key = json.dumps(
        [
            via,
            target,
            since.isoformat() if since else None,
            until.isoformat() if until else None,
            unit,
        ]
    )
    return f"{via}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


@retry_conflicts
def open_job(
    con: duckdb.DuckDBPyConnection,
    job_id: str,
    *,
    via: str,
    target: str,
    since: datetime | None,
    until: datetime | None,
    unit: str,
    plans: Sequence[ChunkPlan],
    run_id: str,
    now: datetime,
    params: dict[str, Any] | None = None,
) -> list[ChunkRow]:
    """Create the job, or pick it up again; add chunks not planned before; return all chunks."""
    with transaction(con):
        upsert(
            con,
            "backfill_jobs",
            ("job_id",),
            (
                "job_id",
                "via",
                "target",
                "since",
                "until",
                "chunk_unit",
                "status",
                "created_at",
                "updated_at",
                "last_run_id",
                "params",
            ),
            """
            select $job as job_id, $via as via, $target as target, $since as since,
                   $until as until, $unit as chunk_unit, 'running' as status,
                   $now as created_at, $now as updated_at, $run as last_run_id,
                   $params::json as params
            """,
            update="status = 'running', updated_at = excluded.updated_at, "
            "last_run_id = excluded.last_run_id, finished_at = null",
            params={
                "job": job_id,
                "via": via,
                "target": target,
                "since": since,
                "until": until,
                "unit": unit,
                "now": now,
                "run": run_id,
                "params": json.dumps(params or {}, default=str),
            },
        )
        known = {
            label
            for (label,) in con.execute(
                "select label from backfill_chunks where job_id = ?", [job_id]
            ).fetchall()
        }
        row = con.execute(
            "select coalesce(max(chunk_index) + 1, 0) from backfill_chunks where job_id = ?",
            [job_id],
        ).fetchone()
        next_index = int(row[0]) if row else 0
        for plan in plans:
            if plan.label in known:
                continue
            known.add(plan.label)
            con.execute(
                """
                insert into backfill_chunks (job_id, chunk_index, label, starts_at, ends_at,
                                             status)
                values (?, ?, ?, ?, ?, 'pending')
                """,
                [job_id, next_index, plan.label, plan.starts_at, plan.ends_at],
            )
            next_index += 1
    return job_chunks(con, job_id)


def job_chunks(con: duckdb.DuckDBPyConnection, job_id: str) -> list[ChunkRow]:
    rows = con.execute(
        """
        select chunk_index, label, starts_at, ends_at, status, attempts, resume_offset
        from backfill_chunks where job_id = ? order by chunk_index
        """,
        [job_id],
    ).fetchall()
    return [ChunkRow(*row) for row in rows]


@retry_conflicts
def finish_chunk(
    con: duckdb.DuckDBPyConnection,
    job_id: str,
    index: int,
    counts: ChunkCounts,
    run_id: str,
    now: datetime,
) -> None:
    """Mark a chunk done; call it in the transaction that loads the chunk's (last) articles.
    ``counts`` add to what earlier batches of the chunk recorded (:func:`record_progress`)."""
    with transaction(con):
        con.execute(
            f"""
            update backfill_chunks set status = 'done', attempts = attempts + 1,
                {", ".join(f"{c} = {c} + ?" for c in CHUNK_COUNTS)},
                error_class = null, error = null, run_id = ?, finished_at = ?,
                resume_offset = null
            where job_id = ? and chunk_index = ? and status <> 'done'
            """,
            [*(getattr(counts, c) for c in CHUNK_COUNTS), run_id, now, job_id, index],
        )


@retry_conflicts
def record_progress(
    con: duckdb.DuckDBPyConnection,
    job_id: str,
    index: int,
    counts: ChunkCounts,
    resume_offset: int,
    run_id: str,
    now: datetime,
) -> None:
    """A batch of a chunk loaded (call it in the batch's transaction): its counts are added and
    the chunk resumes at ``resume_offset`` if the backfill stops before the chunk is done."""
    with transaction(con):
        con.execute(
            f"""
            update backfill_chunks set
                {", ".join(f"{c} = {c} + ?" for c in CHUNK_COUNTS)},
                resume_offset = ?, run_id = ?, finished_at = ?
            where job_id = ? and chunk_index = ? and status <> 'done'
            """,
            [
                *(getattr(counts, c) for c in CHUNK_COUNTS),
                resume_offset,
                run_id,
                now,
                job_id,
                index,
            ],
        )


@retry_conflicts
def fail_chunk(
    con: duckdb.DuckDBPyConnection,
    job_id: str,
    index: int,
    error_class: str,
    error: str,
    run_id: str,
    now: datetime,
) -> None:
    """A chunk that could not be finished: it stays to do, with what stopped it."""
    con.execute(
        """
        update backfill_chunks set status = 'failed', attempts = attempts + 1,
            error_class = ?, error = ?, run_id = ?, finished_at = ?
        where job_id = ? and chunk_index = ? and status <> 'done'
        """,
        [error_class, error, run_id, now, job_id, index],
    )


@retry_conflicts
def claim_chunks(
    con: duckdb.DuckDBPyConnection,
    job_id: str,
    indexes: Sequence[int],
    run_id: str,
    now: datetime,
    lease_s: float,
    limit: int | None = None,
) -> set[int]:
    """Chunks of ``indexes`` (not done, no other live run holding them: see migration 011)
    leased to ``run_id`` until ``now + lease_s``, at most ``limit`` more, lowest first; returns
    those it now holds among ``indexes``. Workers running one job take a few chunks at a time,
    so they share the job; a killed worker's chunks come back (see :func:`reap_dead_runs`)."""
    if not indexes:
        return set()
    reap_dead_runs(con, now)
    params = {
        "job": job_id,
        "ids": list(indexes),
        "run": run_id,
        "now": now,
        "until": now + timedelta(seconds=lease_s),
    }
    con.execute(
        f"""
        update backfill_chunks set claimed_by = $run, lease_expires_at = $until
        where job_id = $job and chunk_index in (
            select chunk_index from backfill_chunks
            where job_id = $job and list_contains($ids, chunk_index) and status <> 'done'
              and not coalesce({_CHUNK_LEASE_LIVE}, false)
              and claimed_by is distinct from $run
            order by chunk_index
            {"limit " + str(int(limit)) if limit is not None else ""}
        )
        """,
        params,
    )
    rows = con.execute(
        "select chunk_index from backfill_chunks where job_id = $job and claimed_by = $run "
        "and list_contains($ids, chunk_index) and status <> 'done'",
        {key: params[key] for key in ("job", "run", "ids")},
    ).fetchall()
    return {int(row[0]) for row in rows}


def renew_chunk_leases(
    con: duckdb.DuckDBPyConnection, job_id: str, run_id: str, until: datetime
) -> None:
    """Push the expiry of the chunks ``run_id`` holds in ``job_id`` to ``until``."""
    con.execute(
        "update backfill_chunks set lease_expires_at = $until "
        "where job_id = $job and claimed_by = $run and status <> 'done'",
        {"job": job_id, "run": run_id, "until": until},
    )


@retry_conflicts
def close_job(
    con: duckdb.DuckDBPyConnection, job_id: str, now: datetime, run_id: str | None = None
) -> str:
    """``completed`` when every chunk is done; ``shared`` when the chunks left are all held by
    other live runs (workers sharing the job: the last one to finish completes it); else
    ``incomplete`` (run it again to resume)."""
    row = con.execute(
        f"""
        select count(*) filter (where status <> 'done'),
               count(*) filter (where status <> 'done' and claimed_by is distinct from $run
                                and {_CHUNK_LEASE_LIVE})
        from backfill_chunks where job_id = $job
        """,
        {"job": job_id, "run": run_id, "now": now},
    ).fetchone()
    left, elsewhere = (int(row[0]), int(row[1])) if row else (0, 0)
    status = "completed" if left == 0 else "shared" if left == elsewhere else "incomplete"
    con.execute(
        """
        update backfill_jobs set status = ?, updated_at = ?,
            finished_at = case when ? = 'completed' then ? else null end
        where job_id = ?
        """,
        ["running" if status == "shared" else status, now, status, now, job_id],
    )
    return status


def list_jobs(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every job with its chunk progress, newest first (``newsdesk backfill --status``)."""
    cursor = con.execute(
        """
        select j.job_id, j.via, j.target, j.since, j.until, j.chunk_unit, j.status,
               count(c.chunk_index) as chunks,
               count(c.chunk_index) filter (where c.status = 'done') as done,
               count(c.chunk_index) filter (where c.status = 'failed') as failed,
               coalesce(sum(c.articles_new), 0) as articles_new,
               coalesce(sum(c.failures), 0) as failures,
               j.updated_at
        from backfill_jobs j left join backfill_chunks c using (job_id)
        group by all order by j.updated_at desc
        """
    )
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@retry_conflicts
def publishers_for_domains(con: duckdb.DuckDBPyConnection, hosts: Sequence[str]) -> dict[str, int]:
    """The publisher of each host: a configured publisher of that registrable domain, else a
    new one named after the domain (archives hold sites nobody configured)."""
    by_domain = {host: registrable_domain(host) or host for host in hosts}
    known = {
        (domain or "").removeprefix("www."): publisher_id
        for publisher_id, domain in con.execute(
            "select publisher_id, domain from publishers order by publisher_id"
        ).fetchall()
    }
    result: dict[str, int] = {}
    with transaction(con):
        for host, domain in by_domain.items():
            if domain not in known:
                con.execute(
                    f"""
                    insert into publishers (publisher_id, name, domain)
                    select {next_id_sql(con, "publisher_id_seq", "publishers", "publisher_id")},
                           $name, $name
                    where not exists (select 1 from publishers where name = $name)
                    """,
                    {"name": domain},
                )
                con.execute(
                    "update publishers set domain = $name where name = $name and domain is null",
                    {"name": domain},
                )
                row = con.execute(
                    "select publisher_id from publishers where name = ?", [domain]
                ).fetchone()
                assert row is not None
                known[domain] = int(row[0])
            result[host] = known[domain]
    return result
