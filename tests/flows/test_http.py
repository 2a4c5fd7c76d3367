import socket
from pathlib import Path

import pytest

from flows.demo import DemoServer, Route
from flows.http import Fetcher
from flows.settings import Settings


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "feed.xml").write_text("<rss version='2.0'><channel/></rss>")
    return tmp_path


def test_conditional_get_echoes_validators_and_gets_304(site: Path) -> None:
    with DemoServer(data_dir=site) as server, Fetcher(Settings()) as fetcher:
        first = fetcher.get(server.base_url + "/feed.xml")
        assert first.status == 200 and first.ok
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        second = fetcher.get(server.base_url + "/feed.xml", etag=etag, last_modified=modified)
        assert second.status == 304 and second.not_modified and second.body == b""
        sent = server.requests[-1][1]
        assert sent["if-none-match"] == etag and sent["if-modified-since"] == modified
        assert sent["user-agent"].startswith("newsdesk/")


def test_status_errors_are_classified(site: Path) -> None:
    routes = {
        "/500": Route(500, b"oops"),
        "/429": Route(429, b"", {"Retry-After": "120"}),
        "/moved": Route(301, b"", {"Location": "/feed.xml"}),
    }
    with DemoServer(data_dir=site, routes=routes) as server, Fetcher(Settings()) as fetcher:
        assert fetcher.get(server.base_url + "/500").error_class == "http_5xx"
        too_many = fetcher.get(server.base_url + "/429")
        assert too_many.error_class == "http_429"
        assert too_many.headers["retry-after"] == "120"
        assert fetcher.get(server.base_url + "/missing").error_class == "http_4xx"
        moved = fetcher.get(server.base_url + "/moved")
        assert moved.ok and moved.final_url == server.base_url + "/feed.xml"


def test_body_over_the_cap_is_refused(site: Path) -> None:
    routes = {"/big": Route(200, b"x" * 300_000)}
    settings = Settings(max_bytes=100_000)
    with DemoServer(data_dir=site, routes=routes) as server, Fetcher(settings) as fetcher:
        result = fetcher.get(server.base_url + "/big")
    assert result.error_class == "too_large"
    assert result.body == b""


def test_connection_refused_is_a_value_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with Fetcher(Settings(connect_timeout_s=2)) as fetcher:
        result = fetcher.get(f"http://127.0.0.1:{port}/feed")
        assert fetcher.get("gopher://x/").error_class == "invalid_url"
    assert result.error_class == "connect"
    assert result.status is None
