"""The backfill flow end to end: sitemaps of the demo site, the WARC corpus, archives served by
loopback servers that answer like the Wayback Machine and Common Crawl, and resuming."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.backfill import BackfillError, backfill, check_request
from flows.demo import DemoServer, Route
from tests.flows.archive_servers import ArchivedCapture, CommonCrawlServer, WaybackServer

LOOPBACK = {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0}
XML = {"Content-Type": "application/xml; charset=utf-8"}
REPO = Path(__file__).resolve().parents[2]


def _published(article: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(article["published_utc"].replace("Z", "+00:00"))


def _of(manifest: list[dict[str, Any]], publisher: str) -> list[dict[str, Any]]:
    return [a for a in manifest if a["publisher"] == publisher]


def _news_sitemap(base: str, articles: list[dict[str, Any]]) -> bytes:
    urls = "".join(
        f"""<url><loc>{base}{a["path"]}</loc><news:news>
        <news:publication><news:name>{a["publisher"]}</news:name>
        <news:language>{a["language"]}</news:language></news:publication>
        <news:publication_date>{a["published_utc"]}</news:publication_date>
        <news:title>{a["title"].replace("&", "&amp;")}</news:title></news:news></url>"""
        for a in articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>"
    ).encode()


def _urlset(base: str, articles: list[dict[str, Any]], lastmod_delay: timedelta) -> bytes:
    urls = "".join(
        f"<url><loc>{base}{a['path']}</loc>"
        f"<lastmod>{(_published(a) + lastmod_delay).isoformat()}</lastmod></url>"
        for a in articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + urls + "</urlset>"
    ).encode()


def _index(children: list[str]) -> bytes:
    items = "".join(f"<sitemap><loc>{c}</loc></sitemap>" for c in children)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + items
        + "</sitemapindex>"
    ).encode()


def _sitemap_routes(base: str, manifest: list[dict[str, Any]]) -> dict[str, Route]:
    """robots.txt → an index (that also lists itself) → a gzipped news sitemap of the Harbor
    Courier, a plain urlset with lastmod of the Lakeside Ledger, and a broken gzip."""
    harbor = _of(manifest, "The Harbor Courier")
    ledger = _of(manifest, "Lakeside Ledger")
    index = _index(
        [
            f"{base}/sitemaps/index.xml",  # itself: a loop, reported and not followed
            f"{base}/sitemaps/harbor-news.xml.gz",
            f"{base}/sitemaps/ledger.xml",
            f"{base}/sitemaps/broken.xml.gz",
        ]
    )
    return {
        "/robots.txt": Route(
            200, f"User-agent: *\nAllow: /\nSitemap: {base}/sitemaps/index.xml\n".encode()
        ),
        "/sitemaps/index.xml": Route(200, index, XML),
        "/sitemaps/harbor-news.xml.gz": Route(
            200, gzip.compress(_news_sitemap(base, harbor)), {"Content-Type": "application/gzip"}
        ),
        "/sitemaps/ledger.xml": Route(200, _urlset(base, ledger, timedelta(hours=2)), XML),
        "/sitemaps/broken.xml.gz": Route(
            200, gzip.compress(b"<urlset>" * 50)[:40], {"Content-Type": "application/gzip"}
        ),
    }


def _backfill_cli(via: str) -> list[str]:
    """`newsdesk backfill --via VIA` as a child process's command line (this interpreter)."""
    return [sys.executable, "-c", "from flows.cli import main; main()", "backfill", "--via", via]


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 10, tzinfo=UTC)


@pytest.fixture()
def sitemap_site(demo_manifest: list[dict[str, Any]]) -> Any:
    with DemoServer() as server:
        for path, route in _sitemap_routes(server.base_url, demo_manifest).items():
            server.add_route(path, route)
        yield server


