"""Every file of corpus/hostile/, served as a feed, through the real ``ingest`` flow in one run.

One loopback server (:class:`flows.demo.DemoServer`) serves each hostile file at its own feed URL,
with the headers corpus/SOURCES.md asks for (``.gz``/``.z`` with Content-Encoding gzip/deflate,
feedparser's ``Header: Content-type:`` comment as the Content-Type; every other file claims to be
``application/rss+xml``, as a misconfigured or hostile server would), next to the demo site's
three good feeds. The flow runs once over all of them; the warehouse must then hold a feed fetch
for every file, each a clean parse or a recorded error, and every good entry and article.

The XXE/SSRF probes point at http://127.0.0.1:8765/: a listener bound there must see no
connection. The flow run is one measurement for everything, so each file also goes through
:func:`transforms.feeds.parse_feed` on its own, timed and traced: at most 10 s and 200 MB each.
"""

from __future__ import annotations

import contextlib
import re
import resource
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.decoding import BodyTooLarge, DecodingError, make_decoder
from flows.demo import DemoServer, Route, demo_data_dir, demo_publishers
from flows.ingest import ingest
from flows.settings import Settings
from transforms.feeds import parse_feed
from transforms.records import ParsedFeed

pytestmark = pytest.mark.corpus

XXE_PORT = 8765
MAX_SECONDS_PER_FILE = 10.0
MAX_MB_PER_FILE = 200.0
# The whole module (flow run plus direct parses), without the shared Prefect harness start-up.
MAX_MODULE_SECONDS = 60.0
DEFAULT_CONTENT_TYPE = "application/rss+xml"
CONTENT_ENCODINGS = {".gz": "gzip", ".z": "deflate"}
# feedparser's test files name the Content-Type their server must send in a header comment.
HEADER_COMMENT = re.compile(r"Header:\s*Content-type:\s*([^\r\n]*)", re.I)
ITEM_START = re.compile(rb"<(?:item|entry)[\s>]")
FLOW_OVERRIDES = {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0}


@dataclass(frozen=True)
class Served:
    """One hostile file as the server sends it."""

    name: str
    path: str  # URL path on the loopback server
    body: bytes  # the file's bytes, unchanged (compressed files stay compressed)
    content_type: str
    content_encoding: str | None

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": self.content_type}
        if self.content_encoding:
            headers["Content-Encoding"] = self.content_encoding
        return headers


@dataclass
class Listener:
    """A TCP listener that only counts who connects (and what they send first)."""

    sock: socket.socket
    connections: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def serve(self) -> None:
        # Polling accept: closing a socket does not wake a thread blocked in accept().
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    first = conn.recv(4096)
                except OSError:
                    first = b""
            self.connections.append(first or b"<connected, sent nothing>")


@dataclass(frozen=True)
class Direct:
    """parse_feed on one file alone: what the parser saw, what it said, what it cost."""

    parser_input: str  # "body" | "decoded" | "http: <error class>" (the flow never parses it)
    parsed: ParsedFeed
    seconds: float
    traced_mb: float


@dataclass(frozen=True)
class HostileRun:
    db: Path
    base: str
    summary: dict[str, Any]
    seconds: float
    served: list[Served]
    direct: dict[str, Direct]
    xxe_connections: list[bytes]
    # Growth of the process's RSS high-water mark during the run: printed, not asserted (it
    # includes the first import and use of the extractor and Prefect's task machinery).
    flow_rss_growth_mb: float
    direct_rss_growth_mb: float  # ... during the direct parses


def _content_type(name: str, body: bytes) -> str:
    # NULs out so that a UTF-16/32 file's header comment would be found as well.
    head = body[:2048].replace(b"\x00", b"").decode("latin-1")
    found = HEADER_COMMENT.search(head)
    return found.group(1).strip() if found else DEFAULT_CONTENT_TYPE


def _served_files(corpus: Path) -> list[Served]:
    files = sorted(p for p in (corpus / "hostile").iterdir() if p.is_file())
    assert len(files) >= 90, f"corpus/hostile has {len(files)} files; SOURCES.md lists 91"
    served = []
    for path in files:
        body = path.read_bytes()
        served.append(
            Served(
                name=path.name,
                path="/hostile/" + path.name,
                body=body,
                content_type=_content_type(path.name, body),
                content_encoding=CONTENT_ENCODINGS.get(path.suffix),
            )
        )
    return served


