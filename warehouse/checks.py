"""Data checks: one SQL file per check in ``checks/``, each returning the rows that offend.

A check file starts with comment lines: a one-line title, then what it means, and one
``-- severity: error`` or ``-- severity: warning`` line (errors are broken invariants, warnings
are text-quality signals that may have false positives). A check may use ``$now`` (the
instant the checks run for). The file name is the check's name.

:func:`run_checks` runs every check and records one ``check_results`` row per check (migration
006): ``pass`` when no row offends, ``fail`` with the count and the first rows as JSON, ``error``
when the SQL itself failed (the other checks still run). Failing data is data: nothing raises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any, Literal

import duckdb

from warehouse.db import next_id_sql, retry_conflicts

__all__ = ["SAMPLE_ROWS", "Check", "CheckResult", "available_checks", "run_checks"]

SAMPLE_ROWS = 20  # offending rows kept per check result
Severity = Literal["error", "warning"]
Status = Literal["pass", "fail", "error"]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    title: str  # the first comment line
    description: str  # the comment lines after it
    severity: Severity
    sql: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    title: str
    description: str
    severity: Severity
    status: Status
    offending: int
    checked_at: datetime
    columns: list[str] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)  # the first offending rows
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def _parse(name: str, text: str) -> Check:
    comments: list[str] = []
    severity: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        comment = stripped.removeprefix("--").strip()
        if comment.lower().startswith("severity:"):
            severity = comment.split(":", 1)[1].strip().lower()
        else:
            comments.append(comment)
    level: Severity
    if severity == "error":
        level = "error"
    elif severity == "warning":
        level = "warning"
    else:
        raise ValueError(f"check {name}: needs a '-- severity: error|warning' line")
    if not comments:
        raise ValueError(f"check {name}: needs a title comment line")
    return Check(name, comments[0], " ".join(comments[1:]), level, text.strip().rstrip(";"))


def available_checks() -> list[Check]:
    """Every ``checks/*.sql`` file, by name."""
    root = resources.files("warehouse").joinpath("checks")
    files = sorted((f for f in root.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [_parse(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _run_one(con: duckdb.DuckDBPyConnection, check: Check, now: datetime) -> CheckResult:
    params = {"now": now} if "$now" in check.sql else None
    try:
        (offending,) = con.execute(f"select count(*) from ({check.sql})", params).fetchone() or (0,)
        cursor = con.execute(f"select * from ({check.sql}) limit {SAMPLE_ROWS}", params)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        return CheckResult(
            check.name,
            check.title,
            check.description,
            check.severity,
            "error",
            0,
            now,
            error=f"{type(exc).__name__}: {exc}",
        )
    sample = [{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows]
    status: Status = "fail" if offending else "pass"
    return CheckResult(
        check.name,
        check.title,
        check.description,
        check.severity,
        status,
        offending,
        now,
        columns,
        sample,
    )


def run_checks(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    *,
    run_id: str | None = None,
    record: bool = True,
) -> list[CheckResult]:
    """Run every check against ``con`` as of ``now``; record the results unless ``record`` is
    false (``run_id`` names the maintenance run that ran them). The schema must be migrated."""
    results = [_run_one(con, check, now) for check in available_checks()]
    if record:
        rows = [
            (
                r.checked_at,
                r.name,
                r.severity,
                r.status,
                r.offending,
                json.dumps(r.sample, ensure_ascii=False) if r.sample else None,
                r.error,
                run_id,
            )
            for r in results
        ]
        _record(con, rows)
    return results


@retry_conflicts
def _record(con: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]) -> None:
    new_id = next_id_sql(con, "check_result_id_seq", "check_results", "check_result_id")
    con.executemany(
        "insert into check_results (check_result_id, checked_at, check_name, severity, status,"
        f" offending, sample, error, run_id) values ({new_id}, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