def test_sitemap_backfill_loads_the_window_and_resumes_as_a_no_op(
    prefect_harness: None,
    tmp_path: Path,
    sitemap_site: DemoServer,
    demo_manifest: list[dict[str, Any]],
) -> None:
    db = tmp_path / "w.duckdb"
    params: dict[str, Any] = {
        "via": "sitemap",
        "since": "2026-11-02",
        "until": "2026-11-10",
        "url": sitemap_site.base_url + "/",
        "db": str(db),
        "overrides": LOOPBACK,
    }
    summary = backfill(**params)

    expected = {
        a["path"]: _published(a)
        for a in demo_manifest
        if a["publisher"] in ("The Harbor Courier", "Lakeside Ledger")
        and SINCE <= _published(a) < UNTIL
    }
    loaded = {
        url.removeprefix(sitemap_site.base_url): published
        for url, published in _rows(db, "select url, published_at from articles")
    }
    assert loaded == expected
    assert summary["status"] == "completed"
    assert summary["articles_new"] == len(expected)
    # Days 2..9 and the undated chunk, every one done.
    chunks = _rows(db, "select label, status from backfill_chunks order by chunk_index")
    assert [label for label, _ in chunks] == [
        *(f"2026-11-{day:02d}" for day in range(2, 10)),
        "undated",
    ]
    assert {status for _, status in chunks} == {"done"}
    assert set(_rows(db, "select distinct discovered_via from articles")) == {("sitemap",)}
    # The loop, the broken gzip: recorded as problems, not crashes.
    problems = " | ".join(summary["problems"])
    assert "index.xml again" in problems
    assert "broken.xml.gz" in problems
    # News sitemap dates are exact: no Harbor page outside the window was fetched. A lastmod
    # after the window does not say when the page was published: those Ledger pages were
    # fetched and dropped by their own date, and say so.
    fetched = {path for path, _ in sitemap_site.requests if path.endswith(".html")}
    assert {p for p in fetched if p.startswith("/harbor/")} == {
        p for p in expected if p.startswith("/harbor/")
    }
    ledger_late = {
        a["path"] for a in _of(demo_manifest, "Lakeside Ledger") if _published(a) >= UNTIL
    }
    assert {p for p in fetched if p.startswith("/ledger/")} == (
        {p for p in expected if p.startswith("/ledger/")} | ledger_late
    )
    dropped = _rows(db, "select url, error from fetches where drop_reason = 'outside_window'")
    assert {url.removeprefix(sitemap_site.base_url) for url, _ in dropped} == ledger_late
    assert all("outside 2026-11-02 – 2026-11-10" in error for _, error in dropped)

    again = backfill(**params)
    assert again["job_id"] == summary["job_id"]
    assert again["chunks_run"] == 0
    assert _rows(db, "select count(*) from articles")[0][0] == len(expected)


def test_backfill_refuses_bad_requests() -> None:
    with pytest.raises(BackfillError, match="via must be one of"):
        check_request("ftp", "2026-11-01", None, None, "http://x.example/", None, "day")
    with pytest.raises(BackfillError, match="--since is required"):
        check_request("sitemap", None, None, None, "http://x.example/", None, "day")
    with pytest.raises(BackfillError, match="--until must be after --since"):
        check_request("sitemap", "2026-11-05", "2026-11-01", None, "http://x/", None, "day")
    with pytest.raises(BackfillError, match="needs --path"):
        check_request("warc", None, None, None, None, None, "day")
    with pytest.raises(BackfillError, match="not a date"):
        check_request("sitemap", "yesterday", None, None, "http://x.example/", None, "day")
    with pytest.raises(BackfillError, match="not both"):
        check_request("sitemap", "2026-11-01", None, "BBC News", "http://x.example/", None, "day")
    with pytest.raises(BackfillError, match="chunk must be one of"):
        check_request("sitemap", "2026-11-01", None, None, "http://x.example/", None, "year")
    # No --until: the window ends with today (UTC), in whole days.
    window = check_request("wayback", "2026-11-01", None, None, "http://x.example/", None, "day")
    assert window.until is not None and window.until > datetime.now(UTC)
    assert window.until.hour == 0 and window.until - datetime.now(UTC) <= timedelta(days=1)


def _html_responses(path: Path) -> int:
    """HTML response/resource records, counted with warcio alone (what backfill must load)."""
    count = 0
    with path.open("rb") as handle:
        try:
            for record in ArchiveIterator(handle, arc2warc=True):
                if record.rec_type not in ("response", "resource"):
                    continue
                if record.rec_type == "response" and record.http_headers is not None:
                    kind = record.http_headers.get_header("Content-Type") or ""
                else:
                    kind = record.rec_headers.get_header("Content-Type") or ""
                if "html" in kind.lower():
                    count += 1
        except Exception:  # a damaged file: the records before the damage count
            pass
    return count


