"""The ``newsdesk`` command as a user runs it: real warehouse files, real demo server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()
NEWSDESK = str(Path(sys.executable).parent / "newsdesk")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo_db(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`newsdesk demo` twice on one warehouse, as `make demo` twice would."""
    db = tmp_path_factory.mktemp("cli") / "newsdesk.duckdb"
    port = str(_free_port())
    first = runner.invoke(app, ["demo", "--db", str(db), "--port", port])
    assert first.exit_code == 0, first.output
    assert "edition 1" in first.output
    second = runner.invoke(app, ["demo", "--db", str(db), "--port", port])
    assert second.exit_code == 0, second.output
    assert "edition 2" in second.output
    return db


def test_demo_twice_keeps_one_row_per_article(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        total, distinct, edited = con.execute(
            "select count(*), count(distinct canonical_url), count(*) filter (version = 2) "
            "from articles"
        ).fetchone() or (0, 0, 0)
        runs = con.execute("select count(*) from runs where status = 'completed'").fetchone()
    finally:
        con.close()
    assert total >= 30 and total == distinct
    assert edited == 1
    assert runs == (2,)


def test_sql_formats(demo_db: Path) -> None:
    query = (
        "select p.name, count(*) as n from articles a join publishers p using (publisher_id) "
        "group by all order by p.name"
    )
    as_json = runner.invoke(app, ["sql", query, "--db", str(demo_db), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert {r["name"] for r in rows} == {"Lakeside Ledger", "Nordpost", "The Harbor Courier"}
    assert sum(r["n"] for r in rows) >= 30
    as_csv = runner.invoke(app, ["sql", query, "--db", str(demo_db), "--format", "csv"])
    assert as_csv.stdout.splitlines()[0] == "name,n"
    assert len(as_csv.stdout.splitlines()) == 4
    table = runner.invoke(app, ["sql", query, "--db", str(demo_db)])
    assert "Nordpost" in table.stdout


def test_sql_error_exits_1_with_the_message(demo_db: Path) -> None:
    result = runner.invoke(app, ["sql", "select * from no_such_table", "--db", str(demo_db)])
    assert result.exit_code == 1
    assert "no_such_table" in result.output


def test_runs_and_sources_show_the_demo(demo_db: Path) -> None:
    runs = runner.invoke(app, ["runs", "--db", str(demo_db), "--format", "json"])
    assert runs.exit_code == 0, runs.output
    listed = json.loads(runs.stdout)
    assert [r["status"] for r in listed] == ["completed", "completed"]
    assert listed[1]["new"] >= 30 and listed[0]["edited"] == 1
    sources = runner.invoke(app, ["sources", "--db", str(demo_db), "--format", "json"])
    assert sources.exit_code == 0, sources.output
    feeds = json.loads(sources.stdout)
    demo_feeds = [f for f in feeds if not f["in_file"]]
    assert len(demo_feeds) == 3
    assert all(f["last_status"] in (200, 304) for f in demo_feeds)
    assert sum(1 for f in feeds if f["in_file"]) >= 20  # deploy/sources.toml, never fetched here


def test_sql_opens_the_warehouse_read_only(demo_db: Path) -> None:
    # Another process holds a read-only connection: a read-write open would be refused.
    holder = duckdb.connect(str(demo_db), read_only=True)
    try:
        result = subprocess.run(
            [
                NEWSDESK,
                "sql",
                "select count(*) as n from articles",
                "--db",
                str(demo_db),
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        holder.close()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["n"] >= 30


def test_user_errors_exit_1_before_any_work(tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("not a database " * 100)
    result = runner.invoke(app, ["ingest", "--db", str(not_a_db), "--feed", "http://x.example/f"])
    assert result.exit_code == 1
    assert "not a valid DuckDB" in result.output
    missing = runner.invoke(
        app,
        ["ingest", "--db", str(tmp_path / "w.duckdb"), "--sources", str(tmp_path / "none.toml")],
    )
    assert missing.exit_code == 1
    assert "sources file not found" in missing.output
    absent = runner.invoke(app, ["sql", "select 1", "--db", str(tmp_path / "absent.duckdb")])
    assert absent.exit_code == 1
    assert "newsdesk ingest" in absent.output
    usage = runner.invoke(app, ["runs", "--limit", "many"])
    assert usage.exit_code == 2


def test_sql_prompt_reads_statements_from_stdin(demo_db: Path) -> None:
    script = "select count(*) as n from articles;\nselect 'a;b' as s\n;\n"
    result = runner.invoke(app, ["sql", "--db", str(demo_db), "--format", "csv"], input=script)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "n" and int(lines[1]) >= 30
    assert lines[2:] == ["s", "a;b"]


def test_discover_finds_the_demo_feed_and_reports_a_missing_page() -> None:
    from flows.demo import DemoServer

    with DemoServer() as server:
        found = runner.invoke(
            app,
            [
                "discover",
                server.base_url + "/harbor/index.html",
                "--allow-private",
                "127.0.0.1/32",
                "--format",
                "json",
            ],
        )
        missing = runner.invoke(
            app, ["discover", server.base_url + "/nowhere.html", "--allow-private", "127.0.0.1/32"]
        )
    assert found.exit_code == 0, found.output
    candidates = {c["url"]: c for c in json.loads(found.stdout)["candidates"]}
    feed = candidates[server.base_url + "/harbor/feed.rss"]
    assert feed["found_via"] == "link-alternate"
    assert feed["keep"] or "stale" in feed["reason"]  # the demo's dates age with the calendar
    assert missing.exit_code == 1
    assert "page_not_found" in missing.output
