"""``newsdesk search``, ``export`` and ``report`` as a user runs them, on the demo warehouse.

The commands are registered on a fresh typer app here, the way flows/cli.py registers them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
import typer
from typer.testing import CliRunner

from flows import analytics_cli
from tests.conftest import DemoRuns
from warehouse.db import connect
from warehouse.export import write_parquet
from warehouse.migrate import migrate
from warehouse.search import refresh_search_index

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    analytics_cli.register(app)
    return app


APP = _app()


@pytest.fixture(scope="module")
def indexed_db(demo_runs: DemoRuns, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("analytics") / "newsdesk.duckdb"
    shutil.copy(demo_runs.db, db)
    con = connect(db)
    try:
        migrate(con)
        refresh_search_index(con)
    finally:
        con.close()
    return db


def _invoke(*args: str) -> Any:
    return runner.invoke(APP, list(args))


def test_register_adds_the_three_commands() -> None:
    names = {c.name for c in APP.registered_commands}
    assert names == {"search", "export", "report"}


def test_search_json_with_a_stored_index(indexed_db: Path, demo_runs: DemoRuns) -> None:
    result = _invoke(
        "search", "ferry weekend closures", "--db", str(indexed_db), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits[0]["url"] == demo_runs.base + "/harbor/2026/11/ferry-weekend-closures.html"
    assert hits[0]["rank"] == 1 and hits[0]["score"] > 0
    assert hits[0]["date"] == "2026-11-02" and hits[0]["publisher"] == "The Harbor Courier"
    assert "ferry" in hits[0]["snippet"].lower()
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert "temporary index" not in result.stderr


def test_search_with_a_stale_index_says_so_and_still_finds(
    demo_runs: DemoRuns, tmp_path: Path
) -> None:
    # Ingest runs keep the index current; an article changed behind its back makes it stale.
    db = tmp_path / "stale.duckdb"
    shutil.copy(demo_runs.db, db)
    con = duckdb.connect(str(db))
    con.execute("update articles set title = title || ' (updated)' where article_id = 1")
    con.close()
    result = _invoke("search", "ferries", "--db", str(db), "--format", "json")
    assert result.exit_code == 0, result.output
    assert "temporary index" in result.stderr
    assert json.loads(result.stdout)[0]["url"].endswith(
        "/harbor/2026/11/ferry-weekend-closures.html"
    )


def test_search_filters_and_formats(indexed_db: Path) -> None:
    db = ["--db", str(indexed_db)]
    csv_out = _invoke("search", "Nordhafen", *db, "--format", "csv", "--limit", "2")
    assert csv_out.exit_code == 0, csv_out.output
    lines = csv_out.stdout.splitlines()
    assert lines[0] == "score,date,publisher,title,snippet,url"
    assert len(lines) == 3
    german = _invoke("search", "Nordhafen", *db, "--language", "de", "--format", "json")
    assert {h["language"] for h in json.loads(german.stdout)} == {"de"}
    none = _invoke("search", "Nordhafen", *db, "--language", "en", "--format", "json")
    assert json.loads(none.stdout) == []
    by_publisher = _invoke(
        "search", "council", *db, "--publisher", "lakeside ledger", "--format", "json"
    )
    assert {h["publisher"] for h in json.loads(by_publisher.stdout)} == {"Lakeside Ledger"}
    since = _invoke(
        "search", "the", *db, "--since", "2026-11-20", "--limit", "50", "--format", "json"
    )
    assert since.exit_code == 0, since.output
    assert min(h["date"] for h in json.loads(since.stdout)) >= "2026-11-20"
    table = _invoke("search", "Nordhafen", *db, "--limit", "1")
    assert table.exit_code == 0 and "Nordpost" in table.stdout
    nothing = _invoke("search", "xylophonequartet", *db)
    assert nothing.exit_code == 0 and "no articles match" in nothing.stderr


def test_search_errors(tmp_path: Path, indexed_db: Path) -> None:
    usage = _invoke("search", "?!", "--db", str(indexed_db))
    assert usage.exit_code == 2
    missing = _invoke("search", "x", "--db", str(tmp_path / "absent.duckdb"))
    assert missing.exit_code == 1 and "no warehouse" in missing.output
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()  # a DuckDB file without the newsdesk tables
    sql_error = _invoke("search", "ferry", "--db", str(empty))
    assert sql_error.exit_code == 1
    assert "articles" in sql_error.output and "Error" in sql_error.output


def test_export_writes_hive_partitioned_parquet(indexed_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = _invoke("export", "--to", str(out), "--db", str(indexed_db))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "_manifest.json").read_text())
    con = duckdb.connect(str(indexed_db), read_only=True)
    reader = duckdb.connect()
    try:
        for name, info in manifest["tables"].items():
            (count,) = con.execute(f'select count(*) from "{name}"').fetchone() or (0,)
            assert info["rows"] == count, name
            if info["partitioned_by"]:
                pattern = str(out / name / "*" / "*.parquet")
                if count:
                    back = reader.execute(
                        f"select count(*) from read_parquet('{pattern}', hive_partitioning = true)"
                    ).fetchone()
                    assert back == (count,), name
            else:
                back = reader.execute(
                    f"select count(*) from read_parquet('{out / info['path']}')"
                ).fetchone()
                assert back == (count,), name
        assert {"articles", "publishers", "fetches", "authors", "tags"} <= set(manifest["tables"])
        assert "raw_pages" not in manifest["tables"]
        days = {
            str(d)
            for (d,) in con.execute(
                "select distinct cast(timezone('UTC', coalesce(published_at, first_seen_at)) "
                "as date) from articles"
            ).fetchall()
        }
        assert {p.name for p in (out / "articles").iterdir()} == {
            f"published_date={d}" for d in days
        }
        # Another engine: pyarrow reads the hive layout and the UTC timestamps.
        by_day = ds.partitioning(pa.schema([("published_date", pa.date32())]), flavor="hive")
        dataset = ds.dataset(out / "articles", format="parquet", partitioning=by_day)
        (articles,) = con.execute("select count(*) from articles").fetchone() or (0,)
        assert dataset.count_rows() == articles
        assert str(dataset.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
        assert str(dataset.schema.field("published_date").type) == "date32[day]"
        titles = set(dataset.to_table(columns=["title"]).column("title").to_pylist())
        assert titles == {t for (t,) in con.execute("select title from articles").fetchall()}
    finally:
        con.close()
        reader.close()
    again = _invoke("export", "--to", str(out), "--db", str(indexed_db))
    assert again.exit_code == 0, again.output
    assert not [p for p in out.iterdir() if p.name.startswith(".export-partial")]


def test_write_parquet_helper(indexed_db: Path, tmp_path: Path) -> None:
    con = connect(indexed_db, read_only=True)
    try:
        target = tmp_path / "nested" / "volume.parquet"
        rows = write_parquet(con, "select * from daily_volume order by day", target)
        (expected,) = con.execute("select count(*) from daily_volume").fetchone() or (0,)
        assert rows == expected > 0
        back = duckdb.sql(f"select sum(articles) from read_parquet('{target}')").fetchone()
        assert back == con.execute("select count(*) from articles").fetchone()
        with pytest.raises(duckdb.Error):
            write_parquet(con, "select * from no_such_table", tmp_path / "x.parquet")
        assert not (tmp_path / "x.parquet").exists()
    finally:
        con.close()


HOLDER = textwrap.dedent(
    """
    import sys, time
    import duckdb
    con = duckdb.connect(sys.argv[1])  # read-write: nobody else may open the file
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
    """
)


def test_commands_wait_while_a_load_holds_the_warehouse(indexed_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    shutil.copy(indexed_db, db)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        busy = _invoke("report", "--out", str(tmp_path / "r.html"), "--db", str(db), "--wait", "0")
        assert busy.exit_code == 1
        assert "held by another process" in busy.output
        waited = _invoke("search", "ferry", "--db", str(db), "--wait", "30", "--format", "json")
    finally:
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    assert waited.exit_code == 0, waited.output
    assert "busy" in waited.stderr
    assert json.loads(waited.stdout)


def test_report_command(demo_runs: DemoRuns, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = _invoke("report", "--out", str(out), "--db", str(demo_runs.db))
    assert result.exit_code == 0, result.output
    assert out.is_file() and "7 charts" in result.stdout
    assert os.stat(out).st_size > 5000