def test_warc_backfill_loads_every_html_response(
    prefect_harness: None, tmp_path: Path, corpus: Path
) -> None:
    folder = corpus / "backfill" / "warc"
    expected = sum(_html_responses(f) for f in sorted(folder.iterdir()) if f.is_file())
    assert expected >= 4
    db = tmp_path / "w.duckdb"
    summary = backfill(via="warc", path=str(folder), db=str(db))

    html_rows = _rows(
        db,
        """
        select url, error_class, drop_reason, captured_at from fetches
        where discovered_via = 'warc' and kind = 'page'
          and coalesce(drop_reason, '') <> 'not_html' and error_class is null
        """,
    )
    assert len(html_rows) == expected
    assert all(captured is not None for *_, captured in html_rows)
    articles = _rows(db, "select url, published_at, captured_at, discovered_via from articles")
    assert any("houstonpress" in url for url, *_ in articles)
    assert {via for *_, via in articles} == {"warc"}
    # The damaged files are recorded as such, and every file is a finished chunk.
    damaged = _rows(db, "select distinct error_class from fetches where error_class like 'warc_%'")
    assert damaged
    assert summary["status"] == "completed"
    files = [f for f in folder.iterdir() if f.is_file() and (".warc" in f.name or ".arc" in f.name)]
    assert summary["chunks"] == len(files)
    # Again: nothing new, nothing run.
    again = backfill(via="warc", path=str(folder), db=str(db))
    assert again["chunks_run"] == 0
    assert _rows(db, "select count(*) from articles")[0][0] == len(articles)


