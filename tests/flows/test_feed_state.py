"""The feed state machine and politeness through the real flow: moves, retirement, robots.txt,
due-only polling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from flows.demo import DemoServer, Route
from flows.ingest import ingest

LOOPBACK = {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0}
RSS = "application/rss+xml"


def _feed(base: str, *links: str) -> bytes:
    items = "".join(
        f"<item><title>{link}</title><link>{base}{link}</link><guid>{link}</guid></item>"
        for link in links
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_moves_retirement_robots_and_due_polling(prefect_harness: None, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with DemoServer() as server:
        base = server.base_url
        article = "/harbor/2026/11/ferry-weekend-closures.html"
        server.add_route("/robots.txt", Route(200, b"User-agent: *\nDisallow: /private/\n"))
        server.add_route("/moved.rss", Route(301, b"", {"Location": "/new.rss"}))
        server.add_route("/new.rss", Route(200, _feed(base, article), {"Content-Type": RSS}))
        server.add_route("/gone.rss", Route(410, b"Gone"))
        server.add_route(
            "/private.rss",
            Route(200, _feed(base, "/private/secret.html"), {"Content-Type": RSS}),
        )
        publishers = [
            {"name": "Movers", "feeds": [f"{base}/moved.rss", f"{base}/gone.rss"]},
            {"name": "Private", "feeds": [f"{base}/private.rss"]},
        ]
        params: dict[str, Any] = {"db": str(db), "publishers": publishers, "overrides": LOOPBACK}
        first = ingest(**params, all_feeds=True)
        assert first["feeds_total"] == 3
        assert first["articles_new"] == 1
        assert first["feeds_failed"] == 1  # the 410

        feeds = dict(_rows(db, "select url, feed_id from feeds"))
        assert f"{base}/new.rss" in feeds and f"{base}/moved.rss" not in feeds
        moves = _rows(db, "select old_url, new_url, status from feed_moves")
        assert moves == [(f"{base}/moved.rss", f"{base}/new.rss", 301)]
        retired = _rows(
            db,
            "select s.retired_at is not null, s.next_check_reason from feed_state s "
            "join feeds f using (feed_id) where f.url = ?",
            [f"{base}/gone.rss"],
        )
        assert retired == [(True, "retired")]
        refused = _rows(
            db,
            "select error_class, robots_decision from fetches where url like '%/private/secret%'",
        )
        assert refused and refused[0][0] == "robots_disallowed"
        assert refused[0][1].startswith("disallowed")
        assert _rows(db, "select count(*) from robots_cache") == [(1,)]
        robots_fetches = _rows(db, "select count(*) from fetches where kind = 'robots'")
        assert robots_fetches == [(1,)]
        allowed = _rows(
            db,
            "select robots_decision from fetches where kind = 'page' and url like ?",
            [f"%{article}"],
        )
        assert allowed == [("allowed",)]

        # Not due yet: nothing is fetched, and the old URL in the sources maps to the moved feed.
        before = len(server.requests)
        second = ingest(**params)
        assert second["feeds_total"] == 0
        assert len(server.requests) == before
        assert _rows(db, "select count(*) from feeds") == [(3,)]

        # Forced: the moved feed is fetched at its new address, the retired one not at all.
        before = len(server.requests)
        third = ingest(**params, all_feeds=True)
        paths = [path for path, _ in server.requests[before:]]
        assert "/new.rss" in paths and "/moved.rss" not in paths and "/gone.rss" not in paths
        assert third["feeds_total"] == 2
        assert _rows(db, "select count(*) from robots_cache") == [(1,)]
        # robots.txt came from the warehouse cache: not requested again.
        assert "/robots.txt" not in paths
