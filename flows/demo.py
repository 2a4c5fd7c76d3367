"""The bundled offline sample site and a small loopback server for it.

The site (``demo/site``; packaged as ``flows/demo_data/site``) holds three fictional publishers.
Files may contain ``{{BASE}}``, replaced by the server's own address when served. The server sends
ETag and Last-Modified and answers conditional requests with 304, like a well-run news site.
Edition 2 (``site-edition2``) overlays edition 1 to show an article edited after publication.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from flows.sources import Publisher

__all__ = ["DEMO_PUBLISHERS", "DemoServer", "Route", "demo_data_dir", "demo_publishers"]

DEFAULT_DEMO_PORT = 8642
# Each edition's files are "last modified" at a fixed instant, so runs are repeatable.
EDITION_MODIFIED = {
    1: datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    2: datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".xml": "application/atom+xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}

# (name, domain, language, country, feed path)
DEMO_PUBLISHERS = (
    ("The Harbor Courier", "harbor-courier.example", "en", "US", "/harbor/feed.rss"),
    ("Lakeside Ledger", "lakeside-ledger.example", "en", "GB", "/ledger/atom.xml"),
    ("Nordpost", "nordpost.example", "de", "DE", "/nordpost/rss.rdf"),
)


def demo_data_dir() -> Path:
    """The demo site folder: packaged beside this module, or ``demo/`` in a source checkout."""
    packaged = Path(__file__).parent / "demo_data"
    if (packaged / "site").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "demo"


def demo_publishers(base_url: str) -> list[Publisher]:
    return [
        Publisher(
            name=name, domain=domain, language=language, country=country, feeds=[base_url + path]
        )
        for name, domain, language, country, path in DEMO_PUBLISHERS
    ]


@dataclass(frozen=True)
class Route:
    """A canned answer for one path (tests use these for broken feeds and pages)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _State:
    roots: list[tuple[Path, int]]
    routes: dict[str, Route]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delays: dict[str, float] = field(default_factory=dict)  # path: seconds before answering


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        state = self.server.state
        path = self.path.split("?", 1)[0]
        with state.lock:
            state.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            delay = state.delays.get(path, 0.0)
        if delay:
            time.sleep(delay)
        route = state.routes.get(path)
        if route is not None:
            self._send(route.status, route.body, route.headers)
            return
        found = self._find(path)
        if found is None:
            self._send(
                404,
                b"<html><body><h1>Not found</h1></body></html>",
                {"Content-Type": "text/html; charset=utf-8"},
            )
            return
        file, edition = found
        body = file.read_bytes().replace(b"{{BASE}}", self.server.base_url.encode())
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = EDITION_MODIFIED.get(edition, EDITION_MODIFIED[1])
        headers = {
            "Content-Type": CONTENT_TYPES.get(file.suffix, "application/octet-stream"),
            "ETag": etag,
            "Last-Modified": format_datetime(modified, usegmt=True),
            "Cache-Control": "max-age=300",
        }
        if self._not_modified(etag, modified):
            self._send(304, b"", {k: v for k, v in headers.items() if k != "Content-Type"})
            return
        self._send(200, body, headers)

    def _find(self, path: str) -> tuple[Path, int] | None:
        relative = path.lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        for root, edition in self.server.state.roots:
            candidate = (root / relative).resolve()
            if candidate.is_file() and candidate.is_relative_to(root.resolve()):
                return candidate, edition
        return None

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match == "*"
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                return parsedate_to_datetime(if_modified_since) >= modified
            except (TypeError, ValueError):
                return False
        return False

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State
    base_url: str

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that stops reading (a size cap, a timeout) is normal here: say nothing.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class DemoServer:
    """Serve the demo site on 127.0.0.1 in a background thread.

    ``edition=2`` serves the edited article and its updated feed. ``routes`` add canned answers.
    """

    def __init__(
        self,
        port: int = 0,
        edition: int = 1,
        routes: dict[str, Route] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        data = data_dir or demo_data_dir()
        roots = [(data / "site", 1)]
        if edition >= 2:
            roots.insert(0, (data / "site-edition2", 2))
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = _State(roots, dict(routes or {}))
        bound_port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{bound_port}"
        self._server.base_url = self.base_url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        with self._server.state.lock:
            return list(self._server.state.requests)

    def set_edition(self, edition: int) -> None:
        state = self._server.state
        data = state.roots[-1][0].parent
        with state.lock:
            state.roots = [(data / "site", 1)]
            if edition >= 2:
                state.roots.insert(0, (data / "site-edition2", 2))

    def add_route(self, path: str, route: Route) -> None:
        with self._server.state.lock:
            self._server.state.routes[path] = route

    def delay(self, path: str, seconds: float) -> None:
        """Answer ``path`` only after ``seconds`` (a slow source, for tests of concurrency)."""
        with self._server.state.lock:
            self._server.state.delays[path] = seconds

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
