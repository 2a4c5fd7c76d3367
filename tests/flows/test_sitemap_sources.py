"""Sitemaps as live sources and per-source settings, through the real ``ingest`` flow against a
loopback copy of the demo site with news sitemaps added (dates relative to now, as a live
publisher's would be)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from flows.demo import DemoServer
from flows.ingest import ingest as ingest_flow
from flows.ingest import politeness_overrides, source_hints
from flows.politeness import HostLimiter
from flows.reextract import reextract
from flows.settings import HostPoliteness, Settings
from flows.sources import Publisher, source_rows
from transforms.frames import entries_frame
from transforms.records import FeedEntry
from warehouse import load
from warehouse.db import connect
from warehouse.migrate import migrate

DEMO_SITE = Path(__file__).resolve().parents[2] / "demo" / "site"
LOOPBACK = {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0, "poll_interval_s": 900.0}
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
SM_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
HARBOR = "The Harbor Courier"
LEDGER = "Lakeside Ledger"
# Both demo sites have a last body paragraph these match; only the Harbor Courier uses them.
PRUNE = ["div.story-body > p:last-of-type", "div.post-body > p:last-of-type"]
OVERLAP = ("/harbor/2026/11/seal-count.html", "/harbor/2026/11/budget-tax-cut.html")
ONLY_IN_SITEMAP = "/harbor/2026/11/sitemap-only.html"
OLD_IN_SITEMAP = "/harbor/2026/11/ferry-weekend-closures.html"
ONLY_SENTENCE = (
    "The pilot boat crews of Port Carrick will switch to a new shift pattern from January, "
    "the harbor master announced on Monday after months of talks with the crews' union."
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _news_url(path: str, published: datetime, title: str, language: str = "en") -> str:
    return (
        f"<url><loc>{{{{BASE}}}}{path}</loc><news:news><news:publication>"
        f"<news:name>The Harbor Courier</news:name><news:language>{language}</news:language>"
        f"</news:publication><news:publication_date>{_iso(published)}</news:publication_date>"
        f"<news:title>{title}</news:title></news:news></url>"
    )


def _urlset(*urls: str, news: bool = False) -> str:
    namespace = f' xmlns:news="{NEWS_NS}"' if news else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{SM_NS}"{namespace}>' + (
        "".join(urls) + "</urlset>"
    )


def _index(*children: tuple[str, datetime | None]) -> str:
    items = "".join(
        f"<sitemap><loc>{{{{BASE}}}}{path}</loc>"
        + (f"<lastmod>{_iso(lastmod)}</lastmod>" if lastmod else "")
        + "</sitemap>"
        for path, lastmod in children
    )
    head = f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{SM_NS}">'
    return head + items + "</sitemapindex>"


ONLY_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Pilot boats change shifts | The Harbor Courier</title>
<meta property="og:type" content="article"></head>
<body><nav class="primary-nav"><a href="/harbor/index.html">Home</a></nav>
<main><article class="story"><h1 class="headline">Pilot boats change shifts</h1>
<div class="story-body">
<p>{ONLY_SENTENCE}</p>
<p>Pilots will work twelve-hour watches instead of the present eight, with four days off after
each block, which the union says will cut the number of night crossings each pilot makes.</p>
<p>The harbor master said the change would not affect service for ships calling at the port.</p>
</div></article></main></body></html>"""


