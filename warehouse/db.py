"""Opening the warehouse, its two backends, and write transactions.

**duckdb** (the default): one embedded file. DuckDB allows one read-write process per file;
readers that find the file held wait and retry with a message instead of failing at once.

**ducklake**: a target written ``ducklake:<catalog>`` (e.g.
``ducklake:postgres:dbname=newsdesk host=db.internal``) is a DuckLake — its catalog in PostgreSQL,
its data files (Parquet) under the data path stored in that catalog when it was created. Any
number of processes on any number of machines read and write it at once. The ``ducklake`` and
``postgres`` DuckDB extensions come from their PyPI packages and are loaded by path: nothing is
downloaded at run time. The lake is attached as :data:`LAKE_ALIAS` and made the default
catalog, so the same SQL runs on both backends (temporary tables stay in DuckDB's own memory).

DuckLake has no primary keys, UNIQUE constraints or sequences, and two writers' inserts into
one table never conflict. So every write to a lake goes through :func:`transaction`, which
first bumps the one row of ``lake_writes``: two write transactions that overlap both delete
that row, DuckLake refuses the second commit, and :func:`retry_conflicts` runs the whole batch
again on the new snapshot. Writes are thereby serializable, and the loads' "insert what is not
there yet" steps (``warehouse.load``) never add a row twice.

Exceptions::

    WarehouseError        cannot open, or a state this code refuses to touch
    ├── WarehouseBusy     the DuckDB file stayed held by another process
    └── WriteConflict     a lake write kept conflicting with other writers (retries used up)
"""

from __future__ import annotations

import functools
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import duckdb

__all__ = [
    "KEYLESS_TABLES",
    "LAKE_ALIAS",
    "LAKE_PREFIX",
    "WarehouseBusy",
    "WarehouseError",
    "WriteConflict",
    "back_off",
    "connect",
    "in_transaction",
    "is_conflict",
    "is_lake",
    "is_lake_target",
    "next_id_sql",
    "retry_conflicts",
    "retry_conflicts_creating_token",
    "transaction",
    "upsert",
]

LAKE_PREFIX = "ducklake:"
LAKE_ALIAS = "newsdesk_lake"
# The one-row table every lake write transaction updates (see the module docstring).
WRITE_TOKEN = "lake_writes"
CONFLICT_ATTEMPTS = 12
_NO_NETWORK: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

P = ParamSpec("P")
R = TypeVar("R")


class WarehouseError(Exception):
    """The warehouse could not be opened or is in a state this code refuses to touch."""


class WarehouseBusy(WarehouseError):
    """Another process holds the file read-write for longer than we were willing to wait."""


class WriteConflict(WarehouseError):
    """A lake write transaction conflicted with other writers on every attempt."""