def _plain(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows with times as UTC ISO strings (a lake's and a file's time zone objects differ)."""
    return sorted(
        (
            tuple(v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in row)
            for row in rows
        ),
        key=repr,
    )


def test_warc_backfill_on_a_lake_loads_what_the_file_does(
    prefect_harness: None,
    tmp_path: Path,
    corpus: Path,
    new_lake: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`newsdesk backfill --via warc` against a ``ducklake:`` target: the same articles and
    fetches as into a DuckDB file, resumed as a no-op, and listed by --status."""
    import json

    from typer.testing import CliRunner

    from flows.cli import app
    from warehouse.db import connect

    folder = corpus / "backfill" / "warc"
    monkeypatch.setenv("NEWSDESK_DUCKLAKE_DATA_PATH", str(tmp_path / "lake") + "/")
    monkeypatch.setenv("NEWSDESK_CAPTURES_DIR", str(tmp_path / "captures"))
    runner = CliRunner()
    command = ["backfill", "--via", "warc", "--path", str(folder), "--db", new_lake]
    ran = runner.invoke(app, command)
    assert ran.exit_code == 0, ran.output
    assert "completed" in ran.output
    db = tmp_path / "w.duckdb"
    backfill(via="warc", path=str(folder), db=str(db))

    # Several files hold example.com: which capture becomes its article (the others are
    # "known") depends on which chunk finishes first. The text is compared for the others.
    queries = {
        "articles": "select url_key, discovered_via, version from articles",
        "texts": """
            select url_key, url, content_hash, captured_at from articles
            where url_key in (select url_key from fetches where kind = 'page'
                              group by url_key having count(*) = 1)""",
        "fetches": "select url, kind, status, error_class, drop_reason, captured_at "
        "from fetches where kind = 'page'",
        "chunks": "select label, status from backfill_chunks",
    }
    lake = connect(new_lake, read_only=True)
    try:
        on_lake = {k: sorted(lake.execute(q).fetchall(), key=repr) for k, q in queries.items()}
    finally:
        lake.close()
    in_file = {k: sorted(_rows(db, q), key=repr) for k, q in queries.items()}
    assert on_lake["articles"] and on_lake["texts"]
    for name in queries:
        assert _plain(on_lake[name]) == _plain(in_file[name]), name

    again = runner.invoke(app, [*command, "--format", "json"])
    assert again.exit_code == 0, again.output
    listed = runner.invoke(app, ["backfill", "--status", "--db", new_lake, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    (job,) = json.loads(listed.stdout)
    assert job["via"] == "warc" and job["status"] == "completed"
    lake = connect(new_lake, read_only=True)
    try:
        assert lake.execute("select count(*) from articles").fetchone() == (
            len(on_lake["articles"]),
        )
        # The second run found every chunk done: it ran none.
        runs = lake.execute(
            "select count(*) from runs where flow = 'backfill' and status = 'completed'"
        ).fetchone()
        assert runs == (2,)
    finally:
        lake.close()


def _page_bytes(base: str, path: str) -> bytes:
    return (
        (REPO / "demo" / "site" / path.lstrip("/")).read_bytes().replace(b"{{BASE}}", base.encode())
    )


def _rss(base: str, articles: list[dict[str, Any]]) -> bytes:
    items = "".join(
        f"<item><title>{a['title'].replace('&', '&amp;')}</title>"
        f"<link>{base}{a['path']}</link><guid>{a['path']}</guid>"
        f"<pubDate>{_published(a).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for a in articles
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>The Harbor Courier</title>'
        f"<link>{base}/harbor/</link>{items}</channel></rss>"
    ).encode()


def test_wayback_backfill_reads_old_feed_snapshots_and_raw_captures(
    prefect_harness: None, tmp_path: Path, demo_manifest: list[dict[str, Any]]
) -> None:
    harbor = sorted(_of(demo_manifest, "The Harbor Courier"), key=_published)
    in_window = [a for a in harbor if SINCE <= _published(a) < UNTIL]
    assert len(in_window) >= 4
    with DemoServer() as live:
        base = live.base_url
        feed_url = base + "/harbor/feed.rss"
        # The feed as archived twice during the window and once after it; the live feed today
        # no longer lists these articles (it is not asked for).
        early = datetime(2026, 11, 4, 12, tzinfo=UTC)
        late = datetime(2026, 11, 11, 6, tzinfo=UTC)
        snapshots = [
            ArchivedCapture(
                feed_url,
                early,
                _rss(base, [a for a in harbor if _published(a) < early]),
                mimetype="application/rss+xml",
            ),
            ArchivedCapture(
                feed_url,
                early + timedelta(hours=6),
                _rss(base, [a for a in harbor if _published(a) < early]),
                mimetype="application/rss+xml",
            ),
            ArchivedCapture(
                feed_url,
                late,
                _rss(base, [a for a in harbor if _published(a) < late]),
                mimetype="application/rss+xml",
            ),
        ]
        # Every page archived three hours after publication, except the last one (live).
        missing = in_window[-1]
        pages = [
            ArchivedCapture(
                base + a["path"], _published(a) + timedelta(hours=3), _page_bytes(base, a["path"])
            )
            for a in harbor
            if a is not missing
        ]
        with WaybackServer([*snapshots, *pages]) as archive:
            summary = backfill(
                via="wayback",
                since="2026-11-02",
                until="2026-11-10",
                url=feed_url,
                chunk="week",
                db=str(tmp_path / "w.duckdb"),
                overrides={
                    **LOOPBACK,
                    "wayback_cdx_url": archive.cdx_url,
                    "wayback_web_url": archive.web_url,
                },
            )
            archive_requests = list(archive.requests)
        live_requests = [path for path, _ in live.requests]

    db = tmp_path / "w.duckdb"
    rows = _rows(db, "select url, published_at, captured_at, discovered_via, text from articles")
    by_path = {url.removeprefix(base): row for url, *row in rows}
    assert set(by_path) == {a["path"] for a in in_window}
    for article in in_window:
        published, captured, via, text = by_path[article["path"]]
        # The date is the page's own, not the archive's.
        assert published == _published(article)
        assert via == "wayback"
        assert article["body_first_sentence"][:60] in text
        if article is missing:
            assert captured is None  # taken live: the archive had no capture
        else:
            assert captured == _published(article) + timedelta(hours=3)
    # Raw captures only (no toolbar), and nothing else from the live site but the one page.
    assert all("id_/" in r for r in archive_requests if r.startswith("/web/"))
    assert live_requests == [missing["path"]] or live_requests == ["/robots.txt", missing["path"]]
    assert summary["status"] == "completed"
    assert summary["chunks"] == 3  # two ISO weeks and the undated chunk


def test_commoncrawl_backfill_takes_records_by_byte_range(
    prefect_harness: None, tmp_path: Path, demo_manifest: list[dict[str, Any]]
) -> None:
    ledger = _of(demo_manifest, "Lakeside Ledger")
    base = "http://ledger.example"
    crawl_from, crawl_to = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    captures = [
        ArchivedCapture(
            base + a["path"], _published(a) + timedelta(days=1), _page_bytes(base, a["path"])
        )
        for a in ledger
    ]
    # A non-HTML capture of the site too: listed by the index, filtered out by the query.
    captures.append(
        ArchivedCapture(
            base + "/ledger/logo.png",
            SINCE + timedelta(days=1),
            b"\x89PNG\r\n",
            mimetype="image/png",
        )
    )
    with CommonCrawlServer([("CC-MAIN-2026-47", crawl_from, crawl_to)], captures) as cc:
        summary = backfill(
            via="commoncrawl",
            since="2026-11-02",
            until="2026-11-16",
            url=base + "/",
            chunk="week",
            db=str(tmp_path / "w.duckdb"),
            overrides={
                **LOOPBACK,
                "cc_collinfo_url": cc.collinfo_url,
                "cc_data_url": cc.data_url,
            },
        )
        ranged = [h.get("range") for h in cc.request_headers if h.get("range")]
    db = tmp_path / "w.duckdb"
    rows = _rows(db, "select url, published_at, captured_at, discovered_via from articles")
    # Captured (crawled) inside the window: a day after publication.
    expected = {
        a["path"]: _published(a)
        for a in ledger
        if SINCE <= _published(a) + timedelta(days=1) < datetime(2026, 11, 16, tzinfo=UTC)
        and SINCE <= _published(a) < datetime(2026, 11, 16, tzinfo=UTC)
    }
    assert {url.removeprefix(base): published for url, published, *_ in rows} == expected
    assert all(via == "commoncrawl" for *_, via in rows)
    assert all(captured == published + timedelta(days=1) for _, published, captured, _ in rows)
    assert len(ranged) >= len(expected)
    assert summary["status"] == "completed"


def _articles_snapshot(db: Path) -> list[tuple[Any, ...]]:
    return _rows(
        db,
        """
        select url_key, canonical_url, content_hash, published_at, discovered_via, version
        from articles order by url_key
        """,
    )


def _done_chunks(db: Path) -> int | None:
    """Finished chunks, read between the writer's short transactions (None: file busy)."""
    if not db.exists():
        return None
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute("select count(*) from backfill_chunks where status = 'done'").fetchone()
        return int(row[0]) if row else 0
    except duckdb.Error:
        return None
    finally:
        con.close()


def test_a_killed_backfill_resumes_to_exactly_the_rows_of_an_uninterrupted_run(
    prefect_harness: None,
    tmp_path: Path,
    sitemap_site: DemoServer,
    demo_manifest: list[dict[str, Any]],
) -> None:
    from prefect.settings import PREFECT_API_URL

    killed_db, reference_db = tmp_path / "killed.duckdb", tmp_path / "reference.duckdb"
    window = ["--since", "2026-11-02", "--until", "2026-11-28"]
    command = [
        *_backfill_cli("sitemap"),
        *window,
        "--url",
        sitemap_site.base_url + "/",
        "--allow-private",
        "127.0.0.1/32",
        "--db",
        str(killed_db),
    ]
    # The child talks to this session's Prefect API; pages come slowly enough to kill it midway.
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "NEWSDESK_PER_HOST_DELAY_S": "0.25",
        "NEWSDESK_CONCURRENCY": "2",
    }
    log = (tmp_path / "killed.log").open("wb")
    child = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and child.poll() is None:
            done = _done_chunks(killed_db)
            if done is not None and done >= 4:
                break
            time.sleep(0.2)
        assert child.poll() is None, (tmp_path / "killed.log").read_text(errors="replace")[-2000:]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        log.close()
    total_chunks = 27  # 26 days and the undated chunk
    done_before = _done_chunks(killed_db)
    assert done_before is not None and 4 <= done_before < total_chunks

    resumed = subprocess.run(command, env=env, cwd=REPO, capture_output=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode(errors="replace")[-2000:]

    backfill(
        via="sitemap",
        since="2026-11-02",
        until="2026-11-28",
        url=sitemap_site.base_url + "/",
        db=str(reference_db),
        overrides=LOOPBACK,
    )
    assert _articles_snapshot(killed_db) == _articles_snapshot(reference_db)
    assert len(_articles_snapshot(killed_db)) >= 15
    chunks = _rows(
        killed_db, "select status, count(*), sum(articles_new) from backfill_chunks group by 1"
    )
    # Every chunk done once; the chunks' counts add up to the articles (none loaded twice).
    assert [(status, count) for status, count, _ in chunks] == [("done", total_chunks)]
    assert chunks[0][2] == len(_articles_snapshot(killed_db))
    runs = _rows(killed_db, "select status from runs where flow = 'backfill' order by started_at")
    assert runs[-1] == ("completed",)


def test_backfill_command_runs_reports_and_lists_jobs(
    prefect_harness: None, tmp_path: Path, corpus: Path
) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    runner = CliRunner()
    db = tmp_path / "w.duckdb"
    folder = corpus / "backfill" / "warc"
    ran = runner.invoke(app, ["backfill", "--via", "warc", "--path", str(folder), "--db", str(db)])
    assert ran.exit_code == 0, ran.output
    assert "completed" in ran.output
    assert "resiliparse-houstonpress-clipped.warc.gz" in ran.output

    listed = runner.invoke(app, ["backfill", "--status", "--db", str(db), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    import json

    (job,) = json.loads(listed.stdout)
    assert job["via"] == "warc" and job["status"] == "completed"
    files = [f for f in folder.iterdir() if f.is_file()]
    assert job["done"] == f"{len(files)}/{len(files)}"

    # Mistakes are caught before anything starts, with what to change.
    missing = runner.invoke(app, ["backfill", "--via", "sitemap", "--url", "http://x.example/"])
    assert missing.exit_code == 1 and "--since is required" in missing.output
    nothing = runner.invoke(app, ["backfill", "--via", "warc", "--path", str(tmp_path / "no")])
    assert nothing.exit_code == 1 and "no such file or folder" in nothing.output
    unknown = runner.invoke(app, ["backfill", "--via", "gopher", "--path", str(folder)])
    assert unknown.exit_code == 2


@contextmanager
def _listing_client(settings: Any) -> Iterator[Any]:
    """A run client of its own, closed afterwards (listing functions take one)."""
    from flows.clients import close_run_client, open_run_client

    run_id = f"listing-{time.monotonic_ns()}"
    try:
        yield open_run_client(run_id, settings)
    finally:
        close_run_client(run_id)


def test_corpus_sitemaps_are_listed_by_their_own_dates(corpus: Path) -> None:
    """The real sitemaps of the corpus behind one loopback robots.txt: each is read or
    rejected with a reason, and a news sitemap's dates pick the window exactly."""
    from lxml import etree

    from flows.backfill_listing import Window, list_sitemap_pages
    from flows.settings import Settings

    folder = corpus / "sitemaps"
    files = sorted(p for p in folder.iterdir() if p.name.endswith((".xml", ".gz")))
    routes = {f"/sitemaps/{p.name}": Route(200, p.read_bytes(), XML) for p in files}
    with DemoServer(routes=routes) as site:
        robots = "".join(f"Sitemap: {site.base_url}/sitemaps/{p.name}\n" for p in files)
        site.add_route("/robots.txt", Route(200, robots.encode()))
        settings = Settings(allow_private=["127.0.0.1/32"], per_host_delay_s=0.0)
        window = Window(datetime(2020, 5, 11, tzinfo=UTC), datetime(2020, 5, 17, tzinfo=UTC))
        with _listing_client(settings) as client:
            listing = list_sitemap_pages(client, [site.base_url], window, settings)
    # Every corpus file was asked for; the broken one is named among the problems.
    asked = {path for path, _ in site.requests if path.startswith("/sitemaps/")}
    assert asked == set(routes)
    assert any("advertools-broken-sitemap.xml" in p for p in listing.problems)
    # The news sitemap: publication dates inside [11 May, 17 May), counted with lxml alone.
    tree = etree.parse(str(folder / "advertools-nytimes-news-sitemap.xml"))
    ns = {
        "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
        "n": "http://www.google.com/schemas/sitemap-news/0.9",
    }
    expected = {
        loc.strip()
        for url in tree.iterfind("s:url", ns)
        for loc in [url.findtext("s:loc", namespaces=ns) or ""]
        for date in [url.findtext("n:news/n:publication_date", namespaces=ns)]
        if date and window.holds(datetime.fromisoformat(date.replace("Z", "+00:00")))
    }
    assert expected
    news = {t.url for t, filed in listing.pages if "nytimes.com" in t.url and filed is not None}
    assert news == expected
    titled = [t for t, _ in listing.pages if t.url in expected]
    assert all(t.title and t.language == "en-US" for t in titled)


def test_a_50000_url_sitemap_is_read_and_capped() -> None:
    from flows.backfill_listing import Window, list_sitemap_pages
    from flows.settings import Settings

    start = datetime(2020, 1, 1, tzinfo=UTC)
    stamps = [start + timedelta(hours=3 * i) for i in range(50_000)]  # 2020 .. 2037
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(
            f"<url><loc>http://big.example/a/{i}.html</loc><lastmod>{s.isoformat()}</lastmod></url>"
            for i, s in enumerate(stamps)
        )
        + "</urlset>"
    ).encode()
    window = Window(datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 2, 1, tzinfo=UTC))
    with DemoServer(routes={"/big.xml": Route(200, gzip.compress(body), XML)}) as site:
        settings = Settings(allow_private=["127.0.0.1/32"], per_host_delay_s=0.0)
        with _listing_client(settings) as client:
            listing = list_sitemap_pages(client, [site.base_url + "/big.xml"], window, settings)
            capped_settings = settings.model_copy(update={"backfill_max_urls": 1000})
            capped = list_sitemap_pages(
                client, [site.base_url + "/big.xml"], window, capped_settings
            )
    # lastmod before the window: skipped; inside it: filed by it; after it: undated (the page
    # decides), since a page changed later may have been published inside the window.
    inside = sum(1 for s in stamps if window.holds(s))
    after = sum(1 for s in stamps if window.until is not None and s >= window.until)
    assert sum(1 for _, filed in listing.pages if filed is not None) == inside
    assert sum(1 for _, filed in listing.pages if filed is None) == after
    assert not listing.problems
    assert len(capped.pages) == 1000
    assert any("more than 1000 page URLs" in p for p in capped.problems)


def _cdx_prefix(cdx_url: str, url: str) -> str:
    """The path+query prefix of the archive's CDX queries for ``url`` (as the flow asks)."""
    from urllib.parse import urlsplit

    from transforms.archives import wayback_cdx_query

    query = wayback_cdx_query(cdx_url, url, SINCE, UNTIL)
    parts = urlsplit(query)
    return parts.path + "?" + parts.query.split("&", 1)[0] + "&"


def test_wayback_trouble_is_recorded_and_resumed(
    prefect_harness: None, tmp_path: Path, demo_manifest: list[dict[str, Any]]
) -> None:
    harbor = sorted(_of(demo_manifest, "The Harbor Courier"), key=_published)
    in_window = [a for a in harbor if SINCE <= _published(a) < UNTIL]
    with DemoServer() as live:
        base = live.base_url
        feed_url = base + "/harbor/feed.rss"
        snapshot = ArchivedCapture(
            feed_url, UNTIL + timedelta(hours=1), _rss(base, harbor), mimetype="application/rss+xml"
        )
        pages = [
            ArchivedCapture(
                base + a["path"], _published(a) + timedelta(hours=1), _page_bytes(base, a["path"])
            )
            for a in harbor
        ]
        with WaybackServer([snapshot, *pages]) as archive:
            overrides = {
                **LOOPBACK,
                "wayback_cdx_url": archive.cdx_url,
                "wayback_web_url": archive.web_url,
            }

            def run(url: str, db: Path) -> dict[str, Any]:
                result: dict[str, Any] = backfill(
                    via="wayback",
                    since="2026-11-02",
                    until="2026-11-10",
                    url=url,
                    chunk="week",
                    db=str(db),
                    overrides=overrides,
                )
                return result

            # A feed the archive never captured: an empty answer, said so, nothing loaded.
            empty = run(base + "/never-archived.rss", tmp_path / "empty.duckdb")
            assert empty["status"] == "completed" and empty["articles_new"] == 0
            assert any("no capture" in p for p in empty["problems"])

            # The CDX API answering 404 for the feed: the same, not a crash.
            archive.fail_next(_cdx_prefix(archive.cdx_url, feed_url), 404, b"")
            missing = run(feed_url, tmp_path / "missing.duckdb")
            assert missing["articles_new"] == 0 and missing["status"] == "completed"

            # The CDX API down while listing: the run fails and says to come back later.
            archive.fail_next(_cdx_prefix(archive.cdx_url, feed_url), 503, b"busy", times=1)
            db = tmp_path / "w.duckdb"
            with pytest.raises(BackfillError, match="run the backfill again later"):
                run(feed_url, db)
            assert _rows(db, "select status from runs") == [("failed",)]

            # Down again while looking up one page's captures: that week's chunk stays to do.
            first = in_window[0]
            archive.fail_next(_cdx_prefix(archive.cdx_url, base + first["path"]), 503, b"busy")
            partial = run(feed_url, db)
            assert partial["status"] == "incomplete" and partial["chunks_failed"] == 1
            failed = _rows(
                db, "select label, error_class, error from backfill_chunks where status = 'failed'"
            )
            assert [(label, error_class) for label, error_class, _ in failed] == [
                ("2026-W45", "http_5xx")
            ]
            # Run again: only that chunk runs, and the window is complete.
            resumed = run(feed_url, db)
            assert resumed["status"] == "completed" and resumed["chunks_run"] == 1
    loaded = {url.removeprefix(base) for (url,) in _rows(db, "select url from articles")}
    assert loaded == {a["path"] for a in in_window}
    assert _rows(db, "select count(distinct url_key) = count(*) from articles") == [(True,)]


def _write_warc(path: Path, base: str, articles: list[dict[str, Any]]) -> None:
    """A WARC file of the sample site's pages, one gzip member per record, as crawlers write."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for article in articles:
            body = _page_bytes(base, article["path"])
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                base + article["path"],
                "response",
                payload=BytesIO(body),
                length=len(body),  # known: warcio needs no temporary copy to measure it
                http_headers=headers,
                warc_headers_dict={"WARC-Date": article["published_utc"]},
            )
            writer.write_record(record)


def test_a_large_warc_file_is_loaded_and_resumed_batch_by_batch(
    prefect_harness: None,
    tmp_path: Path,
    demo_manifest: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flows.backfill as backfill_module

    articles = sorted(demo_manifest, key=lambda a: a["path"])[:20]
    folder = tmp_path / "archive"
    folder.mkdir()
    _write_warc(folder / "crawl.warc.gz", "http://site.example", articles)
    db = tmp_path / "w.duckdb"
    params: dict[str, Any] = {
        "via": "warc",
        "path": str(folder),
        "db": str(db),
        "overrides": {"backfill_warc_batch": 6},
    }
    # The process dies right after the first batch of records has committed.
    real_load = backfill_module._load_chunk
    loaded_batches: list[int] = []

    def load_then_die(*args: Any, **kwargs: Any) -> Any:
        counts = real_load(*args, **kwargs)
        loaded_batches.append(counts.articles_new)
        raise RuntimeError("killed after the first batch")

    monkeypatch.setattr(backfill_module, "_load_chunk", load_then_die)
    with pytest.raises(RuntimeError, match="killed"):
        backfill(**params)
    assert loaded_batches == [6]
    ((status, offset, found),) = _rows(
        db, "select status, resume_offset, urls_found from backfill_chunks"
    )
    assert status == "pending" and offset is not None and offset > 0 and found == 6
    assert _rows(db, "select count(*) from articles") == [(6,)]

    monkeypatch.setattr(backfill_module, "_load_chunk", real_load)
    summary = backfill(**params)
    assert summary["status"] == "completed"
    assert summary["urls_found"] == 14  # the rest of the file, in batches of six
    rows = _rows(db, "select url, captured_at from articles order by url")
    assert [url for url, _ in rows] == sorted("http://site.example" + a["path"] for a in articles)
    ((status, offset, found, new),) = _rows(
        db, "select status, resume_offset, urls_found, articles_new from backfill_chunks"
    )
    assert (status, offset, found, new) == ("done", None, 20, 20)


def test_two_backfill_workers_on_one_lake_share_the_job(
    prefect_harness: None, tmp_path: Path, corpus: Path, new_lake: str
) -> None:
    """Two `newsdesk backfill` processes started together on the same WARC job and lake: each
    takes chunks the other does not hold (one at a time here), no chunk is loaded twice, both
    succeed, and together they load what one process loads alone."""
    from prefect.settings import PREFECT_API_URL

    from warehouse.db import connect

    folder = corpus / "backfill" / "warc"
    command = [
        *_backfill_cli("warc"),
        "--path",
        str(folder),
        "--db",
        new_lake,
    ]
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "NEWSDESK_CONCURRENCY": "1",
        "NEWSDESK_DUCKLAKE_DATA_PATH": str(tmp_path / "lake") + "/",
        "NEWSDESK_CAPTURES_DIR": str(tmp_path / "captures"),
    }
    workers = [
        subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=300)[0].decode() for worker in workers]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output

    single = tmp_path / "single.duckdb"
    backfill(via="warc", path=str(folder), db=str(single))
    lake = connect(new_lake, read_only=True)
    try:
        chunks = lake.execute(
            "select label, status, claimed_by, attempts from backfill_chunks order by label"
        ).fetchall()
        run_ids = {row[0] for row in lake.execute("select run_id from runs").fetchall()}
        shared = sorted(lake.execute("select url_key from articles").fetchall())
        runs = lake.execute(
            "select count(*) from runs where flow = 'backfill' and status = 'completed'"
        ).fetchone()
    finally:
        lake.close()
    assert runs == (2,)
    assert {status for _, status, _, _ in chunks} == {"done"}
    # Every chunk was taken by one of the two runs, and loaded once: never by both (how many
    # each took depends on which started first; tests/warehouse/test_leases.py pins the split).
    assert {holder for _, _, holder, _ in chunks} <= run_ids
    assert {attempts for _, _, _, attempts in chunks} == {1}, chunks
    assert shared == sorted(_rows(single, "select url_key from articles"))
