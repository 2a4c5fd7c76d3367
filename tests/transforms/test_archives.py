"""Web-archive indexes and records: the real CDX / Common Crawl answers in corpus/backfill/, read
independently here with json and warcio and compared, plus hostile answers that must come back
as errors, never as exceptions."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import random
import re
import zlib
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from transforms.archives import (
    DEFAULT_CDX_FIELDS,
    CdxPage,
    Crawl,
    Snapshot,
    cc_index_query,
    cc_range,
    chunk_window,
    crawls_for_window,
    from_cdx_timestamp,
    is_html_payload,
    parse_cc_index,
    parse_collinfo,
    parse_warc_member,
    parse_wayback_cdx,
    to_cdx_timestamp,
    wayback_capture_url,
    wayback_cdx_query,
)

IA_JSON = ("ia-cdx-commoncrawl.org-output-json.json", "ia-cdx-example.com-output-json-limit1.json")
IA_PLAIN = "synthetic-ia-cdx-commoncrawl.org-plain.txt"
CC_NDJSON = ("cc-index-commoncrawl.org.ndjson", "cc-index-example.com-limit1.ndjson")
CC_MEMBER = "cc-range-fetch-example.com-record.warc.gz"
IA_CDX = "https://web.archive.org/cdx/search/cdx"
CC_API = "https://index.commoncrawl.org/CC-MAIN-2025-33-index"


def _cdx(corpus: Path, name: str) -> bytes:
    return (corpus / "backfill" / "cdx" / name).read_bytes()


def _ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _assert_ia_row(snapshot: Snapshot, row: dict[str, str]) -> None:
    assert snapshot.url == row["original"]
    assert snapshot.timestamp == row["timestamp"]
    assert snapshot.captured_at == _ts(row["timestamp"])
    assert snapshot.mimetype == row["mimetype"]
    assert snapshot.status == int(row["statuscode"])
    assert snapshot.digest == row["digest"]
    assert snapshot.length == int(row["length"])
    assert snapshot.urlkey == row["urlkey"]


# --- Wayback CDX ------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("name", IA_JSON)
def test_wayback_json_rows_match_the_file(corpus: Path, name: str) -> None:
    body = _cdx(corpus, name)
    header, *rows = json.loads(body)
    page = parse_wayback_cdx(body, 200, "application/json")
    assert (page.error_class, page.error, page.resume_key, page.unreadable) == (None, None, None, 0)
    assert len(page.snapshots) == len(rows) > 0
    for snapshot, row in zip(page.snapshots, rows, strict=True):
        _assert_ia_row(snapshot, dict(zip(header, row, strict=True)))


@pytest.mark.corpus
def test_wayback_plain_text_matches_its_json_twin(corpus: Path) -> None:
    text = _cdx(corpus, IA_PLAIN)
    page = parse_wayback_cdx(text, 200, "text/plain")
    lines = text.decode().splitlines()
    assert page.error_class is None and len(page.snapshots) == len(lines) == 10
    for snapshot, line in zip(page.snapshots, lines, strict=True):
        _assert_ia_row(snapshot, dict(zip(DEFAULT_CDX_FIELDS, line.split(" "), strict=True)))
    twin = parse_wayback_cdx(_cdx(corpus, IA_JSON[0]))
    assert twin.snapshots == page.snapshots


@pytest.mark.corpus
def test_wayback_resume_key_json_and_plain(corpus: Path) -> None:
    data = json.loads(_cdx(corpus, IA_JSON[0]))
    key = "org%2Ccommoncrawl%29%2F+20080717031315%21"
    page = parse_wayback_cdx(json.dumps([*data, [], [key]]).encode())
    assert page.resume_key == key
    assert len(page.snapshots) == len(data) - 1 and page.error_class is None

    plain = _cdx(corpus, IA_PLAIN) + f"\n{key}\n".encode()
    page = parse_wayback_cdx(plain, 200, "text/plain")
    assert page.resume_key == key and len(page.snapshots) == 10
    # Without the blank line a lone token is a bad row, not a key.
    page = parse_wayback_cdx(_cdx(corpus, IA_PLAIN) + key.encode())
    assert page.resume_key is None and page.unreadable == 1 and len(page.snapshots) == 10


@pytest.mark.corpus
def test_wayback_any_field_order(corpus: Path) -> None:
    header, *rows = json.loads(_cdx(corpus, IA_JSON[0]))
    order = [6, 2, 0, 5, 1, 4, 3]
    shuffled = [[header[i] for i in order]] + [[row[i] for i in order] for row in rows]
    expected = parse_wayback_cdx(_cdx(corpus, IA_JSON[0])).snapshots
    assert parse_wayback_cdx(json.dumps(shuffled).encode()).snapshots == expected

    fields = [header[i] for i in order]
    text = "\n".join(" ".join(row[i] for i in order) for row in rows).encode()
    assert parse_wayback_cdx(text, fields=fields).snapshots == expected
    # The default order on reordered lines: the timestamp column holds URLs, nothing is read.
    wrong = parse_wayback_cdx(text)
    assert wrong.error_class == "parse_error" and not wrong.snapshots


@pytest.mark.corpus
def test_wayback_fewer_fields(corpus: Path) -> None:
    _, *rows = json.loads(_cdx(corpus, IA_JSON[1]))
    body = json.dumps([["timestamp", "original"], [rows[0][1], rows[0][2]]]).encode()
    (snapshot,) = parse_wayback_cdx(body).snapshots
    assert (snapshot.url, snapshot.timestamp) == (rows[0][2], rows[0][1])
    assert snapshot.status is None and snapshot.digest is None and snapshot.length is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 200),
        (b"   \n\n", 200),
        (b"[]", 200),
        (b'[["urlkey","timestamp","original","mimetype","statuscode","digest","length"]]', 200),
        (b"No Captures found for: example.com/nothing", 404),
        (b"", 404),
    ],
)
def test_wayback_no_captures_is_an_empty_page(body: bytes, status: int) -> None:
    assert parse_wayback_cdx(body, status) == CdxPage()


def test_wayback_server_errors() -> None:
    html = b"<html><head><title>503 Service Unavailable</title></head><body>busy</body></html>"
    page = parse_wayback_cdx(html, 503, "text/html")
    assert page.error_class == "archive_error" and not page.snapshots
    assert page.error is not None and "503" in page.error and "Service Unavailable" in page.error
    blocked = b"org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site"
    page = parse_wayback_cdx(blocked, 403)
    assert page.error_class == "archive_error" and "Blocked Site" in (page.error or "")
    # A 404 that is not "no captures" (a wrong endpoint) is an error, not an empty answer.
    page = parse_wayback_cdx(b"<html><title>Not Found</title></html>", 404)
    assert page.error_class == "archive_error" and "Not Found" in (page.error or "")


@pytest.mark.corpus
def test_wayback_hostile_bodies_with_status_200(corpus: Path) -> None:
    good = _cdx(corpus, IA_JSON[0])
    html = b"<!DOCTYPE html><html><head><title>Wayback Machine is offline</title></head></html>"
    page = parse_wayback_cdx(html, 200, "text/html")
    assert page.error_class == "parse_error" and "offline" in (page.error or "")

    page = parse_wayback_cdx(good[: len(good) // 2], 200, "application/json")
    assert page.error_class == "parse_error" and not page.snapshots and "JSON" in (page.error or "")

    page = parse_wayback_cdx(b'{"error": "bad query"}')
    assert page.error_class == "parse_error" and "bad query" in (page.error or "")

    page = parse_wayback_cdx(b'[["urlkey", "digest"], ["a", "b"]]')
    assert page.error_class == "parse_error" and "header" in (page.error or "")

    garbage = random.Random(7).randbytes(3000)
    page = parse_wayback_cdx(garbage)
    assert page.error_class == "parse_error" and not page.snapshots and page.resume_key is None

    for body in (
        b"[null]",
        b"[[1, 2], [3]]",
        b"[5, 6]",
        b'"text"',
        b"[" * 100_000,
        b"\xff\xfe\x00",
    ):
        page = parse_wayback_cdx(body)
        assert page.error_class == "parse_error" and not page.snapshots, body[:20]


@pytest.mark.corpus
def test_wayback_bad_rows_are_skipped_and_counted(corpus: Path) -> None:
    header, *rows = json.loads(_cdx(corpus, IA_JSON[0]))
    bad = [
        rows[0][:6],  # a value short
        [*rows[0], "extra"],
        [rows[0][0], "2008-03-28", *rows[0][2:]],  # not a CDX timestamp
        [rows[0][0], "20081340000000", *rows[0][2:]],  # month 13
        [rows[0][0], rows[0][1], "-", *rows[0][3:]],  # no URL
        "not a row",
    ]
    page = parse_wayback_cdx(json.dumps([header, *rows, *bad]).encode())
    assert len(page.snapshots) == len(rows) and page.unreadable == len(bad)
    assert page.error_class is None
    assert page.error is not None and page.error.startswith(f"{len(bad)} of {len(rows) + len(bad)}")

    page = parse_wayback_cdx(json.dumps([header, *bad]).encode())
    assert page.error_class == "parse_error" and page.unreadable == len(bad)

    lines = _cdx(corpus, IA_PLAIN).decode().splitlines()
    text = "\n".join([*lines, "only three fields", lines[0].replace("20080328041443", "2008")])
    page = parse_wayback_cdx(text.encode())
    # A short timestamp is valid CDX (padded); the three-word line is not.
    assert len(page.snapshots) == 11 and page.unreadable == 1
    assert page.snapshots[-1].captured_at == datetime(2008, 1, 1, tzinfo=UTC)


def test_wayback_dash_values_are_none() -> None:
    line = b"com,example)/ 20240101000000 http://example.com/ warc/revisit - SHA1X -"
    (snapshot,) = parse_wayback_cdx(line).snapshots
    assert snapshot.status is None and snapshot.length is None
    assert snapshot.mimetype == "warc/revisit" and snapshot.digest == "SHA1X"


# --- Common Crawl index -----------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("name", CC_NDJSON)
def test_cc_index_lines_match_the_file(corpus: Path, name: str) -> None:
    body = _cdx(corpus, name)
    lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    page = parse_cc_index(body, 200)
    assert (page.error_class, page.error, page.unreadable) == (None, None, 0)
    assert len(page.snapshots) == len(lines) > 0
    for snapshot, line in zip(page.snapshots, lines, strict=True):
        assert snapshot.url == line["url"] and snapshot.timestamp == line["timestamp"]
        assert snapshot.captured_at == _ts(line["timestamp"])
        assert snapshot.status == int(line["status"])
        assert snapshot.mimetype == line["mime"]
        assert snapshot.mime_detected == line["mime-detected"]
        assert snapshot.digest == line["digest"] and snapshot.filename == line["filename"]
        assert snapshot.length == int(line["length"]) and snapshot.offset == int(line["offset"])
        assert snapshot.languages == line.get("languages")
        assert snapshot.encoding == line.get("encoding")
        assert snapshot.redirect == line.get("redirect")


@pytest.mark.corpus
def test_cc_index_404_and_400_are_empty_pages(corpus: Path) -> None:
    assert parse_cc_index(_cdx(corpus, "cc-index-404-no-captures.json"), 404) == CdxPage()
    assert parse_cc_index(_cdx(corpus, "cc-index-400-page-invalid.json"), 400) == CdxPage()
    # The same bodies as the recorded exchanges carry them.
    recorded = _cdx(corpus, "cdx_toolkit-recorded-cc-index-404-400.jsonl").decode().splitlines()
    for line in recorded:
        exchange = json.loads(line)
        body = exchange["response_text"].encode()
        assert parse_cc_index(body, exchange["response_status_code"]) == CdxPage()


def test_cc_index_errors() -> None:
    page = parse_cc_index(b'{"message": "Collection CC-MAIN-1999-01 not found"}', 404)
    assert page.error_class == "archive_error" and "not found" in (page.error or "")
    page = parse_cc_index(b'{"message": "Invalid filter"}', 400)
    assert page.error_class == "archive_error" and "HTTP 400" in (page.error or "")
    page = parse_cc_index(b"<html><title>503 Slow Down</title></html>", 503)
    assert page.error_class == "archive_error" and "Slow Down" in (page.error or "")
    page = parse_cc_index(b"<html><body>maintenance</body></html>", 200)
    assert page.error_class == "parse_error"
    assert parse_cc_index(b"", 200) == CdxPage()
    for body in (random.Random(3).randbytes(2000), b"[1, 2, 3]", b'{"url": "x"}\n' * 3, b"\x00"):
        page = parse_cc_index(body, 200)
        assert page.error_class == "parse_error" and not page.snapshots, body[:20]


@pytest.mark.corpus
def test_cc_index_bad_lines_are_skipped_and_counted(corpus: Path) -> None:
    body = _cdx(corpus, CC_NDJSON[0])
    good = len(body.decode().splitlines())
    first = json.loads(body.decode().splitlines()[0])
    hostile = [
        b'{"urlkey": "org,commoncrawl)/", "timestamp": "2025080410',  # cut mid-line
        b"[1, 2]",
        json.dumps({**first, "timestamp": "yesterday"}).encode(),
        json.dumps({k: v for k, v in first.items() if k != "url"}).encode(),
    ]
    page = parse_cc_index(body + b"\n".join(hostile), 200)
    assert len(page.snapshots) == good and page.unreadable == len(hostile)
    assert page.error_class is None
    assert page.error is not None and page.error.startswith(f"{len(hostile)} of {good + 4} rows")


@pytest.mark.corpus
def test_cc_index_line_points_at_the_range_that_was_fetched(corpus: Path) -> None:
    """Index line -> Range header -> the 206 answer, as cdx_toolkit recorded them."""
    (snapshot,) = parse_cc_index(_cdx(corpus, CC_NDJSON[1])).snapshots
    assert snapshot.offset is not None and snapshot.length is not None
    assert snapshot.filename is not None
    exchanges = _cdx(corpus, "cdx_toolkit-recorded-ia-cc-warc-fetch.jsonl").decode().splitlines()
    fetch = next(json.loads(x) for x in exchanges if json.loads(x)["response_status_code"] == 206)
    assert fetch["url"].endswith("/" + snapshot.filename)
    content_range = fetch["response_headers"]["Content-Range"]  # "bytes 34323482-34324700/..."
    assert (
        cc_range(snapshot.offset, snapshot.length)
        == "bytes=" + content_range.split()[1].split("/")[0]
    )
    member = base64.b64decode(fetch["response_text"])
    assert member == (corpus / "backfill" / "warc" / CC_MEMBER).read_bytes()
    assert len(member) == snapshot.length
    response = parse_warc_member(member)
    assert response.url == snapshot.url and response.captured_at == snapshot.captured_at
    # The index digest is the base32 SHA-1 of the payload.
    assert base64.b32encode(hashlib.sha1(response.body).digest()).decode() == snapshot.digest


# --- crawls -------------------------------------------------------------------------------


@pytest.mark.corpus
def test_collinfo_matches_the_file(corpus: Path) -> None:
    body = _cdx(corpus, "cc-collinfo.json")
    entries = json.loads(body)
    crawls = parse_collinfo(body)
    assert [c.id for c in crawls] == [e["id"] for e in entries] and len(crawls) == 115
    for crawl, entry in zip(crawls, entries, strict=True):
        assert (crawl.name, crawl.cdx_api) == (entry["name"], entry["cdx-api"])
        assert crawl.start == datetime.fromisoformat(entry["from"]).replace(tzinfo=UTC)
        assert crawl.end == datetime.fromisoformat(entry["to"]).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>502 Bad Gateway</html>", b"{}", b"[]", b'[{"id": "CC-MAIN-2025-33"}]', b"[1]"],
)
def test_collinfo_garbage_raises_value_error(body: bytes) -> None:
    with pytest.raises(ValueError, match="collinfo"):
        parse_collinfo(body)


def test_collinfo_unreadable_dates_are_none() -> None:
    body = b'[{"id": "X", "cdx-api": "https://i/X-index", "from": "soon", "name": ""}]'
    (crawl,) = parse_collinfo(body)
    assert (crawl.name, crawl.start, crawl.end) == ("X", None, None)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("since", "until"),
    [
        (datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 8, 1, tzinfo=UTC)),
        (datetime(2025, 8, 15, 23, 42, 38, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC)),
        (datetime(2010, 1, 1, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC)),
        (datetime(2025, 6, 26, tzinfo=UTC), datetime(2025, 7, 7, 18, 36, 38, tzinfo=UTC)),
    ],
)
def test_crawls_for_window_against_collinfo(corpus: Path, since: datetime, until: datetime) -> None:
    entries = json.loads(_cdx(corpus, "cc-collinfo.json"))
    expected = [
        e["id"]
        for e in entries
        if datetime.fromisoformat(e["from"]).replace(tzinfo=UTC) < until
        and datetime.fromisoformat(e["to"]).replace(tzinfo=UTC) >= since
    ]
    chosen = crawls_for_window(parse_collinfo(_cdx(corpus, "cc-collinfo.json")), since, until)
    assert [c.id for c in chosen] == expected


@pytest.mark.corpus
def test_crawls_without_dates_are_placed_by_their_id(corpus: Path) -> None:
    crawls = parse_collinfo(_cdx(corpus, "cc-collinfo.json"))
    undated = [Crawl(c.id, c.name, c.cdx_api, None, None) for c in crawls]
    # The id's week is only a hint: each real crawl must still be chosen for its own dates.
    for real, bare in zip(crawls, undated, strict=True):
        assert real.start is not None and real.end is not None
        assert crawls_for_window([bare], real.start, real.end + timedelta(seconds=1)) == [bare]
    july = crawls_for_window(
        undated, datetime(2025, 7, 10, tzinfo=UTC), datetime(2025, 7, 11, tzinfo=UTC)
    )
    ids = {c.id for c in july}
    assert "CC-MAIN-2025-30" in ids and "CC-MAIN-2024-10" not in ids and len(ids) < 6
    odd = [Crawl("some-other-crawl", "x", "https://i/x", None, None)]
    assert crawls_for_window(odd, datetime(2001, 1, 1), datetime(2001, 1, 2)) == odd
    with pytest.raises(ValueError):
        crawls_for_window(crawls, datetime(2025, 1, 2), datetime(2025, 1, 1))


# --- timestamps, query URLs, windows --------------------------------------------------------


def test_cdx_timestamps() -> None:
    moment = datetime(2025, 8, 4, 10, 33, 29, 999_999, tzinfo=UTC)
    assert to_cdx_timestamp(moment) == "20250804103329"
    assert to_cdx_timestamp(moment.astimezone(timezone(timedelta(hours=2)))) == "20250804103329"
    assert to_cdx_timestamp(datetime(2025, 8, 4, 10, 33, 29)) == "20250804103329"  # naive = UTC
    assert from_cdx_timestamp("20250804103329") == moment.replace(microsecond=0)
    assert from_cdx_timestamp("2025") == datetime(2025, 1, 1, tzinfo=UTC)
    assert from_cdx_timestamp("202508") == datetime(2025, 8, 1, tzinfo=UTC)
    assert from_cdx_timestamp(" 2025080410 ") == datetime(2025, 8, 4, 10, tzinfo=UTC)
    for bad in ("", "abc", "123", "20081", "20251340000000", "20250230000000", "20250804103360"):
        assert from_cdx_timestamp(bad) is None, bad
    assert from_cdx_timestamp("202508041033291") is None  # 15 digits
    assert from_cdx_timestamp("2025-08-04") is None


def _params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_wayback_cdx_query() -> None:
    since, until = datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC)
    feed = "https://news.example.com/feed?format=rss&lang=en"
    url = wayback_cdx_query(IA_CDX, feed, since, until, limit=500, resume_key="k+1")
    assert url.startswith(IA_CDX + "?url=")
    assert _params(url) == {
        "url": [feed],
        "output": ["json"],
        "from": ["20250801000000"],
        "to": ["20250831235959"],  # until is exclusive, CDX "to" inclusive
        "filter": ["statuscode:200"],
        "collapse": ["digest"],
        "showResumeKey": ["true"],
        "limit": ["500"],
        "resumeKey": ["k+1"],
    }
    bare = wayback_cdx_query(
        IA_CDX,
        "example.com/news/",
        since,
        until + timedelta(microseconds=500),
        match_type="prefix",
        collapse_digest=False,
        only_ok=False,
    )
    params = _params(bare)
    assert params["matchType"] == ["prefix"] and params["to"] == ["20250901000000"]
    assert "filter" not in params and "collapse" not in params and "limit" not in params
    with pytest.raises(ValueError):
        wayback_cdx_query(IA_CDX, feed, since, until, match_type="everything")
    with pytest.raises(ValueError):
        wayback_cdx_query(IA_CDX, feed, until, since)


@pytest.mark.corpus
def test_capture_url_from_a_real_row(corpus: Path) -> None:
    (snapshot,) = parse_wayback_cdx(_cdx(corpus, IA_JSON[1])).snapshots
    assert (
        wayback_capture_url("https://web.archive.org/web/", snapshot.timestamp, snapshot.url)
        == "https://web.archive.org/web/20020120142510id_/http://example.com:80/"
    )
    with pytest.raises(ValueError):
        wayback_capture_url("https://web.archive.org/web", "2002-01-20", snapshot.url)


@pytest.mark.corpus
def test_cc_index_query_uses_fields_the_index_has(corpus: Path) -> None:
    since, until = datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 8, 16, tzinfo=UTC)
    url = cc_index_query(CC_API, "example.com/news/*", since, until, page=2)
    params = _params(url)
    assert url.startswith(CC_API + "?")
    assert params["url"] == ["example.com/news/*"] and params["output"] == ["json"]
    assert (params["from"], params["to"]) == (["20250801000000"], ["20250815235959"])
    assert params["page"] == ["2"]
    assert params["filter"] == ["status:200", "mime-detected:text/html"]
    line = json.loads(_cdx(corpus, CC_NDJSON[1]).decode())
    for expression in params["filter"]:
        field, value = expression.split(":", 1)
        assert value in line[field]  # pywb's default filter is "contains"
    assert "filter" not in _params(cc_index_query(CC_API, "x", since, until, only_html_ok=False))
    with pytest.raises(ValueError):
        cc_index_query(CC_API, "x", since, until, page=-1)


def test_cc_range() -> None:
    assert cc_range(34323482, 1219) == "bytes=34323482-34324700"
    assert cc_range(0, 1) == "bytes=0-0"
    for offset, length in ((-1, 10), (0, 0), (5, -3)):
        with pytest.raises(ValueError):
            cc_range(offset, length)


def _check_chunks(since: datetime, until: datetime, unit: Any) -> list[tuple[str, str]]:
    chunks = chunk_window(since, until, unit)
    assert chunks == chunk_window(since, until, unit)  # stable: it is the resume key
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == since.astimezone(UTC) and chunks[-1].end == until.astimezone(UTC)
    for before, after in pairwise(chunks):
        assert before.end == after.start
    assert all(c.start < c.end and c.start.tzinfo == UTC for c in chunks)
    return [(c.start.isoformat(), c.end.isoformat()) for c in chunks]


def test_chunk_window_units() -> None:
    days = _check_chunks(
        datetime(2025, 8, 4, 10, tzinfo=UTC), datetime(2025, 8, 6, 5, tzinfo=UTC), "day"
    )
    assert days == [
        ("2025-08-04T10:00:00+00:00", "2025-08-05T00:00:00+00:00"),
        ("2025-08-05T00:00:00+00:00", "2025-08-06T00:00:00+00:00"),
        ("2025-08-06T00:00:00+00:00", "2025-08-06T05:00:00+00:00"),
    ]
    weeks = chunk_window(
        datetime(2025, 8, 6, tzinfo=UTC), datetime(2025, 8, 20, tzinfo=UTC), "week"
    )
    _check_chunks(datetime(2025, 8, 6, tzinfo=UTC), datetime(2025, 8, 20, tzinfo=UTC), "week")
    assert [c.start.date().isoformat() for c in weeks] == ["2025-08-06", "2025-08-11", "2025-08-18"]
    assert all(c.start.weekday() == 0 for c in weeks[1:])
    months = _check_chunks(
        datetime(2024, 12, 15, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC), "month"
    )
    assert [m[0][:10] for m in months] == ["2024-12-15", "2025-01-01", "2025-02-01"]
    # An aware non-UTC window is cut at UTC midnights; a naive one is taken as UTC.
    plus2 = timezone(timedelta(hours=2))
    local = chunk_window(
        datetime(2025, 8, 5, 1, tzinfo=plus2), datetime(2025, 8, 6, tzinfo=plus2), "day"
    )
    assert [c.start.hour for c in local] == [23, 0] and local[1].start.day == 5
    assert chunk_window(datetime(2025, 8, 5), datetime(2025, 8, 6), "day")[0].key == (
        "20250805000000-20250806000000"
    )
    one = chunk_window(
        datetime(2025, 8, 5, tzinfo=UTC), datetime(2025, 8, 5, 0, 0, 1, tzinfo=UTC), "month"
    )
    assert len(one) == 1


def test_chunk_window_rejects_empty_windows_and_units() -> None:
    moment = datetime(2025, 8, 5, tzinfo=UTC)
    with pytest.raises(ValueError):
        chunk_window(moment, moment, "day")
    with pytest.raises(ValueError):
        chunk_window(moment, moment - timedelta(days=1), "week")
    with pytest.raises(ValueError):
        chunk_window(moment, moment + timedelta(days=1), "year")  # type: ignore[arg-type]


# --- records --------------------------------------------------------------------------------


@pytest.mark.corpus
def test_parse_warc_member_matches_warcio(corpus: Path) -> None:
    member = (corpus / "backfill" / "warc" / CC_MEMBER).read_bytes()
    records = ArchiveIterator(io.BytesIO(member))
    record = next(iter(records))
    body = record.content_stream().read()
    response = parse_warc_member(member)
    assert response.url == record.rec_headers.get_header("WARC-Target-URI")
    assert response.status == int(record.http_headers.get_statuscode()) == 200
    assert response.content_type == record.http_headers.get_header("Content-Type") == "text/html"
    assert response.body == body and b"<title>Example Domain</title>" in body
    assert response.captured_at == datetime(2025, 8, 2, 23, 24, 28, tzinfo=UTC)
    assert response.record_id == record.rec_headers.get_header("WARC-Record-ID")
    assert response.record_type == "response" and response.is_html
    assert response.truncated is None and response.decode_error is None


@pytest.mark.corpus
def test_parse_warc_member_hostile(corpus: Path) -> None:
    member = (corpus / "backfill" / "warc" / CC_MEMBER).read_bytes()
    plain = gzip.decompress(member)
    broken = bytearray(member)
    broken[200:260] = bytes(60)
    cases = {
        "empty": b"",
        "an error page": b"<html><body>403 Forbidden</body></html>",
        "plain WARC": plain,
        "corrupt": bytes(broken),
        "two members": member + member,
        "gzipped text": gzip.compress(b"hello, not a record\n" * 5),
        "gzipped zeros": gzip.compress(bytes(45_000_000)),
    }
    for what, data in cases.items():
        with pytest.raises(ValueError) as info:
            parse_warc_member(data)
        assert str(info.value), what
    # Cut short: read what there is and say so, or refuse; never anything else.
    for size in range(20, len(member), 23):
        try:
            response = parse_warc_member(member[:size])
        except ValueError:
            continue
        assert response.truncated is not None and response.truncated.startswith("eof"), size


def _record(
    record_type: str = "response",
    payload: bytes = b"<!doctype html><html><body>hi</body></html>",
    headers: list[tuple[str, str]] | None = None,
    status: str = "200 OK",
    warc_headers: dict[str, str] | None = None,
) -> bytes:
    """One WARC record as one gzip member, written by warcio."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    http = None
    if record_type in ("response", "request"):
        http = StatusAndHeaders(status, headers or [("Content-Type", "text/html")], "HTTP/1.1")
    record = writer.create_warc_record(
        "http://news.example.com/a",
        record_type,
        payload=io.BytesIO(payload),
        length=len(payload),
        http_headers=http,
        warc_content_type="text/html" if record_type == "resource" else None,
        warc_headers_dict=warc_headers or {},
    )
    writer.write_record(record)
    return out.getvalue()


