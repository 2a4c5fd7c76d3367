"""robots.txt through the real Fetcher against loopback servers; time is a fake clock."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows.http import TRANSIENT_ERROR_CLASSES, Fetcher, HttpResult
from flows.politeness import HostLimiter
from flows.robots import MemoryRobotsStore, RobotsPolicy, RobotsRecord, origin_of
from flows.settings import Settings
from tests.flows.loopback import Loopback, Request, Routes, respond
from transforms.urls import host_of

ROBOTS = b"""\
User-agent: *
Disallow: /

User-agent: newsdesk
Disallow: /private/
Allow: /private/press-
Crawl-delay: 7
"""


def local(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"allow_private": ["127.0.0.0/8"], "per_host_delay_s": 0.0}
    return Settings(**(values | overrides))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Switchable:
    """A handler whose robots.txt answer the test can change."""

    def __init__(self, status: int, body: bytes = ROBOTS) -> None:
        self.status, self.body = status, body

    def __call__(self, conn: socket.socket, request: Request) -> None:
        if request.path == "/robots.txt":
            respond(conn, self.status, self.body if self.status == 200 else b"", {})
        else:
            respond(conn, 200, b"<html>page</html>", {"Content-Type": "text/html"})


def test_disallow_is_honoured_and_crawl_delay_read() -> None:
    fetched: list[HttpResult] = []
    limiter = HostLimiter(delay_s=0.0, max_crawl_delay_s=60)
    with Loopback(Switchable(200)) as server, Fetcher(local(), politeness=limiter) as fetcher:
        policy = fetcher.robots = RobotsPolicy(fetcher, on_fetch=fetched.append)
        base = server.base_url
        refused = fetcher.get(base + "/private/secret.html")
        allowed = fetcher.get(base + "/private/press-release.html")
        assert policy.can_fetch(base + "/news/a.html")[0] is True
        assert policy.can_fetch(base + "/news/a.html", "otherbot")[0] is False  # the * group
        assert policy.crawl_delay(base + "/") == 7.0
        paths = server.paths
    assert refused.error_class == "robots_disallowed"
    assert "disallows /private/secret.html" in (refused.error or "")
    assert refused.error_class not in TRANSIENT_ERROR_CLASSES
    assert allowed.ok
    assert paths == ["/robots.txt", "/private/press-release.html"]  # fetched once, cached
    assert [r.url for r in fetched] == [base + "/robots.txt"]
    # Crawl-delay reached politeness, for this host:port only.
    assert limiter.delay_of(host_of(base)) == 7.0
    assert limiter.delay_of("127.0.0.1:1") == 0.0


def test_missing_robots_allows_everything() -> None:
    with Loopback(Switchable(404)) as server, Fetcher(local()) as fetcher:
        policy = RobotsPolicy(fetcher)
        allowed, rule = policy.can_fetch(server.base_url + "/private/x")
        assert policy.crawl_delay(server.base_url) is None
    assert allowed and "404" in rule


def test_unreachable_robots_disallows_for_now_and_is_retried() -> None:
    clock = Clock()
    handler = Switchable(503)
    with Loopback(handler) as server, Fetcher(local()) as fetcher:
        fetcher.robots = RobotsPolicy(fetcher, ttl_s=86_400, retry_s=600, clock=clock)
        page = server.base_url + "/news/a.html"
        first = fetcher.get(page)
        clock.advance(300)
        second = fetcher.get(page)  # within retry_s: no new robots.txt request
        assert server.paths == ["/robots.txt"]
        handler.status = 200
        clock.advance(301)
        third = fetcher.get(page)
        assert server.paths == ["/robots.txt", "/robots.txt", "/news/a.html"]
    assert first.error_class == second.error_class == "robots_unavailable"
    assert "answered 503" in (first.error or "")
    assert "robots_unavailable" in TRANSIENT_ERROR_CLASSES
    assert third.ok


def test_no_answer_at_all_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with Fetcher(local(connect_timeout_s=2)) as fetcher:
        allowed, rule = RobotsPolicy(fetcher).can_fetch(f"http://127.0.0.1:{port}/a")
    assert not allowed and "did not answer" in rule


def test_a_good_copy_outlives_its_ttl_while_the_origin_is_unreachable() -> None:
    clock = Clock()
    handler = Switchable(200)
    with Loopback(handler) as server, Fetcher(local()) as fetcher:
        policy = RobotsPolicy(fetcher, ttl_s=3600, retry_s=600, clock=clock)
        url = server.base_url + "/private/x"
        assert policy.can_fetch(url)[0] is False
        handler.status = 500
        clock.advance(3601)
        assert policy.can_fetch(url)[0] is False  # the stale rules, not "disallow all"
        assert policy.can_fetch(server.base_url + "/news")[0] is True
        clock.advance(300)
        policy.can_fetch(url)
        assert server.paths == ["/robots.txt", "/robots.txt"]  # retried once, then waits


def test_ttl_expiry_refetches() -> None:
    clock = Clock()
    handler = Switchable(200)
    with Loopback(handler) as server, Fetcher(local()) as fetcher:
        policy = RobotsPolicy(fetcher, ttl_s=3600, clock=clock)
        url = server.base_url + "/private/x"
        assert policy.can_fetch(url)[0] is False
        handler.body = b"User-agent: *\nDisallow:\n"
        clock.advance(1800)
        assert policy.can_fetch(url)[0] is False  # still cached
        clock.advance(1801)
        assert policy.can_fetch(url)[0] is True
        assert server.paths == ["/robots.txt", "/robots.txt"]


def test_records_go_through_the_store() -> None:
    clock = Clock()
    store = MemoryRobotsStore()
    with Loopback(Switchable(200)) as server, Fetcher(local()) as fetcher:
        RobotsPolicy(fetcher, store=store, clock=clock).can_fetch(server.base_url + "/")
        origin = origin_of(server.base_url)
        record = store.get(origin)
        assert record is not None
        assert (record.status, record.fetched_at, record.body) == (200, clock.now, ROBOTS.decode())
        # A second policy over the same store (a later run) does not fetch again.
        RobotsPolicy(fetcher, store=store, clock=clock).can_fetch(server.base_url + "/x")
        assert server.paths == ["/robots.txt"]


def test_persisted_records_are_used() -> None:
    clock = Clock()
    store = MemoryRobotsStore()
    origin = "https://news.example"
    store.put(RobotsRecord(origin, "User-agent: newsdesk\nDisallow: /x\n", clock.now, 200))
    with Fetcher(local()) as fetcher:  # never used: the record is fresh
        policy = RobotsPolicy(fetcher, store=store, clock=clock)
        assert policy.can_fetch(origin + "/x/1")[0] is False
        assert policy.can_fetch(origin + "/y")[0] is True


def test_robots_txt_itself_is_always_allowed() -> None:
    with Fetcher(local()) as fetcher:
        assert RobotsPolicy(fetcher).can_fetch("https://news.example/robots.txt")[0] is True


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Example.com/a?b", "https://example.com"),
        ("https://example.com:443/", "https://example.com"),
        ("http://example.com:8080/x", "http://example.com:8080"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("https://bücher.example/", "https://xn--bcher-kva.example"),
    ],
)
def test_origin_of(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_the_wildcard_group_applies_when_no_group_names_us() -> None:
    routes = Routes({"/robots.txt": (200, b"User-agent: *\nDisallow: /\n", {})})
    with Loopback(routes) as server, Fetcher(local()) as fetcher:
        assert RobotsPolicy(fetcher).can_fetch(server.base_url + "/a")[0] is False
