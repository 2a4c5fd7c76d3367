"""End to end: the real ``ingest`` flow under Prefect's test harness against a real loopback
server serving the demo site plus broken sources. Expected values come from the demo site's
hand-written manifest, not from newsdesk."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from tests.conftest import BROKEN, MISSING_PAGE, DemoRuns


def _query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_first_run_loads_every_demo_article_once(
    demo_runs: DemoRuns, demo_manifest: list[dict[str, Any]]
) -> None:
    rows = _query(demo_runs.db, "select url, title, canonical_url from articles")
    assert len(rows) == len(demo_manifest) >= 30
    assert len({r[2] for r in rows}) == len(rows)
    by_path = {r[0].removeprefix(demo_runs.base): r for r in rows}
    for item in demo_manifest:
        assert item["path"] in by_path, item["path"]
        assert by_path[item["path"]][1] == item["title"]


def test_metadata_matches_the_manifest(
    demo_runs: DemoRuns, demo_manifest: list[dict[str, Any]]
) -> None:
    for item in demo_manifest:
        url = demo_runs.base + item["path"]
        (published, language, paywalled, publisher) = _query(
            demo_runs.db,
            "select a.published_at, a.language, a.is_paywalled, p.name "
            "from articles a join publishers p using (publisher_id) where a.url = ?",
            [url],
        )[0]
        expected = datetime.fromisoformat(item["published_utc"].replace("Z", "+00:00"))
        assert published == expected, item["path"]
        assert language == item["language"], item["path"]
        assert paywalled is item["paywalled"], item["path"]
        assert publisher == item["publisher"], item["path"]
        people = _query(
            demo_runs.db,
            "select au.name from articles a join article_authors aa using (article_id) "
            "join authors au using (author_id) where a.url = ? and au.kind = 'person' "
            "order by aa.position",
            [url],
        )
        assert [p[0] for p in people] == item["authors"], item["path"]
        agencies = _query(
            demo_runs.db,
            "select au.name from articles a join article_authors aa using (article_id) "
            "join authors au using (author_id) where a.url = ? and au.kind = 'agency'",
            [url],
        )
        assert [a[0] for a in agencies] == ([item["agency"]] if item["agency"] else [])
        text = _query(demo_runs.db, "select text from articles where url = ?", [url])[0][0]
        assert item["body_first_sentence"] in text, item["path"]


def test_feed_state_stores_validators(demo_runs: DemoRuns) -> None:
    rows = _query(
        demo_runs.db,
        "select f.url, s.etag, s.last_modified, s.last_status, s.consecutive_failures "
        "from feeds f join feed_state s using (feed_id) join publishers p using (publisher_id) "
        "where p.name <> 'Broken Feeds'",
    )
    assert len(rows) == 3
    for _url, etag, last_modified, status, failures in rows:
        assert etag and etag.startswith('"')
        assert last_modified and last_modified.endswith("GMT")
        assert status in (200, 304)
        assert failures == 0


def test_bad_sources_are_recorded_and_counted(demo_runs: DemoRuns) -> None:
    first = demo_runs.summaries[0]
    errors = dict(
        (url.removeprefix(demo_runs.base), (cls, msg))
        for url, cls, msg in _query(
            demo_runs.db,
            "select url, error_class, error from fetches where run_id = ? "
            "and error_class is not null",
            [first["run_id"]],
        )
    )
    assert errors[BROKEN["500"]][0] == "http_5xx"
    assert errors[BROKEN["html"]][0] == "not_a_feed"
    assert errors[BROKEN["truncated"]][0] == "parse_error"
    assert errors[MISSING_PAGE][0] == "http_4xx"
    assert all(message for _, message in errors.values())
    assert first["feeds_total"] == 7
    assert first["feeds_failed"] == 3
    assert first["feeds_fetched"] == 4
    assert first["articles_failed"] == 1
    run = _query(
        demo_runs.db,
        "select status, feeds_failed, articles_failed, articles_new from runs where run_id = ?",
        [first["run_id"]],
    )
    assert run == [("completed", 3, 1, first["articles_new"])]
    state = _query(
        demo_runs.db,
        "select s.last_error_class, s.consecutive_failures from feeds f "
        "join feed_state s using (feed_id) where f.url = ?",
        [demo_runs.base + BROKEN["500"]],
    )
    assert state == [("http_5xx", 3)]  # failed on each of the three runs, still polled


def test_second_run_is_conditional_and_loads_nothing_new(
    demo_runs: DemoRuns, demo_manifest: list[dict[str, Any]]
) -> None:
    second = demo_runs.summaries[1]
    assert second["feeds_not_modified"] == 3
    assert second["articles_new"] == 0
    assert second["pages_fetched"] == 0  # the 404 is permanent: not retried
    feed_requests = [
        headers
        for path, headers in demo_runs.requests_per_run[1]
        if path in ("/harbor/feed.rss", "/ledger/atom.xml", "/nordpost/rss.rdf")
    ]
    assert len(feed_requests) == 3
    assert all("if-none-match" in h and "if-modified-since" in h for h in feed_requests)


def test_edited_article_becomes_a_second_version(
    demo_runs: DemoRuns,
    demo_manifest: list[dict[str, Any]],
    demo_edition2_manifest: list[dict[str, Any]],
) -> None:
    third = demo_runs.summaries[2]
    assert third["articles_updated"] == 1
    assert third["articles_new"] == 0
    assert _query(demo_runs.db, "select count(*) from articles")[0][0] == len(demo_manifest)
    (edited,) = demo_edition2_manifest
    url = demo_runs.base + edited["path"]
    version, text = _query(demo_runs.db, "select version, text from articles where url = ?", [url])[
        0
    ]
    assert version == 2
    assert edited["changed_sentence"] in text
    versions = _query(
        demo_runs.db,
        "select v.version, v.text from article_versions v join articles a using (article_id) "
        "where a.url = ? order by v.version",
        [url],
    )
    assert [v[0] for v in versions] == [1, 2]
    assert edited["changed_sentence"] not in versions[0][1]
    others = _query(demo_runs.db, "select count(*) from articles where version > 1")[0][0]
    assert others == 1


def test_syndicated_stories_form_one_cluster_each(
    demo_runs: DemoRuns, demo_manifest: list[dict[str, Any]]
) -> None:
    groups: dict[str, list[str]] = {}
    for item in demo_manifest:
        if item["syndication_group"]:
            groups.setdefault(item["syndication_group"], []).append(demo_runs.base + item["path"])
    assert len(groups) == 2
    cluster_of = dict(_query(demo_runs.db, "select url, cluster_id from articles"))
    assert all(cluster_id is not None for cluster_id in cluster_of.values())
    for urls in groups.values():
        assert len({cluster_of[url] for url in urls}) == 1, urls
    syndicated = {cluster_of[url] for urls in groups.values() for url in urls}
    others = [c for url, c in cluster_of.items() if c not in syndicated]
    assert len(others) == len(set(others))  # every other article is a story of its own
    rows = _query(demo_runs.db, "select articles, publishers from syndication order by 1")
    assert rows == [(2, 2), (2, 2)]
    stories = _query(demo_runs.db, "select count(*), sum(copies) from articles_clean")[0]
    assert stories == (len(demo_manifest) - 2, 2)
    sizes = _query(demo_runs.db, "select size from clusters where size > 1")
    assert sorted(s[0] for s in sizes) == [2, 2]


def test_edited_article_stays_one_story_member(
    demo_runs: DemoRuns, demo_edition2_manifest: list[dict[str, Any]]
) -> None:
    (edited,) = demo_edition2_manifest
    url = demo_runs.base + edited["path"]
    article_id, cluster_id, content_hash = _query(
        demo_runs.db,
        "select article_id, cluster_id, content_hash from articles where url = ?",
        [url],
    )[0]
    assert cluster_id == article_id
    size = _query(demo_runs.db, "select size from clusters where cluster_id = ?", [cluster_id])
    assert size == [(1,)]
    signed = _query(
        demo_runs.db,
        "select content_hash from article_signatures where article_id = ?",
        [article_id],
    )
    assert signed == [(content_hash,)]  # the signature follows the new version


def test_removed_noise_is_kept_as_data(
    demo_runs: DemoRuns, demo_manifest: list[dict[str, Any]]
) -> None:
    for item in demo_manifest[:12]:
        url = demo_runs.base + item["path"]
        captions = {
            r[0]
            for r in _query(
                demo_runs.db,
                "select i.caption from images i join articles a using (article_id) where a.url = ?",
                [url],
            )
        }
        credits = {
            r[0]
            for r in _query(
                demo_runs.db,
                "select i.credit from images i join articles a using (article_id) where a.url = ?",
                [url],
            )
        }
        assert set(item["captions"]) <= captions, item["path"]
        assert set(item["credits"]) <= credits, item["path"]
        text = _query(demo_runs.db, "select text from articles where url = ?", [url])[0][0]
        for noise in item["noise"]:
            assert noise not in text, (item["path"], noise)
    rules = dict(_query(demo_runs.db, "select rule, count(*) from removed_spans group by all"))
    assert rules.get("dom.related", 0) + rules.get("dom.link_list", 0) > 0
    related = _query(demo_runs.db, "select count(*) from links where kind = 'related'")[0][0]
    assert related >= len(demo_manifest)
    captured = _query(
        demo_runs.db,
        "select count(*) from fetches where kind in ('page', 'feed') and warc_path is not null",
    )[0][0]
    assert captured >= len(demo_manifest) + 3


def test_every_response_is_captured_and_reads_back(
    demo_runs: DemoRuns, demo_manifest: list[dict[str, Any]]
) -> None:
    from flows.captures import captures_root, read_capture
    from flows.demo import demo_data_dir

    item = demo_manifest[0]
    warc_path, warc_offset, status = _query(
        demo_runs.db,
        "select warc_path, warc_offset, status from fetches where kind = 'page' and url = ?",
        [demo_runs.base + item["path"]],
    )[0]
    capture = read_capture(captures_root(demo_runs.db), warc_path, warc_offset)
    served = (demo_data_dir() / "site" / item["path"].lstrip("/")).read_bytes()
    assert capture.body == served.replace(b"{{BASE}}", demo_runs.base.encode())
    assert capture.status == status == 200
    missing = _query(
        demo_runs.db,
        "select count(*) from fetches where status is not null and warc_path is null "
        "and error_class is null",
    )[0][0]
    assert missing == 0


def test_page_tasks_interleave_hosts_and_queue_beyond_the_window() -> None:
    from flows.ingest import PageJob, PageTasks
    from flows.settings import Settings

    settings = Settings(page_batch_size=2, page_tasks_in_flight=3)
    tasks = PageTasks(settings, "run")
    jobs = [
        PageJob(f"https://{host}.example/{i}.html", f"{host}.example/{i}", 1, 1, None, None)
        for host in ("a", "b")
        for i in range(5 if host == "a" else 2)
    ]
    tasks.add(jobs)
    hosts = [host for host, _ in tasks.queue]
    # a has three batches (2+2+1), b one: queued a, b, a, a — not a, a, a, b.
    assert hosts == ["a.example", "b.example", "a.example", "a.example"]
    assert [len(chunk) for _, chunk in tasks.queue] == [2, 2, 2, 1]
    assert tasks.limit == 3
    assert not tasks.done


def test_one_page_task_in_flight_loads_what_the_default_does(
    prefect_harness: None, demo_runs: DemoRuns, tmp_path: Path
) -> None:
    """A window of one task and tiny batches: slower, the same warehouse."""
    from flows.demo import DemoServer, demo_publishers
    from flows.ingest import ingest

    db = tmp_path / "narrow.duckdb"
    with DemoServer(edition=1) as server:
        summary = ingest(
            db=str(db),
            publishers=[p.model_dump() for p in demo_publishers(server.base_url)],
            overrides={
                "allow_private": ["127.0.0.1/32"],
                "per_host_delay_s": 0.0,
                "page_tasks_in_flight": 1,
                "page_batch_size": 3,
                "load_batch_pages": 4,
            },
        )
    first = demo_runs.summaries[0]
    assert summary["articles_new"] == first["articles_new"] >= 30
    assert summary["articles_copies"] == first["articles_copies"]
    stages = summary["stage_seconds"]
    assert {"fetch_pages", "extract", "load", "dedup"} <= set(stages)
    narrow = _query(db, "select count(distinct cluster_id), count(*) from articles")
    assert narrow == [(first["articles_new"] - first["articles_copies"], first["articles_new"])]