def test_parse_warc_member_content_encodings() -> None:
    page = b"<html><head><title>x</title></head><body>" + b"news " * 2000 + b"</body></html>"
    gzipped = gzip.compress(page)
    response = parse_warc_member(
        _record(
            payload=gzipped,
            headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
        )
    )
    assert response.body == page and response.truncated is None
    chunked = (
        b"".join(
            f"{len(part):x}\r\n".encode() + part + b"\r\n"
            for part in (gzipped[:100], gzipped[100:])
        )
        + b"0\r\n\r\n"
    )
    response = parse_warc_member(
        _record(
            payload=chunked,
            headers=[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
            ],
        )
    )
    assert response.body == page
    deflated = zlib.compress(page)
    response = parse_warc_member(
        _record(payload=deflated, headers=[("Content-Encoding", "deflate")])
    )
    assert response.body == page and response.is_html  # sniffed: no Content-Type
    response = parse_warc_member(
        _record(payload=b"\x28\xb5\x2f\xfd", headers=[("Content-Encoding", "zstd")])
    )
    assert response.decode_error is not None and response.body == b"\x28\xb5\x2f\xfd"
    # Stored decoded but still labelled gzip (common in archives): the bytes are kept.
    response = parse_warc_member(
        _record(payload=page, headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")])
    )
    assert response.body == page


def test_parse_warc_member_record_kinds_and_truncation() -> None:
    resource = parse_warc_member(_record("resource"))
    assert resource.record_type == "resource" and resource.status is None and resource.is_html
    with pytest.raises(ValueError, match="request"):
        parse_warc_member(_record("request", payload=b""))
    flagged = parse_warc_member(_record(warc_headers={"WARC-Truncated": "length"}))
    assert flagged.truncated == "length"
    short = parse_warc_member(
        _record(
            payload=b"<html>cut",
            headers=[("Content-Type", "text/html"), ("Content-Length", "5000")],
        )
    )
    assert short.truncated == "content-length: 9 of 5000 payload bytes"
    not_modified = parse_warc_member(
        _record(payload=b"", headers=[("Content-Length", "5000")], status="304 Not Modified")
    )
    assert not_modified.truncated is None and not_modified.status == 304


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html; charset=utf-8", b"", True),
        ("APPLICATION/XHTML+XML", b"<?xml version='1.0'?><html/>", True),
        ("application/rss+xml", b"<html>", False),
        ("image/png", b"<!doctype html>", False),
        (None, b"\xef\xbb\xbf  <!DOCTYPE HTML><p>", True),
        ("application/octet-stream", b"\n<html lang=en>", True),
        ("text/plain", b"<?xml version='1.0'?>\n<!-- x --><html>", True),
        ("text/plain", b"<?xml version='1.0'?><rss>", False),
        (None, b"%PDF-1.4", False),
        ("", b"", False),
    ],
)
def test_is_html_payload(content_type: str | None, body: bytes, expected: bool) -> None:
    assert is_html_payload(content_type, body) is expected


def test_no_parser_raises_on_random_input() -> None:
    rng = random.Random(11)
    for _ in range(200):
        body = rng.randbytes(rng.randint(0, 400))
        status = rng.choice((200, 200, 404, 400, 500))
        assert isinstance(parse_wayback_cdx(body, status), CdxPage)
        assert isinstance(parse_cc_index(body, status), CdxPage)
        assert isinstance(parse_wayback_cdx(b"[" + body, status), CdxPage)
    assert re.fullmatch(r"\d{14}", to_cdx_timestamp(datetime.now(UTC)))
