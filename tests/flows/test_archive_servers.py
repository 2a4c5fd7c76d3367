"""The archive mocks against the real recordings in corpus/backfill, through httpx.

The backfill flow's tests trust these servers to answer like web.archive.org and Common Crawl;
these tests are why that trust is earned: every shape a client parses (the CDX header row, the
plain columns, the index line keys, the error bodies, the range-fetched WARC member) is compared
with a real response from the corpus, and the query semantics (from/to padding, filters,
collapse, limits, resume keys, pages, closest-capture redirects) are pinned down.
"""

from __future__ import annotations

import io
import json
import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.flows.archive_servers import (
    CC_INDEX_KEYS,
    CDX_FIELDS,
    TOOLBAR,
    ArchivedCapture,
    CommonCrawlServer,
    WaybackServer,
    payload_digest,
    surt,
)

FEED = "https://harbor.example/feed.rss"
RSS = "application/rss+xml"
STORY = "https://harbor.example/2026/01/story.html"
STORY_HTML = (
    b'<html><head><title>Story</title></head><body class="a">'
    b'<a href="https://harbor.example/">home</a></body></html>'
)


def _feed(n: int) -> bytes:
    return (
        f"<rss><channel><item><link>https://harbor.example/{n}</link></item></channel></rss>"
    ).encode()


def _at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


RSS_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}
CAPTURES = [
    ArchivedCapture(FEED, _at(2026, 1, 5, 8), _feed(1), mimetype=RSS, headers=RSS_HEADERS),
    ArchivedCapture(FEED, _at(2026, 1, 20, 8), _feed(1), mimetype=RSS, headers=RSS_HEADERS),
    # Same url key as FEED (http, www): the archives treat it as the same page.
    ArchivedCapture("http://www.harbor.example/feed.rss", _at(2026, 2, 10, 12), _feed(2), 200, RSS),
    ArchivedCapture(FEED, _at(2026, 3, 1), _feed(3), mimetype=RSS),
    ArchivedCapture(FEED, _at(2026, 3, 15, 23, 30), b"Service Unavailable", 503, "text/plain"),
    ArchivedCapture(STORY, _at(2026, 1, 6), STORY_HTML),
    ArchivedCapture(
        "https://harbor.example/old", _at(2026, 3, 7), b"", 301, headers={"Location": FEED}
    ),
    ArchivedCapture("https://sports.harbor.example/feed.rss", _at(2026, 3, 2), _feed(9), 200, RSS),
    ArchivedCapture("https://other.example/feed.rss", _at(2026, 3, 3), _feed(8), 200, RSS),
]
FEED_CAPTURES = [c for c in CAPTURES if c.urlkey == "example,harbor)/feed.rss"]
CRAWLS = [
    ("CC-MAIN-2026-05", _at(2026, 1, 1), _at(2026, 1, 31, 23, 59, 59)),
    ("CC-MAIN-2026-10", _at(2026, 2, 25), _at(2026, 3, 20)),
]

# Field shapes, as the real rows have them.
SHAPES = {
    "timestamp": r"\d{14}",
    "statuscode": r"\d{3}",
    "status": r"\d{3}",
    "digest": r"[A-Z2-7]{32}",
    "length": r"\d+",
    "offset": r"\d+",
}


def _recorded(corpus: Path, name: str) -> list[dict[str, Any]]:
    path = corpus / "backfill" / "cdx" / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as http:
        yield http


@pytest.fixture(scope="module")
def wayback() -> Iterator[WaybackServer]:
    with WaybackServer(CAPTURES) as server:
        yield server
    assert server.errors == []


@pytest.fixture(scope="module")
def cc() -> Iterator[CommonCrawlServer]:
    with CommonCrawlServer(CRAWLS, CAPTURES) as server:
        yield server
    assert server.errors == []


def _cdx(client: httpx.Client, server: WaybackServer, **params: Any) -> list[list[str]]:
    response = client.get(server.cdx_url, params={"output": "json", **params})
    assert response.status_code == 200, response.text
    rows: list[list[str]] = response.json()
    return rows


def _timestamps(rows: list[list[str]]) -> list[str]:
    return [row[1] for row in rows[1:] if row]