def _build_site(root: Path, now: datetime) -> Path:
    site = root / "site"
    for name in ("harbor", "ledger"):
        shutil.copytree(DEMO_SITE / name, site / name)
    files = {
        "harbor/sitemap-index.xml": _index(
            ("/harbor/archive-sitemap.xml", datetime(2020, 1, 1, tzinfo=UTC)),
            ("/harbor/news-sitemap.xml", now - timedelta(minutes=30)),
        ),
        "harbor/news-sitemap.xml": _urlset(
            _news_url(OVERLAP[0], now - timedelta(hours=3), "Seals counted (sitemap)"),
            _news_url(OVERLAP[1], now - timedelta(hours=2), "Tax cut (sitemap)"),
            _news_url(ONLY_IN_SITEMAP, now - timedelta(hours=1), "Pilot boats (sitemap)", "en-US"),
            _news_url(OLD_IN_SITEMAP, now - timedelta(days=10), "Ferry (sitemap)"),
            news=True,
        ),
        "harbor/archive-sitemap.xml": _urlset(
            "<url><loc>{{BASE}}/harbor/2019/old.html</loc><lastmod>2019-05-01</lastmod></url>"
        ),
        ONLY_IN_SITEMAP.lstrip("/"): ONLY_PAGE,
        "old/sitemap.xml": _urlset(
            *(
                f"<url><loc>{{{{BASE}}}}/old/{n}.html</loc>"
                f"<lastmod>{_iso(now - timedelta(days=5))}</lastmod></url>"
                for n in ("a", "b")
            )
        ),
        "broken/self-index.xml": _index(("/broken/self-index.xml", None)),
        "broken/index-404.xml": _index(("/broken/missing.xml", None)),
    }
    for relative, text in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (site / "broken" / "bad.xml.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"not really gzip" * 20)
    return root


def _publishers(base: str) -> list[dict[str, Any]]:
    return [
        {
            "name": HARBOR,
            "domain": "harbor-courier.example",
            "language": "en",
            "feeds": [f"{base}/harbor/feed.rss"],
            "sitemaps": [f"{base}/harbor/sitemap-index.xml"],
            "poll_interval_s": 3600,
            "extraction": {"body_selector": "article.story", "prune_selectors": PRUNE},
        },
        {"name": LEDGER, "language": "en", "feeds": [f"{base}/ledger/atom.xml"]},
        {"name": "Old Sitemaps", "sitemaps": [f"{base}/old/sitemap.xml"]},
        {
            "name": "Broken Sitemaps",
            "sitemaps": [
                f"{base}/broken/bad.xml.gz",
                f"{base}/broken/self-index.xml",
                f"{base}/broken/index-404.xml",
            ],
        },
    ]


@dataclass
class Runs:
    db: Path
    base: str
    now: datetime
    summaries: list[dict[str, Any]]
    requests: list[list[tuple[str, dict[str, str]]]]
    reextracted: dict[str, Any]
    # feed URL -> (interval_s, next_check_reason, seconds from the fetch to the next check),
    # after each run
    states: list[dict[str, tuple[float, str, float]]]


@pytest.fixture(scope="module")
def runs(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("sitemaps")
    now = datetime.now(UTC)
    data = _build_site(root / "data", now)
    db = root / "w.duckdb"
    with DemoServer(data_dir=data) as server:
        params: dict[str, Any] = {
            "db": str(db),
            "publishers": _publishers(server.base_url),
            "all_feeds": True,
            "overrides": LOOPBACK,
        }
        summaries, requests, states = [], [], []
        for _ in range(2):
            before = len(server.requests)
            summaries.append(ingest_flow(**params))
            requests.append(server.requests[before:])
            states.append(_states(db, server.base_url))
    reextracted = reextract(db=str(db))
    yield Runs(db, server.base_url, now, summaries, requests, reextracted, states)


def _states(db: Path, base: str) -> dict[str, tuple[float, str, float]]:
    return {
        url.removeprefix(base): (interval, reason, (at - fetched).total_seconds())
        for url, interval, reason, at, fetched in _rows(
            db,
            "select f.url, s.interval_s, s.next_check_reason, s.next_check_at, s.last_fetch_at "
            "from feeds f join feed_state s using (feed_id)",
        )
    }


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _manifest(publisher: str) -> list[dict[str, Any]]:
    import json

    items = json.loads((DEMO_SITE / "manifest.json").read_text(encoding="utf-8"))
    return [item for item in items if item["publisher"] == publisher]


def test_feed_and_news_sitemap_load_each_article_once(runs: Runs) -> None:
    expected = len(_manifest(HARBOR)) + len(_manifest(LEDGER)) + 1
    assert _rows(runs.db, "select count(*), count(distinct url_key) from articles") == [
        (expected, expected)
    ]
    first = runs.summaries[0]
    assert first["articles_new"] == expected
    for path in (*OVERLAP, ONLY_IN_SITEMAP):
        url = runs.base + path
        pages = _rows(
            runs.db, "select count(*) from fetches where kind = 'page' and url = ?", [url]
        )
        assert pages == [(1,)], path
        assert [p for p, _ in runs.requests[0]].count(path) == 1, path
    # Listed by both: one article, credited to the feed (it says more than the sitemap).
    for path in OVERLAP:
        assert _rows(
            runs.db, "select discovered_via from articles where url = ?", [runs.base + path]
        ) == [("feed",)]


def test_sitemap_entries_carry_their_metadata(runs: Runs) -> None:
    rows = _rows(
        runs.db,
        "select e.url, e.title, e.published_at, e.language, e.discovered_via, e.guid "
        "from entries e join feeds f using (feed_id) where f.url = ? order by e.published_at",
        [f"{runs.base}/harbor/sitemap-index.xml"],
    )
    assert [r[0].removeprefix(runs.base) for r in rows] == [*OVERLAP, ONLY_IN_SITEMAP]
    assert [r[1] for r in rows] == [
        "Seals counted (sitemap)",
        "Tax cut (sitemap)",
        "Pilot boats (sitemap)",
    ]
    assert [r[3] for r in rows] == ["en", "en", "en-US"]
    assert {r[4] for r in rows} == {"sitemap"}
    assert all(r[5] == r[0] for r in rows)
    hours = [round((runs.now - r[2]).total_seconds() / 3600) for r in rows]
    assert hours == [3, 2, 1]
    feed_vias = _rows(
        runs.db,
        "select distinct e.discovered_via from entries e join feeds f using (feed_id) "
        "where f.source_type = 'feed'",
    )
    assert feed_vias == [("feed",)]
    # The old URL of the news sitemap and the archive sitemap's URL are outside the window.
    old = _rows(runs.db, "select count(*) from entries where url like '%ferry-weekend%'")
    assert old == [(1,)]  # the feed's entry only
    assert "/harbor/2019/old.html" not in [p for p, _ in runs.requests[0]]


def test_sitemap_only_article_takes_the_sitemaps_evidence(runs: Runs) -> None:
    row = _rows(
        runs.db,
        "select a.discovered_via, a.published_at, a.date_source, a.language, "
        "a.language_source, a.text, p.name, f.discovered_via "
        "from articles a join publishers p using (publisher_id) "
        "join fetches f on f.fetch_id = a.fetch_id where a.url = ?",
        [runs.base + ONLY_IN_SITEMAP],
    )
    via, published, date_source, language, language_source, text, publisher, fetch_via = row[0]
    assert (via, fetch_via, publisher) == ("sitemap", "sitemap", HARBOR)
    assert date_source == "feed"
    assert abs((runs.now - timedelta(hours=1) - published).total_seconds()) < 2
    assert (language, language_source) == ("en", "source")  # news:language, the page has none
    assert ONLY_SENTENCE in text


def test_sitemap_sources_are_registered_and_fetched_as_sitemaps(runs: Runs) -> None:
    feeds = dict(
        _rows(
            runs.db,
            "select f.url, f.source_type || ' ' || coalesce(f.kind, '-') from feeds f",
        )
    )
    assert feeds[f"{runs.base}/harbor/feed.rss"] == "feed rss"
    assert feeds[f"{runs.base}/harbor/sitemap-index.xml"] == "sitemap sitemap-index"
    assert feeds[f"{runs.base}/old/sitemap.xml"] == "sitemap sitemap"
    fetched = _rows(
        runs.db,
        "select url, status, error_class from fetches where kind = 'sitemap' and run_id = ? "
        "and url like '%/harbor/%' order by fetch_id",
        [runs.summaries[0]["run_id"]],
    )
    # The index, then its children newest first.
    assert [(u.removeprefix(runs.base), s, e) for u, s, e in fetched] == [
        ("/harbor/sitemap-index.xml", 200, None),
        ("/harbor/news-sitemap.xml", 200, None),
        ("/harbor/archive-sitemap.xml", 200, None),
    ]


def test_old_sitemap_loads_nothing(runs: Runs) -> None:
    rows = _rows(
        runs.db,
        "select count(e.guid), any_value(s.last_error_class), any_value(s.last_status) "
        "from feeds f join feed_state s using (feed_id) left join entries e using (feed_id) "
        "where f.url = ?",
        [f"{runs.base}/old/sitemap.xml"],
    )
    assert rows in ([(0, None, 200)], [(0, None, 304)])
    paths = [p for p, _ in runs.requests[0]]
    assert "/old/a.html" not in paths and "/old/b.html" not in paths


def test_broken_sitemaps_are_the_sources_errors(runs: Runs) -> None:
    state = dict(
        (url.removeprefix(runs.base), (cls, failures))
        for url, cls, failures in _rows(
            runs.db,
            "select f.url, s.last_error_class, s.consecutive_failures "
            "from feeds f join feed_state s using (feed_id)",
        )
    )
    assert state["/broken/bad.xml.gz"] == ("parse_error", 2)
    assert state["/broken/self-index.xml"] == ("sitemap_loop", 2)
    assert state["/broken/index-404.xml"] == ("http_4xx", 2)
    for healthy in ("/harbor/feed.rss", "/harbor/sitemap-index.xml", "/ledger/atom.xml"):
        assert state[healthy] == (None, 0), healthy
    first = runs.summaries[0]
    assert first["feeds_total"] == 7
    assert first["feeds_failed"] == 3
    fetches = {
        url.removeprefix(runs.base): (status, cls, error)
        for url, status, cls, error in _rows(
            runs.db,
            "select url, status, error_class, error from fetches where run_id = ? "
            "and url like '%/broken/%'",
            [first["run_id"]],
        )
    }
    assert fetches["/broken/bad.xml.gz"][1] == "parse_error"
    assert "gzip" in fetches["/broken/bad.xml.gz"][2]
    assert fetches["/broken/self-index.xml"][1] == "sitemap_loop"
    # The index itself answered fine; its child's row says what failed.
    assert fetches["/broken/index-404.xml"][:2] == (200, None)
    assert fetches["/broken/missing.xml"][:2] == (404, "http_4xx")
    # A failed source keeps no validators, so the next fetch reads it whole again.
    etags = _rows(
        runs.db,
        "select count(*) from feeds f join feed_state s using (feed_id) "
        "where f.url like '%/broken/%' and s.etag is not null",
    )
    assert etags == [(0,)]


def test_second_run_gets_304_on_the_sitemap_and_refetches_nothing(runs: Runs) -> None:
    second = runs.summaries[1]
    assert second["articles_new"] == 0
    assert second["pages_fetched"] == 0
    assert second["feeds_not_modified"] == 4  # harbor feed and sitemap, ledger feed, old
    paths = [p for p, _ in runs.requests[1]]
    index_headers = [h for p, h in runs.requests[1] if p == "/harbor/sitemap-index.xml"]
    assert len(index_headers) == 1 and "if-none-match" in index_headers[0]
    assert "/harbor/news-sitemap.xml" not in paths
    assert not [p for p in paths if p.endswith(".html")]
    status = _rows(
        runs.db,
        "select status from fetches where run_id = ? and url = ?",
        [second["run_id"], f"{runs.base}/harbor/sitemap-index.xml"],
    )
    assert status == [(304,)]


def test_extraction_hints_apply_to_their_source_only(runs: Runs) -> None:
    for item in _manifest(HARBOR):
        url = runs.base + item["path"]
        (text,) = _rows(runs.db, "select text from articles where url = ?", [url])[0]
        assert item["body_first_sentence"] in text, item["path"]
        assert item["body_last_sentence"] not in text, item["path"]
        spans = _rows(
            runs.db,
            "select r.rule, r.text from removed_spans r join articles a using (article_id) "
            "where a.url = ? and r.rule like 'source.%'",
            [url],
        )
        assert any(
            rule == "source.prune" and item["body_last_sentence"] in span for rule, span in spans
        ), item["path"]
        assert "source.body" in {rule for rule, _ in spans}, item["path"]
    for item in _manifest(LEDGER):
        url = runs.base + item["path"]
        (text,) = _rows(runs.db, "select text from articles where url = ?", [url])[0]
        assert item["body_last_sentence"] in text, item["path"]
    foreign = _rows(
        runs.db,
        "select count(*) from removed_spans r join articles a using (article_id) "
        "join publishers p using (publisher_id) where p.name <> ? and r.rule like 'source.%'",
        [HARBOR],
    )
    assert foreign == [(0,)]


def test_reextract_applies_the_stored_hints(runs: Runs) -> None:
    assert runs.reextracted["pages"] == runs.summaries[0]["articles_new"]
    assert runs.reextracted["articles_updated"] == 0  # same rules, same text
    (harbor_prunes,) = _rows(
        runs.db,
        "select count(*) from removed_spans r join articles a using (article_id) "
        "join publishers p using (publisher_id) where p.name = ? and r.rule = 'source.prune'",
        [HARBOR],
    )[0]
    assert harbor_prunes >= len(_manifest(HARBOR))
    hints = _rows(
        runs.db, "select body_selector, prune_selectors from publishers where name = ?", [HARBOR]
    )
    assert hints == [("article.story", PRUNE)]


def test_per_source_poll_floor(runs: Runs) -> None:
    # The first run: no publishing rate known yet, so the floor decides.
    first = runs.states[0]
    for path in ("/harbor/feed.rss", "/harbor/sitemap-index.xml"):
        assert first[path] == (3600.0, "policy", pytest.approx(3600.0, abs=1)), path
    assert first["/ledger/atom.xml"] == (900.0, "policy", pytest.approx(900.0, abs=1))
    assert first["/old/sitemap.xml"][:2] == (900.0, "policy")
    # Failing sources back off from the floor too.
    assert first["/broken/bad.xml.gz"][:2] == (1800.0, "backoff")
    # Later runs: the floor stays the least, whatever the rate says.
    for path in ("/harbor/feed.rss", "/harbor/sitemap-index.xml"):
        assert runs.states[1][path][0] >= 3600.0, path
    polls = _rows(
        runs.db,
        "select poll_interval_s from feeds f join publishers p using (publisher_id) "
        "where p.name = ?",
        [HARBOR],
    )
    assert polls == [(3600.0,), (3600.0,)]


# --- the pieces, without the flow ---------------------------------------------------------


def test_feed_and_sitemap_listing_one_page_make_one_page_job(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    publisher = Publisher(
        name="Both", feeds=["https://both.example/rss"], sitemaps=["https://both.example/news.xml"]
    )
    ids = load.register_sources(con, source_rows([publisher]))
    feed_id, publisher_id = ids["https://both.example/rss"]
    sitemap_id, _ = ids["https://both.example/news.xml"]
    page = "https://both.example/2026/11/30/story.html"
    now = datetime.now(UTC)
    from_feed = FeedEntry("g1", page, "From the feed", published_at=now)
    from_sitemap = FeedEntry(
        page, page, "From the sitemap", published_at=now, discovered_via="sitemap"
    )
    only_sitemap = FeedEntry(
        page + "2", page + "2", "Only", published_at=now, language="de", discovered_via="sitemap"
    )
    candidates = pl.concat(
        [
            entries_frame(sitemap_id, [from_sitemap, only_sitemap]),
            entries_frame(feed_id, [from_feed]),
        ]
    ).with_columns(pl.lit(publisher_id, dtype=pl.Int32()).alias("publisher_id"))
    todo = load.pages_to_fetch(con, candidates)
    assert todo.height == 2
    rows = {r["url"]: r for r in todo.iter_rows(named=True)}
    assert rows[page]["discovered_via"] == "feed"
    assert rows[page]["title"] == "From the feed"
    assert rows[page + "2"]["discovered_via"] == "sitemap"
    assert rows[page + "2"]["language"] == "de"
    load.load_feed_batch(
        con, "run-1", pl.DataFrame(), candidates.drop("publisher_id"), pl.DataFrame()
    )
    stored = con.execute(
        "select feed_id, discovered_via, language from entries order by feed_id, guid"
    ).fetchall()
    assert stored == [
        (feed_id, "feed", None),
        (sitemap_id, "sitemap", None),
        (sitemap_id, "sitemap", "de"),
    ]
    due = {d.url: d for d in load.due_feeds(con, [feed_id, sitemap_id], now)}
    assert due["https://both.example/news.xml"].source_type == "sitemap"
    assert due["https://both.example/rss"].source_type == "feed"
    con.close()


def test_registration_stores_and_replaces_per_source_settings(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    hinted = Publisher(
        name="Hinted",
        language="de",
        sitemaps=["https://h.example/news.xml"],
        poll_interval_s=1800,
        extraction={"body_selector": "main", "prune_selectors": [".ad", "aside"]},
    )
    ids = load.register_sources(con, source_rows([hinted]))
    (feed_id, publisher_id) = ids["https://h.example/news.xml"]
    hints = load.publisher_hints(con)
    assert hints[publisher_id] == load.PublisherHints("de", "main", (".ad", "aside"))
    (due,) = load.due_feeds(con, [feed_id], datetime.now(UTC))
    assert (due.source_type, due.poll_interval_s, due.last_success_at) == ("sitemap", 1800, None)
    page_hints = source_hints(hints[publisher_id], "fr-FR")
    assert page_hints is not None
    assert page_hints.language == "fr-FR"  # the entry's own language wins over the publisher's
    assert page_hints.prune_selectors == (".ad", "aside")
    fallback = source_hints(hints[publisher_id])
    assert fallback is not None and fallback.language == "de"
    assert source_hints(None) is None
    # The sources file drops the hints and the floor: so does the warehouse.
    plain = Publisher(name="Hinted", sitemaps=["https://h.example/news.xml"])
    load.register_sources(con, source_rows([plain]))
    assert load.publisher_hints(con)[publisher_id] == load.PublisherHints("de", None, ())
    (due,) = load.due_feeds(con, [feed_id], datetime.now(UTC))
    assert due.poll_interval_s is None
    con.close()


def test_publisher_politeness_overrides_its_hosts() -> None:
    publishers = [
        Publisher(
            name="Slow",
            domain="www.slow.example",
            feeds=["https://feeds.slow.example/rss"],
            sitemaps=["http://127.0.0.1:8080/sitemap.xml"],
            per_host_delay_s=5.0,
            per_host_concurrency=1,
        ),
        Publisher(
            name="Shared",
            feeds=["http://127.0.0.1:8080/rss"],
            per_host_delay_s=2.0,
            per_host_concurrency=3,
        ),
        Publisher(name="Default", feeds=["https://other.example/rss"]),
    ]
    overrides = politeness_overrides(publishers)
    assert overrides == {
        "feeds.slow.example": HostPoliteness(delay_s=5.0, concurrency=1),
        "slow.example": HostPoliteness(delay_s=5.0, concurrency=1),
        # Two publishers on one host: the most cautious of their values.
        "127.0.0.1:8080": HostPoliteness(delay_s=5.0, concurrency=1),
    }
    assert "other.example" not in overrides

    clock = [0.0]
    settings = Settings(per_host_delay_s=1.0, per_host_concurrency=2, host_politeness=overrides)
    limiter = HostLimiter.from_settings(settings, clock=lambda: clock[0])
    # The publisher's hosts: its delay and concurrency.
    assert limiter.try_acquire("www.slow.example") == 0.0  # a subdomain of its domain
    assert limiter.try_acquire("www.slow.example") == pytest.approx(5.0)
    assert limiter.delay_of("127.0.0.1:8080") == 5.0
    assert limiter.delay_of("127.0.0.1:9090") == 1.0  # another port: another host
    # Everyone else: the global settings.
    assert limiter.delay_of("other.example") == 1.0
    assert limiter.try_acquire("other.example") == 0.0
    clock[0] = 1.0
    assert limiter.try_acquire("other.example") == 0.0  # two in flight: the global limit
    clock[0] = 2.0
    assert limiter.try_acquire("other.example") == float("inf")
    clock[0] = 10.0
    limiter.release("www.slow.example")
    assert limiter.try_acquire("www.slow.example") == 0.0
    # Crawl-delay raises an overridden host from its own delay, not the global one.
    limiter.set_crawl_delay("feeds.slow.example", 3.0)
    assert limiter.delay_of("feeds.slow.example") == 5.0
    limiter.set_crawl_delay("feeds.slow.example", 8.0)
    assert limiter.delay_of("feeds.slow.example") == 8.0
