"""Parquet out of the warehouse, for other engines (Spark, pandas/pyarrow, Polars, DuckDB…).

:func:`export_warehouse` writes every table of the warehouse into one folder: the large,
time-ordered tables as hive-partitioned datasets by UTC day (``articles/published_date=
2026-11-02/data_0.parquet``…), the small ones as one file each (``publishers.parquet``), and a
``_manifest.json`` with row counts and layouts. Timestamps are Parquet ``TIMESTAMP`` adjusted to
UTC (``isAdjustedToUTC=true``); lists stay lists. Read back, e.g.::

    duckdb:  select * from read_parquet('out/articles/*/*.parquet', hive_partitioning = true)
    pyarrow: pyarrow.dataset.dataset('out/articles', partitioning='hive')
    polars:  pl.scan_parquet('out/articles/**/*.parquet', hive_partitioning=True)

:func:`write_parquet` writes the result of any one query to one Parquet file (for
``newsdesk sql --format parquet``).

Both only read: pass a read-only connection. While they run, DuckDB's file lock keeps writers
out, so an export is one consistent snapshot (and an ingest batch waits for it).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow.parquet as pq

from warehouse.db import WarehouseError

__all__ = [
    "PARTITIONED",
    "SKIPPED",
    "ExportError",
    "ExportedTable",
    "export_warehouse",
    "write_parquet",
]

# table -> (partition column, the instant it is the UTC day of)
PARTITIONED: dict[str, tuple[str, str]] = {
    "articles": ("published_date", "coalesce(published_at, first_seen_at)"),
    "article_versions": ("seen_date", "seen_at"),
    "fetches": ("requested_date", "requested_at"),
}
# Tables left out, and why (everything else in the main schema is exported).
SKIPPED: dict[str, str] = {
    "raw_pages": "zlib-compressed page bodies, kept for `newsdesk reextract`",
    "article_signatures": "MinHash signatures, internal to deduplication",
    "article_bands": "LSH band keys, internal to deduplication",
    "search_index_state": "internal to full-text search",
    "search_documents": "internal to full-text search",
    "search_postings": "internal to full-text search",
    "schema_migrations": "the migration ledger",
}
Compression = Literal["zstd", "snappy", "gzip", "lz4", "brotli", "uncompressed"]
COMPRESSION: Compression = "zstd"
MANIFEST = "_manifest.json"


class ExportError(WarehouseError):
    """The export could not be written (the message says where and why)."""


@dataclass(frozen=True, slots=True)
class ExportedTable:
    name: str
    path: str  # relative to the export folder: "publishers.parquet" or "articles/"
    rows: int
    partitioned_by: str | None  # hive partition column (a DATE, UTC day), or None


def write_parquet(
    con: duckdb.DuckDBPyConnection,
    query: str,
    path: str | Path,
    *,
    compression: Compression = COMPRESSION,
) -> int:
    """Run ``query`` (one statement returning rows) and write its result to the Parquet file
    ``path`` (parent folders created, an existing file replaced); returns the rows written.

    Column names and types are DuckDB's: TIMESTAMPTZ becomes a UTC-adjusted Parquet timestamp,
    DECIMAL stays DECIMAL, lists and structs stay nested. The query runs on ``con`` as given:
    open it read-only for user queries. SQL errors raise ``duckdb.Error``; a statement that
    returns no rows (e.g. ``set …``) raises :class:`ExportError`.
    """
    target = Path(path)
    relation = con.sql(query)
    if relation is None:
        raise ExportError("only a query that returns rows can be written to Parquet")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder for {target}: {exc}") from exc
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        relation.write_parquet(str(partial), compression=compression)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return int(pq.read_metadata(target).num_rows)


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and not temporary order by table_name"
    ).fetchall()
    return [str(r[0]) for r in rows if r[0] not in SKIPPED]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_warehouse(con: duckdb.DuckDBPyConnection, to: str | Path) -> list[ExportedTable]:
    """Write every exported table (see ``PARTITIONED`` and ``SKIPPED``) under the folder ``to``.

    Each table is written to a temporary folder inside ``to`` and moved into place when done,
    replacing that table's earlier export; ``_manifest.json`` is written last. Other files in
    ``to`` are left alone.
    """
    root = Path(to)
    staging = root / f".export-partial-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
    except OSError as exc:
        raise ExportError(f"cannot write to {root}: {exc}") from exc
    exported: list[ExportedTable] = []
    try:
        for table in _tables(con):
            quoted = _quote(table)
            counted = con.execute(f"select count(*) from {quoted}").fetchone()
            rows = int(counted[0]) if counted else 0
            if table in PARTITIONED:
                column, instant = PARTITIONED[table]
                relation = con.sql(
                    f"select *, cast(timezone('UTC', {instant}) as date) as {column} from {quoted}"
                )
                relation.write_parquet(
                    str(staging / table), compression=COMPRESSION, partition_by=[column]
                )
                if rows == 0:  # nothing written: keep an empty folder, so the table exists
                    (staging / table).mkdir(exist_ok=True)
                exported.append(ExportedTable(table, f"{table}/", rows, column))
            else:
                con.sql(f"select * from {quoted}").write_parquet(
                    str(staging / f"{table}.parquet"), compression=COMPRESSION
                )
                exported.append(ExportedTable(table, f"{table}.parquet", rows, None))
        for item in exported:
            final = root / item.path.rstrip("/")
            if final.is_dir():
                shutil.rmtree(final)
            elif final.exists():
                final.unlink()
            (staging / item.path.rstrip("/")).rename(final)
        manifest = {
            "exported_at": datetime.now(UTC).isoformat(),
            "duckdb_version": duckdb.__version__,
            "partitioning": "hive; partition columns are DATEs, the UTC day of the instant",
            "timestamps": "UTC (Parquet TIMESTAMP, isAdjustedToUTC=true)",
            "tables": {t.name: asdict(t) for t in exported},
            "skipped": SKIPPED,
        }
        (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write the export to {root}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return exported