# --- surt and digest, against the real indexes -------------------------------------------------


def test_surt_examples() -> None:
    assert surt("http://www.commoncrawl.org:80/") == "org,commoncrawl)/"
    assert surt("example.com") == "com,example)/"
    assert surt("https://WWW2.Example.com/Path/?b=2&a=1#frag") == "com,example)/path?a=1&b=2"
    assert surt("http://example.com:8080/x/") == "com,example:8080)/x"
    assert surt("http://127.0.0.1:8642/feed.rss") == "1,0,0,127:8642)/feed.rss"


@pytest.mark.corpus
def test_surt_and_digest_agree_with_the_real_indexes(corpus: Path) -> None:
    ia = json.loads((corpus / "backfill/cdx/ia-cdx-commoncrawl.org-output-json.json").read_text())
    for row in ia[1:]:
        assert surt(row[2]) == row[0]
    for name in ("cc-index-commoncrawl.org.ndjson", "cc-index-example.com-limit1.ndjson"):
        for line in (corpus / "backfill/cdx" / name).read_text().splitlines():
            entry = json.loads(line)
            assert surt(entry["url"]) == entry["urlkey"]
    # The index digest is the base32 SHA-1 of the payload: check on the real record.
    record = _single_record(corpus / "backfill/warc/cc-range-fetch-example.com-record.warc.gz")
    assert payload_digest(record.payload) == "JI6OR3QR4CI526JD6TMMNZNV4QPMPQCH"


# --- Wayback CDX API ----------------------------------------------------------------------------


@pytest.mark.corpus
def test_cdx_json_matches_the_real_response(
    corpus: Path, wayback: WaybackServer, client: httpx.Client
) -> None:
    real = json.loads((corpus / "backfill/cdx/ia-cdx-commoncrawl.org-output-json.json").read_text())
    recorded = _recorded(corpus, "cdx_toolkit-recorded-ia-cdx-json.jsonl")[0]
    response = client.get(
        wayback.cdx_url, params={"url": "harbor.example/feed.rss", "output": "json"}
    )
    assert response.headers["content-type"] == recorded["response_headers"]["Content-Type"]
    assert response.headers["content-encoding"] == "gzip"  # as recorded; httpx decodes it
    rows = response.json()
    assert rows[0] == real[0] == list(CDX_FIELDS)
    assert len(rows) == 1 + len(FEED_CAPTURES)
    for ours, theirs in ((rows[1:], "ours"), (real[1:], "real")):
        for row in ours:
            assert len(row) == len(CDX_FIELDS) and all(isinstance(v, str) for v in row), theirs
            for name, value in zip(CDX_FIELDS, row, strict=True):
                if name in SHAPES:
                    assert re.fullmatch(SHAPES[name], value), (theirs, name, value)
    assert _timestamps(rows) == sorted(c.timestamp for c in FEED_CAPTURES)
    first = rows[1]
    assert first[2] == FEED and first[3] == RSS and first[4] == "200"
    assert first[5] == payload_digest(_feed(1))
    # Real text layout: one row per line, no spaces.
    assert response.text.startswith('[["urlkey","timestamp",') and ',\n["' in response.text


@pytest.mark.corpus
def test_cdx_plain_has_the_real_columns(
    corpus: Path, wayback: WaybackServer, client: httpx.Client
) -> None:
    sample = (corpus / "backfill/cdx/synthetic-ia-cdx-commoncrawl.org-plain.txt").read_text()
    response = client.get(wayback.cdx_url, params={"url": FEED})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    ours = response.text.splitlines()
    assert len(ours) == len(FEED_CAPTURES)
    for lines in (ours, sample.splitlines()):
        for line in lines:
            columns = line.split(" ")
            assert len(columns) == len(CDX_FIELDS)
            assert re.fullmatch(SHAPES["timestamp"], columns[1])
            assert re.fullmatch(SHAPES["digest"], columns[5])
    fl = client.get(wayback.cdx_url, params={"url": FEED, "fl": "timestamp,digest"})
    assert fl.text.splitlines()[0] == f"{CAPTURES[0].timestamp} {CAPTURES[0].digest}"