def is_lake_target(target: str | Path) -> bool:
    return str(target).startswith(LAKE_PREFIX)


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` writes to a DuckLake (its default catalog is the attached lake)."""
    row = con.execute("select current_database()").fetchone()
    return row is not None and row[0] == LAKE_ALIAS


def _extension_file(package: str, name: str, load_as: str) -> str:
    """The extension file a PyPI package ships, under the name DuckDB expects: DuckDB derives
    the entry point from the file name, and ``postgres`` is ``postgres_scanner`` inside."""
    hint = f"install it with `pip install {package.replace('_', '-')}=={duckdb.__version__}`"
    version = f"v{duckdb.__version__}"
    try:
        root = resources.files(package)
    except ModuleNotFoundError as exc:
        raise WarehouseError(f"the DuckDB {name} extension package is missing: {hint}") from exc
    path = Path(str(root.joinpath("extensions", version, f"{name}.duckdb_extension")))
    if not path.is_file():
        raise WarehouseError(f"no DuckDB {name} extension for {version} at {path}: {hint}")
    if load_as == name:
        return str(path)
    # A symlink under the expected name, in a per-user folder (made atomically: several
    # processes may start at once).
    folder = Path(tempfile.gettempdir()) / f"newsdesk-duckdb-extensions-{os.getuid()}" / version
    link = folder / f"{load_as}.duckdb_extension"
    if not (link.is_symlink() and link.resolve() == path.resolve()):
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / f".{load_as}.{os.getpid()}.{random.randrange(1 << 30)}"
        staging.symlink_to(path)
        staging.replace(link)
    return str(link)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _connect_lake(target: str, read_only: bool, data_path: str | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config=_NO_NETWORK)
    try:
        for package, name, load_as in (
            ("duckdb_extension_postgres", "postgres", "postgres_scanner"),
            ("duckdb_extension_ducklake", "ducklake", "ducklake"),
            ("duckdb_extension_httpfs", "httpfs", "httpfs"),
        ):
            con.execute(f"load {_quote(_extension_file(package, name, load_as))}")
        _object_store_secret(con, os.environ)
        options = []
        if data_path:
            options.append(f"data_path {_quote(data_path)}")
        if read_only:
            options.append("read_only")
        clause = f" ({', '.join(options)})" if options else ""
        _attach(con, f"attach {_quote(target)} as {LAKE_ALIAS}{clause}")
        con.execute(f"use {LAKE_ALIAS}")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"cannot open the DuckLake {target}: {exc}") from exc
    return con


def _object_store_secret(con: duckdb.DuckDBPyConnection, env: Mapping[str, str]) -> None:
    """Credentials for a lake whose data path is on S3 (or an S3-compatible store: MinIO, R2,
    Ceph …), from the usual AWS variables: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_SESSION_TOKEN``, ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``) and ``AWS_ENDPOINT_URL``
    for a store other than AWS (path-style URLs; ``http://`` means no TLS). Without a key id,
    nothing is set: a lake on a shared folder needs none."""
    key_id = env.get("AWS_ACCESS_KEY_ID")
    if not key_id:
        return
    options = {
        "type": "s3",
        "key_id": key_id,
        "secret": env.get("AWS_SECRET_ACCESS_KEY", ""),
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
    }
    if env.get("AWS_SESSION_TOKEN"):
        options["session_token"] = env["AWS_SESSION_TOKEN"]
    endpoint = env.get("AWS_ENDPOINT_URL")
    if endpoint:
        scheme, _, host = endpoint.rstrip("/").partition("://")
        options["endpoint"] = host or scheme
        options["url_style"] = "path"
        options["use_ssl"] = "false" if scheme == "http" else "true"
    body = ", ".join(
        f"{key} {value}" if key in ("type", "use_ssl") else f"{key} {_quote(value)}"
        for key, value in options.items()
    )
    con.execute(f"create or replace temporary secret newsdesk_object_store ({body})")


def back_off(delay: float, cap: float) -> float:
    """Sleep about ``delay`` seconds (±50 %, so processes that collided do not retry in step);
    return the next delay, doubled up to ``cap``."""
    time.sleep(delay * (0.5 + random.random()))
    return min(delay * 2, cap)


def _attach(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """ATTACH the lake. Workers that start on a new lake at once all create its catalog
    tables; PostgreSQL lets one through and fails the others ("duplicate key …", "already
    exists"): they try again, and find the catalog made."""
    delay = 0.1
    for attempt in range(1, 9):
        try:
            con.execute(sql)
            return
        except duckdb.Error as exc:
            text = str(exc).lower()
            racing = "initialize ducklake" in text and (
                "duplicate key" in text or "already exists" in text
            )
            if not racing or attempt == 8:
                raise
        delay = back_off(delay, 2.0)


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def connect(
    path: str | Path,
    *,
    read_only: bool = False,
    wait_seconds: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
    data_path: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file at ``path`` (``":memory:"`` for a throwaway database), or the
    DuckLake ``ducklake:<catalog>``.

    Sessions run in UTC so timestamps print as stored. When another process holds the file,
    retry for up to ``wait_seconds``, calling ``on_wait`` once with a human-readable message.
    ``data_path`` (lakes only) is where a new lake keeps its data files; an existing lake
    knows its own, so it is needed only the first time.
    """
    target = str(path)
    if is_lake_target(target):
        con = _connect_lake(target, read_only, data_path)
        con.execute("set TimeZone = 'UTC'")
        return con
    if target != ":memory:":
        file = Path(target)
        if read_only and not file.exists():
            raise WarehouseError(
                f"no warehouse at {file}: run `newsdesk ingest` (or `make demo`) first, "
                "or point --db / NEWSDESK_DB at an existing file"
            )
        if not read_only:
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehouseError(f"cannot create the folder for {file}: {exc}") from exc
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    told = False
    while True:
        try:
            con = duckdb.connect(target, read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{target} is held by another process (an ingest run loading a batch?) "
                    f"and stayed busy for {wait_seconds:.0f}s; try again, or raise --wait"
                ) from exc
            if on_wait is not None and not told:
                on_wait(f"{target} is busy (another process is writing); waiting…")
                told = True
            delay = back_off(delay, 1.0)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from exc
    con.execute("set TimeZone = 'UTC'")
    return con


# Connections (by id) inside a transaction() block, so an inner block joins the outer one.
_OPEN_TRANSACTIONS: set[int] = set()


def in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    return id(con) in _OPEN_TRANSACTIONS


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, *, take_token: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction; inside the caller's own, its commit (or rollback) covers this work —
    which is how a backfill chunk commits its pages and its `done` mark together.

    Nesting is tracked here: a failed BEGIN would abort DuckDB's open transaction. On a lake
    the transaction starts by taking the write token (see the module docstring), unless
    ``take_token`` is False: only for the transaction that creates the token."""
    if in_transaction(con):
        yield con
        return
    con.execute("begin transaction")
    _OPEN_TRANSACTIONS.add(id(con))
    try:
        if take_token and is_lake(con):
            con.execute(f"update {WRITE_TOKEN} set generation = generation + 1")
        yield con
    except BaseException:
        _rollback(con)
        raise
    else:
        try:
            con.execute("commit")
        except duckdb.Error:
            _rollback(con)
            raise
    finally:
        _OPEN_TRANSACTIONS.discard(id(con))


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back what is open (a failed commit has already ended the transaction)."""
    with suppress(duckdb.TransactionException):
        con.execute("rollback")


def is_conflict(exc: BaseException) -> bool:
    """A lake commit refused because another writer committed first."""
    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()


def _retrying(
    fn: Callable[Concatenate[duckdb.DuckDBPyConnection, P], R], *, take_token: bool
) -> Callable[Concatenate[duckdb.DuckDBPyConnection, P], R]:
    """``fn(con, …)`` as one :func:`transaction`, again on the new snapshot while its commit
    conflicts with another lake writer (see :func:`retry_conflicts`)."""

    @functools.wraps(fn)
    def run(con: duckdb.DuckDBPyConnection, *args: P.args, **kwargs: P.kwargs) -> R:
        if in_transaction(con):
            return fn(con, *args, **kwargs)
        delay = 0.05
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                with transaction(con, take_token=take_token):
                    return fn(con, *args, **kwargs)
            except duckdb.TransactionException as exc:
                if not is_conflict(exc):
                    raise
                if attempt == CONFLICT_ATTEMPTS:
                    raise WriteConflict(
                        f"{fn.__name__}: the lake write conflicted with other writers "
                        f"{attempt} times in a row; last: {exc}"
                    ) from exc
            delay = back_off(delay, 2.0)
        raise AssertionError("unreachable")

    return run


def retry_conflicts(
    fn: Callable[Concatenate[duckdb.DuckDBPyConnection, P], R],
) -> Callable[Concatenate[duckdb.DuckDBPyConnection, P], R]:
    """Run ``fn(con, …)`` as one :func:`transaction`; when the commit conflicts with another
    lake writer, run it again on the new snapshot (up to :data:`CONFLICT_ATTEMPTS` times, with
    jittered exponential back-off). Called inside an open transaction, ``fn`` joins it and the
    outermost retrying caller retries. ``fn`` must not change anything outside the warehouse
    before it returns (its result is only kept from the attempt that committed)."""
    return _retrying(fn, take_token=True)


def retry_conflicts_creating_token(
    fn: Callable[Concatenate[duckdb.DuckDBPyConnection, P], R],
) -> Callable[Concatenate[duckdb.DuckDBPyConnection, P], R]:
    """:func:`retry_conflicts` for the one transaction that creates the write token (it cannot
    take a token that does not exist yet: two workers creating it conflict on the catalog)."""
    return _retrying(fn, take_token=False)


# Tables that have no keys on DuckDB either (migration 012: DuckDB rewrites a table's whole
# ART index at every checkpoint, so keys on the tables that grow with every run made each
# commit cost more than the last). Their rows stay unique by the writers, as on a lake.
KEYLESS_TABLES = frozenset(
    {
        "fetches",
        "entries",
        "articles",
        "article_versions",
        "article_authors",
        "article_tags",
        "images",
        "links",
        "removed_spans",
        "raw_pages",
        "article_signatures",
        "article_bands",
        "cluster_matches",
        "clusters",
    }
)


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    keys: tuple[str, ...],
    columns: tuple[str, ...],
    source: str,
    *,
    update: str | None = None,
    new_id: tuple[str, str, str] | None = None,
    params: dict[str, object] | list[object] | None = None,
) -> None:
    """Insert the rows of ``source`` (a query giving ``columns``) whose ``keys`` are not in
    ``table``; with ``update`` (assignments that may read ``excluded.<column>`` and
    ``<table>.<column>``), update the rows whose keys are.

    On DuckDB this is ``INSERT … ON CONFLICT``. A lake has no keys to conflict on, nor have the
    :data:`KEYLESS_TABLES`: the same rows come from an ``UPDATE … FROM`` and an anti-joined
    ``INSERT``, safe because writes are serialized (lake writes by :func:`transaction`, a
    DuckDB file's by its one writer process) and ``source`` holds each key once. ``new_id`` is
    ``(column, sequence, order)``: the column a DuckDB sequence fills by default; on a lake new
    rows take the next numbers after the largest, in ``order`` (an expression over
    ``columns``).
    """
    cols = ", ".join(columns)
    lake = is_lake(con)
    if table not in KEYLESS_TABLES and not lake:
        action = f"do update set {update}" if update else "do nothing"
        order = f" order by {new_id[2]}" if new_id else ""
        con.execute(
            f"insert into {table} ({cols}) select {cols} from ({source}) excluded{order} "
            f"on conflict ({', '.join(keys)}) {action}",
            params,
        )
        return
    same = " and ".join(f"{table}.{k} is not distinct from excluded.{k}" for k in keys)
    if update:
        con.execute(
            f"update {table} set {update} from ({source}) excluded where {same}",
            params,
        )
    id_col, id_sql = "", ""
    if new_id and lake:
        column, _, order = new_id
        id_col = f"{column}, "
        id_sql = (
            f"(select coalesce(max({column}), 0) from {table}) "
            f"+ row_number() over (order by {order}), "
        )
    con.execute(
        f"insert into {table} ({id_col}{cols}) select {id_sql}{cols} from ({source}) excluded "
        f"where not exists (select 1 from {table} where {same})",
        params,
    )


def next_id_sql(con: duckdb.DuckDBPyConnection, sequence: str, table: str, column: str) -> str:
    """SQL for the next id of ``table.column`` in a single-row insert: the sequence on DuckDB,
    one more than the largest on a lake (writes there are serialized)."""
    if is_lake(con):
        return f"(select coalesce(max({column}), 0) + 1 from {table})"
    return f"nextval('{sequence}')"
