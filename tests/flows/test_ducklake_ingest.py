"""Two ingest processes at once on overlapping feed sets against one DuckLake end with the same
tables as one process alone.

Each run is a real `newsdesk ingest` subprocess (the CLI, the Prefect flow, its task runner)
against the demo site on loopback. The runs report to the session's temporary Prefect API
instead of starting one each. Tables are compared by their natural keys (URLs, GUIDs, names):
surrogate ids depend on which worker loaded a row first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flows.demo import DemoServer, demo_publishers
from warehouse.db import connect

NEWSDESK = str(Path(sys.executable).parent / "newsdesk")

# What "the same tables" means: each query lists a table's rows by natural key, sorted.
CONTENTS = {
    "publishers": "select name, domain, country, language from publishers",
    "feeds": """
        select f.url, p.name, f.kind, f.title, f.enabled, f.source_type
        from feeds f join publishers p using (publisher_id)""",
    "feed_state": """
        select f.url, s.etag, s.last_modified, s.last_status, s.consecutive_failures,
               s.last_error_class
        from feed_state s join feeds f using (feed_id)""",
    "entries": """
        select f.url, e.guid, e.url, e.url_key, e.title, e.summary, e.published_at,
               e.updated_at, e.authors, e.tags
        from entries e join feeds f using (feed_id)""",
    "articles": """
        select a.url_key, a.canonical_url, a.url, p.name, f.url, a.title, a.text,
               a.language, a.published_at, a.content_hash, a.version, a.word_count
        from articles a join publishers p using (publisher_id) join feeds f using (feed_id)""",
    "article_versions": """
        select a.url_key, v.version, v.content_hash, v.title
        from article_versions v join articles a using (article_id)""",
    "article_authors": """
        select a.url_key, au.name, au.kind, x.position
        from article_authors x join articles a using (article_id) join authors au using (author_id)
    """,
    "article_tags": """
        select a.url_key, t.name
        from article_tags x join articles a using (article_id) join tags t using (tag_id)""",
    "images": """
        select a.url_key, i.position, i.url, i.caption, i.credit
        from images i join articles a using (article_id)""",
    "links": "select a.url_key, l.url, l.kind from links l join articles a using (article_id)",
    "removed_spans": """
        select a.url_key, r.position, r.rule, r.text
        from removed_spans r join articles a using (article_id)""",
    "raw_pages": "select distinct url, encoding, octet_length(body) from raw_pages",
    "article_signatures": """
        select a.url_key, s.content_hash, s.n_shingles
        from article_signatures s join articles a using (article_id)""",
    "clusters": """
        select list(a.url_key order by a.url_key)
        from articles a group by a.cluster_id""",
    "fetched": "select distinct kind, url, status from fetches where kind in ('feed', 'page')",
    # Each run refreshes the search index in the lake after its last batch.
    "search_documents": """
        select a.url_key, d.length from search_documents d join articles a using (article_id)""",
    "search_postings": """
        select a.url_key, p.term, p.tf from search_postings p join articles a using (article_id)""",
    "duplicate_keys": """
        select 'article', url_key from articles group by url_key having count(*) > 1
        union all select 'entry', feed_id || ' ' || guid from entries
        group by feed_id, guid having count(*) > 1
        union all select 'publisher', name from publishers group by name having count(*) > 1
        union all select 'feed', url from feeds group by url having count(*) > 1
        union all select 'author', name from authors group by name, kind having count(*) > 1
        union all select 'search document', article_id::varchar from search_documents
        group by article_id having count(*) > 1
        union all select 'posting', article_id || ' ' || term from search_postings
        group by article_id, term having count(*) > 1""",
}


def _sources_file(path: Path, publishers: list[Any]) -> Path:
    lines = []
    for p in publishers:
        lines += ["[[publisher]]", f"name = {json.dumps(p.name)}"]
        lines += [
            f"{key} = {json.dumps(value)}"
            for key, value in (
                ("domain", p.domain),
                ("country", p.country),
                ("language", p.language),
            )
            if value is not None
        ]
        lines += [f"feeds = {json.dumps(list(p.feeds))}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _ingest(lake: str, sources: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            NEWSDESK,
            "ingest",
            "--db",
            lake,
            "--sources",
            str(sources),
            "--allow-private",
            "127.0.0.1/32",
            "--format",
            "json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    summary: dict[str, Any] = json.loads(out[out.index("{") :])
    return summary


def _contents(lake: str) -> dict[str, list[Any]]:
    con = connect(lake, read_only=True)
    try:
        found = {}
        for name, query in CONTENTS.items():
            rows = con.execute(query).fetchall()
            found[name] = sorted(rows, key=repr)
        return found
    finally:
        con.close()


def _lake_env(tmp: Path, name: str, api_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "NEWSDESK_PER_HOST_DELAY_S": "0",
            "NEWSDESK_CAPTURES_DIR": str(tmp / f"{name}-captures"),
            "NEWSDESK_DUCKLAKE_DATA_PATH": str(tmp / f"{name}-data") + "/",
            "NEWSDESK_EXTRACT_PROCESSES": "0",
            "PREFECT_API_URL": api_url,
        }
    )
    env.pop("NEWSDESK_DB", None)
    return env


def _run_together(workers: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    try:
        return [_finish(w) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.communicate()


def _story(n: int) -> bytes:
    words = " ".join(f"harbour{n} ferry{n} timetable{n} crossing{n} island{n}" for _ in range(12))
    paragraphs = "".join(
        f"<p>Paragraph {i} of wire story {n}: the {words} service resumed on day {i}.</p>"
        for i in range(6)
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Wire story {n}</title></head><body><article><h1>Wire story {n}</h1>"
        f"{paragraphs}</article></body></html>"
    ).encode()


def _wire_feed(base: str, name: str, stories: range) -> bytes:
    items = "".join(
        f"<item><title>Wire story {n}</title><link>{base}/wire/story-{n}.html</link>"
        f"<guid>{base}/wire/story-{n}.html</guid>"
        "<pubDate>Sat, 28 Nov 2026 10:00:00 +0000</pubDate></item>"
        for n in stories
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire {name}</title>'
        f"<link>{base}/wire/</link>{items}</channel></rss>"
    ).encode()


def test_two_workers_on_feeds_sharing_pages_fetch_each_page_once(
    prefect_harness: None, new_lake: str, tmp_path: Path
) -> None:
    """Two sources, one per worker, list the same articles: the worker whose feed batch is
    stored first claims the pages, the other leaves them to it (or finds them loaded)."""
    from prefect.settings import get_current_settings

    from flows.demo import Route
    from flows.sources import Publisher

    api_url = str(get_current_settings().api.url)
    stories = range(1, 5)
    with DemoServer(edition=1) as server:
        base = server.base_url
        rss = {"Content-Type": "application/rss+xml"}
        html = {"Content-Type": "text/html; charset=utf-8"}
        for name in ("a", "b"):
            server.add_route(f"/wire/{name}.rss", Route(200, _wire_feed(base, name, stories), rss))
        for n in stories:
            server.add_route(f"/wire/story-{n}.html", Route(200, _story(n), html))
            server.delay(f"/wire/story-{n}.html", 1.5)  # the holder is still fetching
        files = [
            _sources_file(
                tmp_path / f"{name}.toml",
                [
                    Publisher(
                        name=f"Wire {name}",
                        domain="wire.example",
                        feeds=[f"{base}/wire/{name}.rss"],
                    )
                ],
            )
            for name in ("a", "b")
        ]
        env = _lake_env(tmp_path, "wire", api_url)
        summaries = _run_together([_ingest(new_lake, f, env) for f in files])
        asked = [path for path, _ in server.requests]
    print(f"summaries: {summaries}; requests: {asked}")
    for n in stories:
        assert asked.count(f"/wire/story-{n}.html") == 1, asked
    assert sum(s["articles_new"] for s in summaries) == len(stories)
    found = _contents(new_lake)
    assert found["duplicate_keys"] == []
    assert len(found["articles"]) == len(stories)
    assert len(found["search_documents"]) == len(stories)  # the runs indexed them in the lake
    assert len({url for kind, url, _ in found["fetched"] if kind == "page"}) == len(stories)


def test_two_workers_on_overlapping_feeds_equal_one(
    prefect_harness: None, new_lake: str, postgres_dsn: str, tmp_path: Path
) -> None:
    import subprocess as sp
    import uuid

    from prefect.settings import get_current_settings

    api_url = str(get_current_settings().api.url)
    # A second lake for the single-process run, beside the fixture's.
    single_db = f"newsdesk_test_{uuid.uuid4().hex[:12]}"
    sp.run(["psql", postgres_dsn, "-qc", f"create database {single_db}"], check=True)
    single = f"ducklake:postgres:{postgres_dsn} dbname={single_db}"
    try:
        with DemoServer(edition=1) as server:
            harbor, ledger, nordpost = demo_publishers(server.base_url)
            both = _sources_file(tmp_path / "a.toml", [harbor, ledger])
            other = _sources_file(tmp_path / "b.toml", [ledger, nordpost])
            everything = _sources_file(tmp_path / "all.toml", [harbor, ledger, nordpost])

            # The shared feed answers slowly: whichever worker claims it holds it meanwhile.
            shared_feed = ledger.feeds[0].removeprefix(server.base_url)
            server.delay(shared_feed, 6.0)
            started = time.monotonic()
            env = _lake_env(tmp_path, "shared", api_url)
            summaries = _run_together([_ingest(new_lake, both, env), _ingest(new_lake, other, env)])
            parallel_s = time.monotonic() - started
            asked = [path for path, _ in server.requests]

            alone = _finish(_ingest(single, everything, _lake_env(tmp_path, "single", api_url)))
        shared_rows, single_rows = _contents(new_lake), _contents(single)
        print(
            f"two workers: {parallel_s:.1f}s, summaries {summaries}; alone: {alone}; "
            + ", ".join(f"{k}={len(v)}" for k, v in single_rows.items())
        )
        assert alone["articles_new"] > 0
        assert single_rows["duplicate_keys"] == []
        assert len(single_rows["search_documents"]) == len(single_rows["articles"])
        assert shared_rows["duplicate_keys"] == []
        for name in CONTENTS:
            assert shared_rows[name] == single_rows[name], name
        # Each worker's feeds were its own: together they found every article once.
        assert sum(s["articles_new"] for s in summaries) == alone["articles_new"]
        # The feed both were given was fetched by one of them (the other found it leased, or
        # no longer due), and so was every page.
        assert asked.count(shared_feed) == 1, asked
        pages = [path for path in asked if path.endswith(".html")]
        assert len(pages) == len(set(pages)), sorted(pages)
        assert sum(s["feeds_total"] for s in summaries) == alone["feeds_total"]
    finally:
        sp.run(
            ["psql", postgres_dsn, "-qc", f"drop database if exists {single_db} with (force)"],
            check=False,
            capture_output=True,
        )