def test_cdx_from_to_are_inclusive_and_padded(wayback: WaybackServer, client: httpx.Client) -> None:
    everything = _timestamps(_cdx(client, wayback, url=FEED))
    # to=202602 pads to the end of February; from=20260120 to the start of that day.
    assert _timestamps(_cdx(client, wayback, url=FEED, **{"from": "20260120", "to": "202602"})) == [
        "20260120080000",
        "20260210120000",
    ]
    # to=20260105 reaches 23:59:59 that day, so the 08:00 capture is in.
    assert _timestamps(_cdx(client, wayback, url=FEED, to="20260105")) == ["20260105080000"]
    assert _timestamps(_cdx(client, wayback, url=FEED, **{"from": "2026"})) == everything
    exact = _cdx(client, wayback, url=FEED, **{"from": "20260301000000", "to": "20260301000000"})
    assert _timestamps(exact) == ["20260301000000"]
    bad = client.get(wayback.cdx_url, params={"url": FEED, "from": "2026-01"})
    assert bad.status_code == 400


def test_cdx_filter_collapse_limit(wayback: WaybackServer, client: httpx.Client) -> None:
    ok = _cdx(client, wayback, url=FEED, filter="statuscode:200")
    assert {row[4] for row in ok[1:]} == {"200"} and len(ok) == 5
    assert [row[4] for row in _cdx(client, wayback, url=FEED, filter="!statuscode:200")[1:]] == [
        "503"
    ]
    assert _cdx(client, wayback, url=FEED, filter="statuscode:20") == []  # whole-value match
    both = _cdx(client, wayback, url=FEED, filter=["statuscode:200", "~original:www."])
    assert [row[2] for row in both[1:]] == ["http://www.harbor.example/feed.rss"]
    # The recipe of FORMATS.md: 200s, one row per run of identical content.
    unique = _cdx(client, wayback, url=FEED, filter="statuscode:200", collapse="digest")
    assert _timestamps(unique) == ["20260105080000", "20260210120000", "20260301000000"]
    per_month = _cdx(client, wayback, url=FEED, collapse="timestamp:6")
    assert _timestamps(per_month) == ["20260105080000", "20260210120000", "20260301000000"]
    assert _timestamps(_cdx(client, wayback, url=FEED, limit="2")) == [
        "20260105080000",
        "20260120080000",
    ]
    assert _timestamps(_cdx(client, wayback, url=FEED, limit="-1")) == ["20260315233000"]
    bad = client.get(wayback.cdx_url, params={"url": FEED, "filter": "nosuchfield:x"})
    assert bad.status_code == 400


def test_cdx_match_types(wayback: WaybackServer, client: httpx.Client) -> None:
    def originals(**params: Any) -> set[str]:
        return {row[2] for row in _cdx(client, wayback, **params)[1:]}

    site = {c.url for c in CAPTURES if c.urlkey.startswith("example,harbor)")}
    subdomains = site | {"https://sports.harbor.example/feed.rss"}
    assert originals(url="harbor.example/*") == site
    assert originals(url="harbor.example", matchType="prefix") == site
    assert originals(url="harbor.example", matchType="host") == site
    assert originals(url="*.harbor.example") == subdomains
    assert originals(url="harbor.example", matchType="domain") == subdomains
    assert originals(url="http://www.harbor.example/feed.rss") == {c.url for c in FEED_CAPTURES}
    assert originals(url="harbor.example/2026/*") == {STORY}


def test_cdx_resume_key_pages_like_the_real_server(client: httpx.Client) -> None:
    query = {"url": FEED, "filter": "statuscode:200", "collapse": "digest"}
    with WaybackServer(CAPTURES) as unpaged:
        wanted = _cdx(client, unpaged, **query)
    with WaybackServer(CAPTURES, page_size=2) as server:
        rows, key, pages = [wanted[0]], None, 0
        while True:
            extra: dict[str, str] = {"resumeKey": key} if key else {}
            page = _cdx(client, server, showResumeKey="true", **query, **extra)
            pages += 1
            assert page[0] == list(CDX_FIELDS)
            if len(page) >= 3 and page[-2] == []:
                assert len(page[-1]) == 1 and len(page) - 3 == 2
                rows += page[1:-2]
                key = page[-1][0]
            else:
                rows += page[1:]
                break
        assert rows == wanted and pages == 2
        # Plain text: the key follows a blank line.
        plain = client.get(server.cdx_url, params={**query, "showResumeKey": "true"}).text
        lines = plain.split("\n")
        assert len(lines[0].split(" ")) == 7 and lines[2] == "" and lines[3] and lines[4] == ""
        # Without showResumeKey the cap still applies, silently.
        assert len(_cdx(client, server, url=FEED)) == 3
        assert server.errors == []