def _parser_input(served: Served) -> tuple[str, bytes]:
    """The bytes the flow's parser gets: the body with its Content-Encoding undone under the
    HTTP layer's cap, as flows.http does. A body the HTTP layer refuses (bomb, bad compressed
    data) never reaches the parser; it is measured raw, as a careless caller would hand it over,
    and labelled with the error class flows.http records for it."""
    if served.content_encoding is None:
        return "body", served.body
    decoder = make_decoder(served.content_encoding, Settings().max_bytes)
    try:
        return "decoded", decoder.feed(served.body) + decoder.flush()
    except BodyTooLarge:
        return "http: too_large", served.body
    except DecodingError:
        return "http: protocol", served.body


def _measure(served: Served, url: str) -> Direct:
    label, data = _parser_input(served)
    started = time.perf_counter()
    parsed = parse_feed(data, url, served.content_type)
    seconds = time.perf_counter() - started
    # A second, traced parse for memory: tracemalloc slows parsing down 2-3x, so it is kept
    # out of the timing.
    tracemalloc.start()
    try:
        parse_feed(data, url, served.content_type)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Direct(label, parsed, seconds, peak / 1e6)


@contextlib.contextmanager
def _xxe_listener() -> Iterator[Listener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", XXE_PORT))
    except OSError as exc:
        sock.close()
        pytest.fail(
            f"127.0.0.1:{XXE_PORT} is busy ({exc}): the XXE/SSRF probes in corpus/hostile point "
            "there, so this test must own the port to prove nothing connects to it. Stop "
            f"whatever listens on {XXE_PORT} and run again."
        )
    sock.listen(16)
    listener = Listener(sock)
    thread = threading.Thread(target=listener.serve, daemon=True)
    thread.start()
    try:
        # Prove the listener counts a connection, so that "none" later means something.
        with socket.create_connection(("127.0.0.1", XXE_PORT), timeout=2) as probe:
            probe.sendall(b"self-check")
        deadline = time.monotonic() + 2
        while not listener.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert listener.connections == [b"self-check"], listener.connections
        listener.connections.clear()
        yield listener
    finally:
        listener.stop.set()
        thread.join(timeout=5)
        sock.close()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


@pytest.fixture(scope="module")
def hostile_run(
    corpus: Path, prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> HostileRun:
    """The one flow run over every hostile file plus the demo feeds, then each file alone."""
    served = _served_files(corpus)
    db = tmp_path_factory.mktemp("hostile") / "newsdesk.duckdb"
    routes = {s.path: Route(200, s.body, s.headers) for s in served}
    with _xxe_listener() as listener, DemoServer(routes=routes) as server:
        publishers = [
            {"name": f"hostile {s.name}", "feeds": [server.base_url + s.path]} for s in served
        ]
        publishers += [p.model_dump() for p in demo_publishers(server.base_url)]
        rss_start = _rss_mb()
        started = time.perf_counter()
        summary = ingest(
            db=str(db), publishers=publishers, all_feeds=True, overrides=FLOW_OVERRIDES
        )
        flow_seconds = time.perf_counter() - started
        rss_after_flow = _rss_mb()
        direct = {s.name: _measure(s, server.base_url + s.path) for s in served}
        rss_after_direct = _rss_mb()
        # Give a late connection (none should come) a moment to be counted.
        time.sleep(0.2)
        connections = list(listener.connections)
    return HostileRun(
        db,
        server.base_url,
        summary,
        flow_seconds,
        served,
        direct,
        connections,
        rss_after_flow - rss_start,
        rss_after_direct - rss_after_flow,
    )


def _query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _feed_fetches(run: HostileRun) -> dict[str, tuple[Any, ...]]:
    """url path -> (status, error_class, error, stored entries) for this run's feed fetches."""
    rows = _query(
        run.db,
        """
        select f.url, f.status, f.error_class, f.error,
               (select count(*) from entries e where e.feed_id = f.feed_id)
        from fetches f where f.run_id = ? and f.kind = 'feed'
        """,
        [run.summary["run_id"]],
    )
    return {url.removeprefix(run.base): tuple(rest) for url, *rest in rows}


def test_the_run_completes_and_every_hostile_feed_is_a_parse_or_a_recorded_error(
    hostile_run: HostileRun,
) -> None:
    run = hostile_run
    print(f"\nflow run over {len(run.served)} hostile + 3 demo feeds: {run.seconds:.1f} s")
    print({k: v for k, v in run.summary.items() if k != "run_id"})
    assert run.summary["status"] == "completed"
    (status,) = _query(run.db, "select status from runs where run_id = ?", [run.summary["run_id"]])
    assert status == ("completed",)
    fetches = _feed_fetches(run)
    width = max(len(s.name) for s in run.served)
    print(f"\n{'file':{width}} {'HTTP':>4} {'flow: error_class (stored entries)':34}")
    problems = []
    for s in run.served:
        row = fetches.get(s.path)
        if row is None:
            problems.append(f"{s.name}: no feed fetch recorded")
            continue
        http_status, error_class, error, stored = row
        outcome = f"{error_class} ({stored} entries)" if error_class else f"{stored} entries"
        print(f"{s.name:{width}} {http_status!s:>4} {outcome:34}")
        if error_class is not None and not (error_class.strip() and (error or "").strip()):
            problems.append(f"{s.name}: error_class {error_class!r} without a message")
    assert not problems, problems
    assert run.summary["feeds_total"] == len(run.served) + 3
    failed = sum(1 for s in run.served if fetches[s.path][1] is not None)
    assert run.summary["feeds_failed"] == failed


def test_the_flow_stores_what_the_parser_recovers(hostile_run: HostileRun) -> None:
    """For every body the parser saw, the fetch row and stored entries are the parser's: nothing
    lost on the way. A body the HTTP layer refused (a bomb, bad compressed data) is that error."""
    fetches = _feed_fetches(hostile_run)
    for s in hostile_run.served:
        _, error_class, error, stored = fetches[s.path]
        direct = hostile_run.direct[s.name]
        if direct.parser_input.startswith("http: "):
            assert error_class == direct.parser_input.removeprefix("http: "), (s.name, error)
            assert stored == 0, s.name
            continue
        assert error_class == direct.parsed.error_class, (s.name, error_class, error)
        assert stored == len(direct.parsed.entries), s.name


def test_the_good_feeds_lose_nothing(
    hostile_run: HostileRun, demo_manifest: list[dict[str, Any]]
) -> None:
    run = hostile_run
    site = demo_data_dir() / "site"
    for publisher in demo_publishers(run.base):
        (url,) = publisher.feeds
        path = url.removeprefix(run.base)
        body = (site / path.lstrip("/")).read_bytes().replace(b"{{BASE}}", run.base.encode())
        # Counted in the bytes, not with the parser under test.
        items = len(ITEM_START.findall(body))
        assert items >= 3, path
        status, error_class, error, stored = _feed_fetches(run)[path]
        assert (status, error_class) == (200, None), (path, error)
        assert stored == items, path
    articles = {
        u.removeprefix(run.base)
        for (u,) in _query(run.db, "select url from articles where url like ?", [run.base + "%"])
    }
    assert articles == {item["path"] for item in demo_manifest}


def test_each_hostile_file_parses_within_the_limits(hostile_run: HostileRun) -> None:
    """parse_feed alone on each file's bytes: at most 10 s and 200 MB each."""
    run = hostile_run
    width = max(len(s.name) for s in run.served)
    print(f"\n{'file':{width}} {'input':17} {'error_class or entries':24} {'s':>6} {'MB':>6}")
    over = []
    for s in run.served:
        d = run.direct[s.name]
        result = d.parsed.error_class or f"{len(d.parsed.entries)} entries"
        if d.parsed.error_class and d.parsed.entries:
            result += f" ({len(d.parsed.entries)})"
        row = f"{s.name:{width}} {d.parser_input:17} {result:24}"
        print(f"{row} {d.seconds:6.3f} {d.traced_mb:6.1f}")
        if d.seconds > MAX_SECONDS_PER_FILE or d.traced_mb > MAX_MB_PER_FILE:
            over.append((s.name, round(d.seconds, 2), round(d.traced_mb, 1)))
    slowest = max(run.direct, key=lambda name: run.direct[name].seconds)
    timing = f"slowest: {slowest} ({run.direct[slowest].seconds:.3f} s)"
    growth = (
        f"RSS high-water mark grew {run.flow_rss_growth_mb:.0f} MB in the flow run, "
        f"{run.direct_rss_growth_mb:.0f} MB in the direct parses"
    )
    print(f"{timing}; {growth}")
    assert not over, over
    assert run.direct_rss_growth_mb < MAX_MB_PER_FILE
    total = run.seconds + sum(d.seconds for d in run.direct.values())
    assert total < MAX_MODULE_SECONDS, f"flow {run.seconds:.1f} s + direct parses: {total:.1f} s"


def test_no_hostile_file_made_anything_connect_to_the_xxe_listener(
    hostile_run: HostileRun,
) -> None:
    assert hostile_run.xxe_connections == [], hostile_run.xxe_connections
