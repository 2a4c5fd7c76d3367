"""Data checks: a migrated warehouse with planted offending rows; each check finds exactly its
own, results are recorded, and ``newsdesk check`` prints them with the right exit code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from flows.ops_cli import register
from warehouse.checks import available_checks, run_checks
from warehouse.db import connect
from warehouse.migrate import migrate

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CLEAN_TEXT = "A clean paragraph about the harbour.\nA second paragraph with more words."

# check -> the keys (article_id, or run_id for runs) of the rows planted to offend it
PLANTED: dict[str, set[Any]] = {
    "empty_text": {10, 11},
    "future_dates": {12, 13},
    "article_without_publisher": {14, 15},
    "article_without_cluster": {16, 17},
    "missing_article_version": {18},
    "credit_in_text": {19, 20},
    "read_more_in_text": {21, 22},
    "duplicate_canonical_url": {23, 24},
    "stuck_runs": {"run-stuck"},
    "duplicate_url_key": {1, 30},
    "feed_date_disagrees": {25},
    "duplicate_child_rows": {27, 28, 29},
}


def add_article(
    con: duckdb.DuckDBPyConnection,
    article_id: int,
    *,
    kept_version: int | None = None,
    with_cluster: bool = True,
    **overrides: Any,
) -> None:
    """A clean article (publisher 1, its own cluster, its version kept), with ``overrides``
    of its columns; ``kept_version``: the version article_versions keeps instead."""
    row: dict[str, Any] = {
        "article_id": article_id,
        "url_key": f"key-{article_id}",
        "canonical_url": f"https://harbor.example/{article_id}.html",
        "url": f"https://harbor.example/{article_id}.html",
        "publisher_id": 1,
        "feed_id": 1,
        "title": f"Article {article_id}",
        "text": CLEAN_TEXT,
        "published_at": NOW - timedelta(days=1),
        "modified_at": None,
        "first_seen_at": NOW - timedelta(hours=20),
        "last_seen_at": NOW - timedelta(hours=1),
        "word_count": 12,
        "content_hash": f"hash-{article_id}",
        "cluster_id": article_id,
        "version": 1,
    }
    row |= overrides
    columns = ", ".join(row)
    con.execute(
        f"insert into articles ({columns}) values ({', '.join('?' for _ in row)})",
        list(row.values()),
    )
    con.execute(
        "insert into article_versions (article_id, version, content_hash, text, seen_at)"
        " values (?, ?, ?, ?, ?)",
        [
            article_id,
            kept_version or row["version"],
            row["content_hash"],
            row["text"],
            row["first_seen_at"],
        ],
    )
    if with_cluster:
        con.execute(
            "insert into clusters (cluster_id, size, publishers, first_seen_at, last_seen_at)"
            " values (?, 1, 1, ?, ?)",
            [article_id, row["first_seen_at"], row["first_seen_at"]],
        )


def add_run(con: duckdb.DuckDBPyConnection, run_id: str, started_at: datetime, status: str) -> None:
    con.execute(
        "insert into runs (run_id, flow, started_at, status) values (?, 'ingest', ?, ?)",
        [run_id, started_at, status],
    )


def build_warehouse(path: Path) -> None:
    con = connect(path)
    migrate(con)
    con.execute("insert into publishers (publisher_id, name) values (1, 'The Harbor Courier')")
    con.execute(
        "insert into feeds (feed_id, publisher_id, url) values (1, 1, 'https://harbor.example/rss')"
    )
    for clean in (1, 2, 3):
        add_article(con, clean)
    # Clean lookalikes: lower-case or prose uses of the patterns, a date just before NOW.
    add_article(con, 4, text="We photo: no. The read more option is prose.\nPhotography: none.")
    add_article(con, 5, published_at=NOW - timedelta(seconds=1), modified_at=NOW)
    add_article(con, 10, text="  \n  ", word_count=0)
    add_article(con, 11, text="Some words that the count missed.", word_count=0)
    add_article(con, 12, published_at=NOW + timedelta(days=3))
    add_article(con, 13, modified_at=NOW + timedelta(minutes=5))
    add_article(con, 14, publisher_id=None)
    add_article(con, 15, publisher_id=999)
    add_article(con, 16, cluster_id=None, with_cluster=False)
    add_article(con, 17, cluster_id=777, with_cluster=False)
    add_article(con, 18, version=2, kept_version=1)
    add_article(con, 19, text="The mayor spoke at the harbour.\nThe mayor at the pier. © dpa")
    add_article(con, 20, text="Foto: AFP\nThe harbour opened again on Monday morning.")
    add_article(con, 21, text="The harbour opened.\nRead more: Harbour closed for repairs")
    add_article(con, 22, text="Der Hafen ist offen.\nLesen Sie auch: Der Hafen war zu")
    same = "https://harbor.example/story.html"
    add_article(con, 23, canonical_url=same, url=same)
    add_article(con, 24, canonical_url=same, url=same + "?page=1")
    # The feed listed 25 ten days before the page's own date; 26's date came from its feed; 1's
    # feed agrees with its page to within hours.
    add_article(con, 25, date_source="jsonld")
    add_article(con, 26, date_source="feed")
    add_article(con, 1000, date_source="meta")
    for article_id, listed in ((25, 10), (26, 10), (1000, 0.2)):
        con.execute(
            "insert into entries (feed_id, guid, url, url_key, published_at)"
            " values (1, ?, ?, ?, ?)",
            [
                f"g{article_id}",
                f"https://harbor.example/{article_id}.html",
                f"key-{article_id}",
                NOW - timedelta(days=1 + listed),
            ],
        )
    # A link listed twice, a span and an image at one position twice; article 1 has the same
    # URL once as inline and once as related, and two images at two positions: clean.
    for article_id in (27, 28, 29):
        add_article(con, article_id)
    con.execute(
        "insert into links (article_id, url, anchor_text, kind) values"
        " (27, 'https://a.example/x', 'X', 'related'),"
        " (27, 'https://a.example/x', 'X.', 'related'),"
        " (1, 'https://a.example/x', 'X', 'related'), (1, 'https://a.example/x', 'X', 'inline')"
    )
    con.execute(
        "insert into removed_spans (article_id, position, rule, text) values"
        " (28, 0, 'dom.caption', 'A'), (28, 0, 'dom.credit', 'B'), (1, 0, 'dom.caption', 'A')"
    )
    con.execute(
        "insert into images (article_id, position, url) values"
        " (29, 1, 'https://a.example/1.jpg'), (29, 1, 'https://a.example/2.jpg'),"
        " (1, 0, 'https://a.example/1.jpg'), (1, 1, 'https://a.example/1.jpg')"
    )
    # A second article under 1's url_key (the table has no unique key: migration 012).
    add_article(con, 30, url_key="key-1")
    add_run(con, "run-stuck", NOW - timedelta(days=1), "running")
    add_run(con, "run-current", NOW - timedelta(minutes=3), "running")
    add_run(con, "run-old-done", NOW - timedelta(days=2), "completed")
    con.close()


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    path = tmp_path / "planted.duckdb"
    build_warehouse(path)
    return path


def _keys(result: Any) -> set[Any]:
    key = "article_id" if "article_id" in result.columns else "run_id"
    return {row[key] for row in result.sample}


def test_every_check_file_is_described() -> None:
    checks = available_checks()
    assert {c.name for c in checks} == set(PLANTED)
    for c in checks:
        assert c.title and c.description and c.severity in ("error", "warning")
        assert len(c.title) <= 70, c.name
        assert c.sql.lower().lstrip().startswith(("--", "with", "select"))


def test_each_check_finds_exactly_its_planted_rows(planted: Path) -> None:
    con = connect(planted)
    results = {r.name: r for r in run_checks(con, NOW, record=False)}
    assert set(results) == set(PLANTED)
    for name, expected in PLANTED.items():
        result = results[name]
        assert result.error is None, (name, result.error)
        assert _keys(result) == expected, name
        assert result.offending == len(result.sample)
        assert result.status == ("fail" if expected else "pass"), name


def test_results_are_recorded_and_a_broken_check_does_not_stop_the_others(
    planted: Path,
) -> None:
    con = connect(planted)
    con.execute("drop table runs")  # stuck_runs cannot run now
    results = run_checks(con, NOW, run_id="maint-1")
    by_name = {r.name: r for r in results}
    assert by_name["stuck_runs"].status == "error"
    assert "runs" in (by_name["stuck_runs"].error or "")
    assert by_name["empty_text"].status == "fail"
    rows = con.execute(
        "select check_name, status, offending, sample, run_id, checked_at from check_results"
    ).fetchall()
    assert len(rows) == len(results)
    recorded = {r[0]: r for r in rows}
    _, status, offending, sample, run_id, checked_at = recorded["empty_text"]
    assert (status, offending, run_id, checked_at) == ("fail", 2, "maint-1", NOW)
    assert {row["article_id"] for row in json.loads(sample)} == {10, 11}
    assert recorded["future_dates"][1] == "fail"
    assert recorded["stuck_runs"][1:3] == ("error", 0)


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_check_command_exit_codes(planted: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(_app(), ["check", "--db", str(planted)])
    assert shown.exit_code == 0, shown.output
    assert "empty_text" in shown.output and "fail" in shown.output
    strict = runner.invoke(_app(), ["check", "--db", str(planted), "--strict"])
    assert strict.exit_code == 1
    as_json = runner.invoke(
        _app(), ["check", "--db", str(planted), "--format", "json", "--no-record"]
    )
    assert as_json.exit_code == 0, as_json.output
    records = {r["check"]: r for r in json.loads(as_json.output)}
    assert records["credit_in_text"]["severity"] == "warning"
    assert {r["article_id"] for r in records["credit_in_text"]["sample"]} == {19, 20}

    # Only warnings failing: --strict passes.
    warned = tmp_path / "warned.duckdb"
    con = connect(warned)
    migrate(con)
    con.execute("insert into publishers (publisher_id, name) values (1, 'The Harbor Courier')")
    add_article(con, 1, text="The harbour opened.\nREAD MORE: the harbour story")
    con.close()
    ok = runner.invoke(_app(), ["check", "--db", str(warned), "--strict"])
    assert ok.exit_code == 0, ok.output
    recorded = connect(warned, read_only=True).execute(
        "select count(*) filter (where status = 'fail') from check_results"
    )
    assert recorded.fetchone() == (1,)


def test_check_command_without_warehouse(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["check", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