def test_cdx_zero_captures(wayback: WaybackServer, client: httpx.Client) -> None:
    url = "https://harbor.example/never"
    as_json = client.get(wayback.cdx_url, params={"url": url, "output": "json"})
    assert as_json.status_code == 200 and as_json.json() == []
    plain = client.get(wayback.cdx_url, params={"url": url})
    assert plain.status_code == 200 and plain.content == b""


# --- Wayback replay -----------------------------------------------------------------------------


def test_id_replay_returns_the_archived_bytes(wayback: WaybackServer, client: httpx.Client) -> None:
    first = CAPTURES[0]
    response = client.get(f"{wayback.web_url}/{first.timestamp}id_/{first.url}")
    assert response.status_code == 200 and response.content == first.body
    assert response.headers["content-type"] == RSS_HEADERS["Content-Type"]
    story = client.get(f"{wayback.web_url}/20260106000000id_/{STORY}")
    assert story.content == STORY_HTML and story.headers["content-type"] == "text/html"
    failed = client.get(f"{wayback.web_url}/20260315233000id_/{FEED}")
    assert failed.status_code == 503 and failed.content == b"Service Unavailable"
    moved = client.get(f"{wayback.web_url}/20260307000000id_/https://harbor.example/old")
    assert moved.status_code == 301 and moved.headers["location"] == FEED
    assert (
        client.get(f"{wayback.web_url}/20260101000000id_/https://nope.example/").status_code == 404
    )


def test_non_raw_replay_carries_the_toolbar(wayback: WaybackServer, client: httpx.Client) -> None:
    story = client.get(f"{wayback.web_url}/20260106000000/{STORY}")
    assert story.status_code == 200
    assert b'<body class="a">' + TOOLBAR in story.content
    assert f'href="{wayback.base}/web/20260106000000/https://harbor.example/"'.encode() in (
        story.content
    )
    feed = client.get(f"{wayback.web_url}/{CAPTURES[0].timestamp}/{FEED}")
    assert feed.content != CAPTURES[0].body and TOOLBAR in feed.content


def test_replay_between_captures_redirects_to_the_closest(
    wayback: WaybackServer, client: httpx.Client
) -> None:
    def location(ts: str, url: str = FEED) -> str:
        response = client.get(f"{wayback.web_url}/{ts}id_/{url}")
        assert response.status_code == 302
        return response.headers["location"]

    assert location("20260110000000") == f"/web/20260105080000id_/{FEED}"
    assert location("20260115000000") == f"/web/20260120080000id_/{FEED}"
    assert location("20260209") == "/web/20260210120000id_/http://www.harbor.example/feed.rss"
    assert location("2025") == f"/web/20260105080000id_/{FEED}"
    followed = client.get(f"{wayback.web_url}/20260115000000id_/{FEED}", follow_redirects=True)
    assert followed.status_code == 200 and followed.content == CAPTURES[1].body
    plain = client.get(f"{wayback.web_url}/20260110000000/{FEED}")
    assert plain.headers["location"] == f"/web/20260105080000/{FEED}"


def test_fail_next_then_normal(client: httpx.Client) -> None:
    with WaybackServer(CAPTURES) as server:
        server.fail_next("/cdx/search/cdx", 429, b"slow down", {"Retry-After": "3"})
        server.fail_next("/web/", 503, times=2)
        first = client.get(server.cdx_url, params={"url": FEED})
        assert first.status_code == 429 and first.headers["retry-after"] == "3"
        assert first.content == b"slow down"
        assert client.get(server.cdx_url, params={"url": FEED}).status_code == 200
        replay = f"{server.web_url}/{CAPTURES[0].timestamp}id_/{FEED}"
        assert [client.get(replay).status_code for _ in range(3)] == [503, 503, 200]
        assert len(server.requests) == 5
        assert server.requests[0].startswith("/cdx/search/cdx?url=")
        assert server.requests[-1] == f"/web/{CAPTURES[0].timestamp}id_/{FEED}"


