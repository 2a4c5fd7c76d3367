"""Run reports (figures from the warehouse, the markdown artifact), source-health events (who
is failing or silent, each episode announced once) and the maintenance flow."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows import reporting
from flows.maintenance import maintenance
from flows.reporting import (
    MAINTENANCE_REPORT_KEY,
    RUN_REPORT_KEY,
    SOURCE_FAILING,
    SOURCE_SILENT,
    HealthSettings,
    emit_health_events,
    health_signals,
    publish_run_report,
    render_run_report,
    run_report_data,
)
from tests.warehouse.test_checks import PLANTED, build_warehouse
from warehouse.db import connect
from warehouse.migrate import migrate

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
T0 = NOW - timedelta(days=1)


def _fetch(
    con: duckdb.DuckDBPyConnection, fetch_id: int, feed_id: int, kind: str, **fields: Any
) -> None:
    row = {
        "fetch_id": fetch_id,
        "run_id": "run-1",
        "feed_id": feed_id,
        "url": f"https://x.example/{fetch_id}",
        "kind": kind,
        "requested_at": NOW,
    } | fields
    con.execute(
        f"insert into fetches ({', '.join(row)}) values ({', '.join('?' for _ in row)})",
        list(row.values()),
    )


def _article(
    con: duckdb.DuckDBPyConnection, article_id: int, feed_id: int, fetch_id: int, version: int
) -> None:
    con.execute(
        "insert into articles (article_id, url_key, canonical_url, url, publisher_id, feed_id,"
        " text, first_seen_at, last_seen_at, content_hash, version, fetch_id)"
        " values (?, ?, 'u', 'u', 1, ?, 'text', ?, ?, 'h', ?, ?)",
        [article_id, f"k{article_id}", feed_id, NOW, NOW, version, fetch_id],
    )


def _state(con: duckdb.DuckDBPyConnection, feed_id: int, **fields: Any) -> None:
    row = {"feed_id": feed_id} | fields
    con.execute(
        f"insert into feed_state ({', '.join(row)}) values ({', '.join('?' for _ in row)})",
        list(row.values()),
    )


def _arrivals(con: duckdb.DuckDBPyConnection, feed_id: int, hours: list[int]) -> None:
    """The feed brought new entries in runs started ``T0 + h`` hours."""
    for h in hours:
        run_id = f"arrival-{h}"
        con.execute(
            "insert into runs (run_id, flow, started_at, status) values (?, 'ingest', ?,"
            " 'completed') on conflict do nothing",
            [run_id, T0 + timedelta(hours=h)],
        )
        con.execute(
            "insert into entries (feed_id, guid, url, url_key, first_seen_run)"
            " values (?, ?, 'u', 'k', ?)",
            [feed_id, f"{feed_id}-{h}", run_id],
        )


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = connect(tmp_path / "report.duckdb")
    migrate(con)
    con.execute("insert into publishers (publisher_id, name) values (1, 'Harbor'), (2, 'Ledger')")
    con.execute(
        "insert into feeds (feed_id, publisher_id, url, enabled) values"
        " (1, 1, 'https://harbor.example/rss', true),"
        " (2, 2, 'https://ledger.example/atom', true),"
        " (3, 2, 'https://ledger.example/broken', true),"
        " (4, 1, 'https://harbor.example/retired', true),"
        " (5, 1, 'https://harbor.example/disabled', false),"
        " (6, 2, 'https://ledger.example/young', true)"
    )
    # Hourly arrivals; feed 1 then answered for 4 hours with nothing new (3 x 1 h: silent),
    # feed 2 for only 2 hours, feed 6 has too few arrivals to know its usual interval.
    _arrivals(con, 1, [0, 1, 2, 3, 4, 5])
    _arrivals(con, 2, [0, 1, 2, 3, 4, 5])
    _arrivals(con, 6, [0, 1, 2])
    last = T0 + timedelta(hours=5)
    _state(con, 1, last_success_at=last + timedelta(hours=4), consecutive_failures=0)
    _state(con, 2, last_success_at=last + timedelta(hours=2), consecutive_failures=2)
    _state(
        con,
        3,
        last_success_at=T0,
        consecutive_failures=3,
        last_error_class="http_5xx",
        last_error="503 Service Unavailable",
        last_fetch_at=NOW,
    )
    _state(con, 4, consecutive_failures=9, retired_at=NOW)
    _state(con, 5, consecutive_failures=9)
    _state(con, 6, last_success_at=NOW, consecutive_failures=0)
    # One run's fetches: feed 1 fine with 4 pages, feed 3 failing, robots answers.
    _fetch(con, 1, 1, "feed", status=200)
    _fetch(con, 2, 3, "feed", status=503, error_class="http_5xx", error="503 Service Unavailable")
    _fetch(con, 3, 1, "page", status=200)
    _fetch(con, 4, 1, "page", status=200)
    _fetch(con, 5, 1, "page", error_class="timeout", error="read timeout")
    _fetch(con, 6, 1, "page", status=200, drop_reason="no_article")
    _fetch(con, 7, None, "robots", status=404, error_class="http_4xx", error="404 Not Found")
    _fetch(con, 8, None, "robots", status=503, error_class="robots_unavailable", error="503")
    _fetch(con, 9, 1, "page", status=200, run_id="run-0")
    _article(con, 1, 1, 3, version=1)
    _article(con, 2, 1, 4, version=2)
    _article(con, 3, 1, 9, version=1)  # another run's
    return con


def test_run_report_data(warehouse: duckdb.DuckDBPyConnection) -> None:
    errors, per_source = run_report_data(warehouse, "run-1")
    assert [(e["kind"], e["error_class"], e["fetches"]) for e in errors] == [
        ("feed", "http_5xx", 1),
        ("page", "timeout", 1),
        ("robots", "robots_unavailable", 1),
    ]  # a robots.txt answering 404 is "no rules", not an error
    by_feed = {s["feed_url"]: s for s in per_source}
    assert set(by_feed) == {"https://harbor.example/rss", "https://ledger.example/broken"}
    harbor = by_feed["https://harbor.example/rss"]
    assert harbor["publisher"] == "Harbor"
    assert (harbor["feed_status"], harbor["pages"], harbor["pages_failed"]) == (200, 4, 1)
    assert (harbor["pages_dropped"], harbor["articles_new"], harbor["articles_updated"]) == (
        1,
        1,
        1,
    )
    broken = by_feed["https://ledger.example/broken"]
    assert (broken["feed_status"], broken["feed_error_class"], broken["pages"]) == (
        503,
        "http_5xx",
        0,
    )


def test_render_run_report(warehouse: duckdb.DuckDBPyConnection) -> None:
    summary = {"run_id": "run-1", "status": "completed", "articles_new": 1, "feeds_failed": 1}
    markdown = render_run_report(summary, *run_report_data(warehouse, "run-1"))
    assert markdown.startswith("# Ingest run `run-1`")
    assert "| articles new | 1 |" in markdown
    assert "| feed | http_5xx | 1 | 1 | 503 Service Unavailable |" in markdown
    assert "| Harbor | https://harbor.example/rss | 200 |  | 4 | 1 | 1 | 1 | 1 |" in markdown
    empty = render_run_report({"run_id": "r"}, [], [])
    assert "No fetch failed." in empty and "No feed was due." in empty


def test_health_signals(warehouse: duckdb.DuckDBPyConnection) -> None:
    signals = health_signals(warehouse, NOW, HealthSettings())
    assert {(s.event, s.feed_id) for s in signals} == {(SOURCE_FAILING, 3), (SOURCE_SILENT, 1)}
    failing = next(s for s in signals if s.event == SOURCE_FAILING)
    assert failing.payload["consecutive_failures"] == 3
    assert failing.payload["last_error_class"] == "http_5xx"
    assert failing.episode == T0.isoformat()
    silent = next(s for s in signals if s.event == SOURCE_SILENT)
    assert silent.payload["usual_interval_s"] == 3600.0
    assert silent.payload["last_arrival_at"] == (T0 + timedelta(hours=5)).isoformat()
    assert silent.payload["silent_for_s"] == 19 * 3600.0
    # Lower thresholds: feed 2 fails after 2, and 2 hours of silence is enough at factor 1.5.
    looser = HealthSettings(failing_after=2, silent_factor=1.5)
    assert {(s.event, s.feed_id) for s in health_signals(warehouse, NOW, looser)} == {
        (SOURCE_FAILING, 2),
        (SOURCE_FAILING, 3),
        (SOURCE_SILENT, 1),
    }  # feed 2 is failing now, so not reported silent


def test_failing_threshold_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_FAILING_AFTER", "5")
    assert HealthSettings().failing_after == 5


class _Recorder:
    def __init__(self, answer: Any = "sent") -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer = answer

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.answer


def test_health_events_are_sent_once_per_episode(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reporting, "_events_reach_a_server", lambda: True)
    offline = _Recorder(answer=None)  # the events client takes nothing: nothing is recorded
    monkeypatch.setattr(reporting, "emit_event", offline)
    assert emit_health_events(warehouse, NOW) == []
    assert len(offline.calls) == 2
    assert warehouse.execute("select count(*) from health_events").fetchone() == (0,)

    recorder = _Recorder()
    monkeypatch.setattr(reporting, "emit_event", recorder)
    sent = emit_health_events(warehouse, NOW)
    assert {(s.event, s.feed_id) for s in sent} == {(SOURCE_FAILING, 3), (SOURCE_SILENT, 1)}
    failing = next(c for c in recorder.calls if c["event"] == SOURCE_FAILING)
    assert failing["resource"] == {
        "prefect.resource.id": "newsdesk.feed.3",
        "prefect.resource.name": "https://ledger.example/broken",
        "newsdesk.publisher": "Ledger",
    }
    assert failing["related"][0]["prefect.resource.id"] == "newsdesk.publisher.2"
    assert failing["payload"]["threshold"] == 3
    assert failing["occurred"] == NOW
    recorded = warehouse.execute(
        "select feed_id, event, payload from health_events order by feed_id"
    ).fetchall()
    assert [(r[0], r[1]) for r in recorded] == [(1, SOURCE_SILENT), (3, SOURCE_FAILING)]
    assert json.loads(recorded[1][2])["feed_url"] == "https://ledger.example/broken"

    recorder.calls.clear()
    assert emit_health_events(warehouse, NOW + timedelta(minutes=15)) == []
    assert recorder.calls == []

    # Feed 3 recovers, then fails three times again: a new episode.
    warehouse.execute(
        "update feed_state set last_success_at = ? where feed_id = 3", [NOW + timedelta(hours=1)]
    )
    again = emit_health_events(warehouse, NOW + timedelta(hours=3))
    assert [(s.event, s.feed_id) for s in again] == [(SOURCE_FAILING, 3)]


def test_no_events_without_a_prefect_server(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reporting, "_events_reach_a_server", lambda: False)
    recorder = _Recorder()
    monkeypatch.setattr(reporting, "emit_event", recorder)
    assert emit_health_events(warehouse, NOW) == []
    assert recorder.calls == []
    assert warehouse.execute("select count(*) from health_events").fetchone() == (0,)


@flow
def _report_flow(summary: dict[str, Any], db: str) -> UUID:
    con = connect(db, read_only=True)
    try:
        data = run_report_data(con, "run-1")
    finally:
        con.close()
    return publish_run_report(summary, *data)


def _artifacts(key: str) -> list[Any]:
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )


def test_publish_run_report(
    prefect_harness: None, warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    warehouse.close()
    summary = {"run_id": "run-1", "status": "completed", "articles_new": 1}
    state = _report_flow(summary, str(tmp_path / "report.duckdb"), return_state=True)
    artifact_id = state.result()
    (artifact,) = [a for a in _artifacts(RUN_REPORT_KEY) if a.id == artifact_id]
    assert artifact.type == "markdown"
    assert artifact.flow_run_id == state.state_details.flow_run_id
    assert "## Errors by class" in artifact.data and "https://harbor.example/rss" in artifact.data


def test_maintenance_flow(prefect_harness: None, tmp_path: Path) -> None:
    db = tmp_path / "planted.duckdb"
    build_warehouse(db)
    summary = maintenance(db=str(db), export_dir=str(tmp_path / "export"))
    assert summary["status"] == "completed"
    manifest = json.loads((tmp_path / "export" / "_manifest.json").read_text(encoding="utf-8"))
    assert sum(t["rows"] for t in manifest["tables"].values()) == summary["exported_rows"]
    assert manifest["tables"]["check_results"]["rows"] == summary["checks"]
    assert summary["checks"] >= 10 and summary["checks_failed"] >= 8
    con = connect(db, read_only=True)
    statuses = dict(
        con.execute(
            "select check_name, status from check_results where run_id = ?", [summary["run_id"]]
        ).fetchall()
    )
    assert statuses == {name: "fail" if keys else "pass" for name, keys in PLANTED.items()}
    run = con.execute(
        "select flow, status from runs where run_id = ?", [summary["run_id"]]
    ).fetchone()
    assert run == ("maintenance", "completed")
    con.close()
    reports = _artifacts(MAINTENANCE_REPORT_KEY)
    assert any("### empty_text: 2 offending rows" in (a.data or "") for a in reports)


def test_maintenance_refuses_an_empty_db(prefect_harness: None) -> None:
    with pytest.raises(ValueError, match="newsdesk_db"):
        maintenance(db="")