# --- Common Crawl -------------------------------------------------------------------------------


@pytest.mark.corpus
def test_collinfo_has_the_real_keys(
    corpus: Path, cc: CommonCrawlServer, client: httpx.Client
) -> None:
    real = json.loads((corpus / "backfill/cdx/cc-collinfo.json").read_text())
    recorded = _recorded(corpus, "cdx_toolkit-recorded-cc-collinfo.jsonl")[0]
    response = client.get(cc.collinfo_url)
    assert response.headers["content-type"] == recorded["response_headers"]["Content-Type"]
    ours = response.json()
    assert [entry["id"] for entry in ours] == ["CC-MAIN-2026-10", "CC-MAIN-2026-05"]  # newest first
    for entry in ours:
        assert list(entry) == list(real[0])
        assert entry["cdx-api"] == f"{cc.base}/{entry['id']}-index"
        for key in ("from", "to"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", entry[key])
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", real[0][key])


@pytest.mark.corpus
def test_index_lines_have_the_real_keys(
    corpus: Path, cc: CommonCrawlServer, client: httpx.Client
) -> None:
    real = [
        json.loads(line)
        for line in (corpus / "backfill/cdx/cc-index-commoncrawl.org.ndjson")
        .read_text()
        .splitlines()
    ]
    real_200 = next(list(line) for line in real if line["status"] == "200")
    real_301 = next(list(line) for line in real if line["status"] == "301")
    recorded = _recorded(corpus, "cdx_toolkit-recorded-cc-index-ndjson.jsonl")[0]
    response = client.get(
        f"{cc.base}/CC-MAIN-2026-10-index", params={"url": "harbor.example/*", "output": "json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == recorded["response_headers"]["Content-Type"]
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert {line["status"] for line in lines} == {"200", "301", "503"}
    for line in lines:
        assert all(isinstance(value, str) for value in line.values())
        for key, shape in SHAPES.items():
            if key in line:
                assert re.fullmatch(shape, line[key]), (key, line[key])
        if line["status"] == "200":
            assert list(line) == real_200
            assert "/warc/" in line["filename"]
        elif line["status"] == "301":
            assert list(line) == real_301 and line["redirect"] == FEED
        else:
            assert list(line) == list(CC_INDEX_KEYS)  # not in the recordings
            assert "/crawldiagnostics/" in line["filename"]
    # Only the captures inside this crawl's window, in index order.
    in_crawl = [
        c for c in CAPTURES if c.urlkey.startswith("example,harbor)") and c.timestamp > "202602"
    ]
    in_crawl = [c for c in in_crawl if c not in cc.uncrawled]
    assert [(line["url"], line["timestamp"]) for line in lines] == sorted(
        ((c.url, c.timestamp) for c in in_crawl), key=lambda pair: (surt(pair[0]), pair[1])
    )


@pytest.mark.corpus
def test_index_errors_have_the_real_shape(
    corpus: Path, cc: CommonCrawlServer, client: httpx.Client
) -> None:
    real_404 = json.loads((corpus / "backfill/cdx/cc-index-404-no-captures.json").read_text())
    real_400 = json.loads((corpus / "backfill/cdx/cc-index-400-page-invalid.json").read_text())
    recorded = _recorded(corpus, "cdx_toolkit-recorded-cc-index-404-400.jsonl")
    index = f"{cc.base}/CC-MAIN-2026-10-index"
    missing = "harbor.example/thisurlneverdidexist"
    gone = client.get(index, params={"url": missing, "output": "json", "page": "0"})
    assert gone.status_code == 404 == recorded[0]["response_status_code"]
    assert gone.headers["content-type"] == recorded[0]["response_headers"]["Content-Type"]
    assert list(gone.json()) == list(real_404)
    assert gone.json()["message"] == real_404["message"].replace(
        "commoncrawl.org/thisurlneverdidexist", missing
    )
    past = client.get(index, params={"url": missing, "output": "json", "page": "1"})
    assert past.status_code == 400 == recorded[1]["response_status_code"]
    assert past.json() == real_400  # the very same message for the very same situation
    # Filters that leave nothing are a 404 too.
    none = client.get(index, params={"url": FEED, "output": "json", "filter": "status:404"})
    assert none.status_code == 404


@pytest.mark.corpus
def test_index_pages_and_show_num_pages(corpus: Path, client: httpx.Client) -> None:
    recorded = _recorded(corpus, "cdx_toolkit-recorded-cc-index-shownumpages.jsonl")[0]
    with CommonCrawlServer(CRAWLS, CAPTURES, page_size=2) as server:
        index = f"{server.base}/CC-MAIN-2026-10-index"
        query = {"url": "*.harbor.example", "output": "json"}
        info = client.get(index, params={**query, "showNumPages": "true"})
        assert info.headers["content-type"] == recorded["response_headers"]["Content-Type"]
        assert list(info.json()) == list(json.loads(recorded["response_text"]))
        everything = server.index_lines("CC-MAIN-2026-10")
        wanted = [line for line in everything if line["urlkey"].startswith("example,harbor")]
        pages = info.json()["pages"]
        assert pages == math.ceil(len(wanted) / 2) >= 2
        got = []
        for page in range(pages):
            response = client.get(index, params={**query, "page": str(page)})
            got += [json.loads(line) for line in response.text.splitlines()]
        assert got == wanted
        past = client.get(index, params={**query, "page": str(pages)})
        assert past.status_code == 400
        assert past.json() == {
            "message": f"Page {pages} invalid: First Page is 0, Last Page is {pages - 1}"
        }
        assert server.errors == []


def test_index_filters_and_from_to(cc: CommonCrawlServer, client: httpx.Client) -> None:
    index = f"{cc.base}/CC-MAIN-2026-10-index"

    def statuses(**params: Any) -> list[str]:
        response = client.get(index, params={"url": "harbor.example/*", "output": "json", **params})
        return [json.loads(line)["status"] for line in response.text.splitlines()]

    assert statuses(filter=["status:200", "mime-detected:application/rss"]) == ["200"]
    assert statuses(filter="!=status:200") == ["503", "301"]
    assert statuses(filter="~status:30") == ["301"]
    assert statuses(**{"from": "20260307", "to": "202603"}) == ["503", "301"]
    assert statuses(limit="1") == ["200"]
    cdxj = client.get(index, params={"url": FEED})
    assert cdxj.headers["content-type"] == "text/x-cdxj"
    key, ts, rest = cdxj.text.splitlines()[0].split(" ", 2)
    assert key == "example,harbor)/feed.rss" and ts == "20260301000000"
    assert json.loads(rest)["status"] == "200"


# --- the data server: a range request is one gzip member with one WARC record -------------------


@dataclass(frozen=True)
class _Record:
    warc_headers: dict[str, str]
    http_status: int
    payload: bytes


def _single_record(source: Path | bytes) -> _Record:
    """What the backfill client must be able to do with a range answer, applied alike to the
    real record and ours: exactly one complete gzip member, holding one WARC response record."""
    data = source.read_bytes() if isinstance(source, Path) else source
    inflater = zlib.decompressobj(wbits=31)
    inflater.decompress(data)
    assert inflater.eof and inflater.unused_data == b"", "not exactly one gzip member"
    records = [
        _Record(
            dict(record.rec_headers.headers),
            int(record.http_headers.get_statuscode()),
            record.content_stream().read(),
        )
        for record in ArchiveIterator(io.BytesIO(data))
    ]
    assert len(records) == 1
    assert records[0].warc_headers["WARC-Type"] == "response"
    return records[0]


@pytest.mark.corpus
def test_range_fetch_is_shaped_like_the_real_one(
    corpus: Path, cc: CommonCrawlServer, client: httpx.Client
) -> None:
    real_line = json.loads((corpus / "backfill/cdx/cc-index-example.com-limit1.ndjson").read_text())
    real = _single_record(corpus / "backfill/warc/cc-range-fetch-example.com-record.warc.gz")
    recorded = _recorded(corpus, "cdx_toolkit-recorded-ia-cc-warc-fetch.jsonl")[2]
    real_range = re.fullmatch(
        r"bytes (\d+)-(\d+)/(\d+)", recorded["response_headers"]["Content-Range"]
    )
    assert real_range and int(real_range[2]) - int(real_range[1]) + 1 == int(real_line["length"])

    response = client.get(
        f"{cc.base}/CC-MAIN-2026-05-index", params={"url": FEED, "output": "json", "limit": "1"}
    )
    line = json.loads(response.text.splitlines()[0])
    offset, length = int(line["offset"]), int(line["length"])
    fetched = client.get(
        f"{cc.data_url}/{line['filename']}",
        headers={"Range": f"bytes={offset}-{offset + length - 1}"},
    )
    assert fetched.status_code == 206 == recorded["response_status_code"]
    assert fetched.headers["content-type"] == recorded["response_headers"]["Content-Type"]
    assert "content-encoding" not in fetched.headers  # the bytes are the gzip member itself
    ours_range = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", fetched.headers["content-range"])
    assert ours_range and (int(ours_range[1]), int(ours_range[2])) == (offset, offset + length - 1)
    assert len(fetched.content) == length

    ours = _single_record(fetched.content)
    for record, index_line in ((real, real_line), (ours, line)):
        assert record.warc_headers["WARC-Target-URI"] == index_line["url"]
        assert record.warc_headers["WARC-Payload-Digest"] == "sha1:" + index_line["digest"]
        assert payload_digest(record.payload) == index_line["digest"]
        assert str(record.http_status) == index_line["status"]
    assert ours.payload == CAPTURES[0].body
    assert set(real.warc_headers) >= set(ours.warc_headers) - {"WARC-Identified-Payload-Type"}


def test_data_files_whole_and_bad_ranges(cc: CommonCrawlServer, client: httpx.Client) -> None:
    # January has only 200s (warc/); March also has a 503 and a 301 (crawldiagnostics/).
    assert len(cc.files) == 3
    assert {c.url for c in cc.uncrawled} == {
        "http://www.harbor.example/feed.rss"
    }  # 2026-02-10 falls between the crawls
    name = next(n for n in cc.files if "CC-MAIN-2026-05" in n and "/warc/" in n)
    whole = client.get(f"{cc.data_url}/{name}")
    assert whole.status_code == 200 and whole.content == cc.files[name]
    types = [r.rec_type for r in ArchiveIterator(io.BytesIO(whole.content))]
    assert types == ["warcinfo", "response", "response", "response"]
    size = len(cc.files[name])
    for bad in (f"bytes={size}-", "bytes=abc", "bytes=9-3", "bytes=-0"):
        refused = client.get(f"{cc.data_url}/{name}", headers={"Range": bad})
        assert refused.status_code == 416, bad
        assert refused.headers["content-range"] == f"bytes */{size}"
    tail = client.get(f"{cc.data_url}/{name}", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == cc.files[name][-10:]
    clipped = client.get(
        f"{cc.data_url}/{name}", headers={"Range": f"bytes={size - 5}-{size + 99}"}
    )
    assert clipped.content == cc.files[name][-5:]
    assert clipped.headers["content-range"] == f"bytes {size - 5}-{size - 1}/{size}"
    assert client.get(f"{cc.data_url}/crawl-data/nope.warc.gz").status_code == 404


def test_cc_fail_next(client: httpx.Client) -> None:
    with CommonCrawlServer(CRAWLS, CAPTURES) as server:
        server.fail_next("/CC-MAIN-2026-10-index", 503, times=2)
        index = f"{server.base}/CC-MAIN-2026-10-index"
        codes = [client.get(index, params={"url": FEED}).status_code for _ in range(3)]
        assert codes == [503, 503, 200]
        server.fail_next("/crawl-data/", 429, headers={"Retry-After": "1"})
        name = next(iter(server.files))
        first = client.get(f"{server.data_url}/{name}", headers={"Range": "bytes=0-9"})
        assert first.status_code == 429 and first.headers["retry-after"] == "1"
        second = client.get(f"{server.data_url}/{name}", headers={"Range": "bytes=0-9"})
        assert second.status_code == 206 and len(second.content) == 10
        assert server.request_headers[-1]["range"] == "bytes=0-9"
