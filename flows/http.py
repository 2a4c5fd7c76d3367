"""The one place that talks HTTP. Every request newsdesk makes goes through :class:`Fetcher`.

Errors never escape as exceptions: a response or failure becomes an :class:`HttpResult` with an
``error_class`` (see :data:`ERROR_CLASSES`), so one bad source cannot stop the others.

What :meth:`Fetcher.get` enforces, on every redirect hop (followed here, one at a time):

* the SSRF guard (:mod:`flows.netguard`, :mod:`flows.transport`): http(s) only, no private,
  loopback, metadata ... addresses unless ``Settings.allow_private`` lists them;
* robots.txt, when a gate is attached (``Fetcher.robots``, see :mod:`flows.robots`);
* politeness (:mod:`flows.politeness`): per-host interval and concurrency, Retry-After;
* caps on bytes downloaded and bytes after decompression (:mod:`flows.decoding`), and a
  wall-clock limit for the whole call that holds even against a server dripping bytes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import httpx

from flows.decoding import ACCEPT_ENCODING, BodyTooLarge, DecodingError, make_decoder
from flows.netguard import (
    AddressRefused,
    NameResolutionFailed,
    UrlRefused,
    check_url,
    parse_networks,
)
from flows.politeness import HostBusy, HostLimiter
from flows.settings import Settings
from flows.transport import GuardedTransport, deadline
from transforms.records import TRANSIENT_ERROR_CLASSES
from transforms.schedule import parse_retry_after
from transforms.urls import host_of

__all__ = [
    "ERROR_CLASSES",
    "REDIRECT_STATUSES",
    "ROBOTS_TOKEN",
    "TRANSIENT_ERROR_CLASSES",
    "Fetcher",
    "HttpResult",
    "RobotsGate",
    "RobotsVerdict",
]

ERROR_CLASSES = (
    "dns",
    "connect",
    "timeout",
    "tls",
    "protocol",
    "invalid_url",
    "too_many_redirects",
    "redirect_loop",
    "too_large",
    "http_4xx",
    "http_429",
    "http_5xx",
    "ssrf_refused",
    "robots_disallowed",
    "robots_unavailable",  # robots.txt answered 5xx or not at all: wait, per RFC 9309
    "deferred",  # not requested: the host asked for a pause longer than we wait in one call
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The product token robots.txt groups are matched against.
ROBOTS_TOKEN = "newsdesk"

_KEPT_HEADERS = (
    "content-type",
    "etag",
    "last-modified",
    "cache-control",
    "expires",
    "age",
    "retry-after",
    "content-encoding",
    "location",
)


@dataclass(frozen=True, slots=True)
class HttpResult:
    url: str
    requested_at: datetime
    final_url: str | None = None
    status: int | None = None
    body: bytes = b""  # decoded (Content-Encoding undone)
    elapsed_ms: int = 0  # network time; waiting for a politeness slot is not counted
    headers: dict[str, str] = field(default_factory=dict)
    error_class: str | None = None
    error: str | None = None
    # Every hop followed, in order: (status, absolute Location). A leading 301/308 means the
    # resource moved for good and the caller may update the URL it stores.
    redirects: tuple[tuple[int, str], ...] = ()
    retry_after_s: float | None = None  # parsed Retry-After of a 429 or 503

    @property
    def ok(self) -> bool:
        return self.error_class is None and self.status is not None and self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def permanent_redirect(self) -> str | None:
        """Where the URL moved, when every hop was permanent (301/308); else None."""
        if self.redirects and all(status in (301, 308) for status, _ in self.redirects):
            return self.redirects[-1][1]
        return None


@dataclass(frozen=True, slots=True)
class RobotsVerdict:
    allowed: bool
    rule: str  # which rule decided, for the log
    temporary: bool = False  # disallowed only because robots.txt could not be read


class RobotsGate(Protocol):
    """What the Fetcher needs from a robots.txt policy (:class:`flows.robots.RobotsPolicy`)."""

    def verdict(self, url: str) -> RobotsVerdict: ...

    def crawl_delay(self, url: str) -> float | None: ...


class _Failure(Exception):
    """Ends a call early; :meth:`_Call.result` turns it into an HttpResult."""

    def __init__(
        self,
        error_class: str,
        error: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error_class, self.error = error_class, error
        self.status, self.headers = status, headers or {}


@dataclass
class _Call:
    """The state of one :meth:`Fetcher.get`, across its redirect hops."""

    url: str
    requested_at: datetime
    started: float
    deadline: float
    current: str = ""
    waited: float = 0.0
    redirects: list[tuple[int, str]] = field(default_factory=list)

    def wait_done(self, seconds: float) -> None:
        # Time queued for a politeness slot is not the server's fault: extend the deadline.
        self.waited += seconds
        self.deadline += seconds

    def result(
        self,
        *,
        status: int | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        error_class: str | None = None,
        error: str | None = None,
        retry_after_s: float | None = None,
    ) -> HttpResult:
        elapsed = time.monotonic() - self.started - self.waited
        return HttpResult(
            self.url,
            self.requested_at,
            self.current or None,
            status,
            body,
            max(0, int(elapsed * 1000)),
            headers or {},
            error_class,
            error,
            tuple(self.redirects),
            retry_after_s,
        )


def _classify(exc: httpx.HTTPError) -> str:
    text = str(exc).lower()
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "invalid_url"
    if isinstance(exc, httpx.ConnectError):
        if "ssl" in text or "certificate" in text:
            return "tls"
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            return "dns"
        return "connect"
    return "protocol"


def _status_error(status: int, reason: str) -> tuple[str | None, str | None]:
    if status == 429:
        return "http_429", "429 Too Many Requests"
    if status >= 500:
        return "http_5xx", f"{status} {reason}"
    if status >= 400:
        return "http_4xx", f"{status} {reason}"
    if 300 <= status < 400 and status != 304:
        return "protocol", f"{status} {reason} without a usable Location"
    return None, None


class Fetcher:
    """A configured httpx client: identifying User-Agent, timeouts, caps, conditional GET,
    redirects vetted hop by hop, politeness, and robots.txt when a gate is attached.

    ``transport`` replaces the guarded transport (tests); the URL checks still apply, the
    connect-time address check and the per-read deadline do not. ``politeness`` may be shared
    between Fetchers (it should be, for the limits to hold across a run); by default each
    Fetcher gets its own, built from ``settings``. ``robots`` (also settable as the attribute,
    since a :class:`flows.robots.RobotsPolicy` fetches through this Fetcher) makes :meth:`get`
    honour robots.txt.
    """

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        politeness: HostLimiter | None = None,
        robots: RobotsGate | None = None,
    ) -> None:
        self.settings = settings
        self.allowed = parse_networks(settings.allow_private)
        self.politeness = politeness or HostLimiter.from_settings(settings)
        self.robots = robots
        self._client = httpx.Client(
            headers={
                "User-Agent": settings.effective_user_agent,
                # Asked for here and decoded by us (flows.decoding), so the caps see every byte.
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            follow_redirects=False,
            transport=transport or GuardedTransport(self.allowed),
            # No proxies from the environment (the guard would vet the proxy, not the site).
            trust_env=False,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        respect_robots: bool = True,
        extra_headers: Mapping[str, str] | None = None,
    ) -> HttpResult:
        """GET ``url``; validators are echoed verbatim so the server can answer 304.

        ``respect_robots=False`` skips the robots gate (for fetching robots.txt itself, and
        for archives, which answer for themselves). ``extra_headers``: e.g. ``Range`` for one
        record of a Common Crawl WARC file.
        """
        headers: dict[str, str] = dict(extra_headers or {})
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        started = time.monotonic()
        call = _Call(url, datetime.now(UTC), started, started + self.settings.total_timeout_s)
        try:
            return self._follow(call, headers, respect_robots)
        except _Failure as failure:
            return call.result(
                status=failure.status,
                headers=failure.headers,
                error_class=failure.error_class,
                error=failure.error,
            )
        except AddressRefused as exc:
            return call.result(error_class="ssrf_refused", error=str(exc))
        except UrlRefused as exc:
            return call.result(error_class="invalid_url", error=str(exc))
        except NameResolutionFailed as exc:
            return call.result(error_class="dns", error=str(exc))
        except httpx.InvalidURL as exc:  # not an httpx.HTTPError
            return call.result(error_class="invalid_url", error=f"InvalidURL: {exc}")
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return call.result(error_class=_classify(exc), error=error)

    def _follow(self, call: _Call, headers: dict[str, str], respect_robots: bool) -> HttpResult:
        seen: set[str] = set()
        target = call.url
        while True:
            call.current = target
            url = check_url(target, self.allowed)
            call.current = str(url)  # as httpx normalises it, like response.url
            seen.add(call.current)
            if respect_robots and self.robots is not None:
                # robots.txt is its own request with its own deadline; this one waits meanwhile.
                checking = time.monotonic()
                self._check_robots(str(url))
                call.wait_done(time.monotonic() - checking)
            hop = self._exchange(call, url, headers)
            if isinstance(hop, HttpResult):
                return hop
            status, location = hop
            call.redirects.append((status, location))
            if location in seen:
                error = f"{status} to {location}, already visited"
                raise _Failure("redirect_loop", error, status=status)
            if len(call.redirects) > self.settings.max_redirects:
                error = f"more than {self.settings.max_redirects} redirects"
                raise _Failure("too_many_redirects", error, status=status)
            target = location

    def _check_robots(self, url: str) -> None:
        assert self.robots is not None
        verdict = self.robots.verdict(url)
        self.politeness.set_crawl_delay(host_of(url), self.robots.crawl_delay(url))
        if not verdict.allowed:
            error_class = "robots_unavailable" if verdict.temporary else "robots_disallowed"
            raise _Failure(error_class, verdict.rule)

    def _timeout(self, call: _Call) -> httpx.Timeout:
        left = max(call.deadline - time.monotonic(), 0.001)
        s = self.settings
        return httpx.Timeout(
            connect=min(s.connect_timeout_s, left),
            read=min(s.read_timeout_s, left),
            write=min(s.read_timeout_s, left),
            pool=min(s.connect_timeout_s, left),
        )

    def _exchange(
        self, call: _Call, url: httpx.URL, headers: dict[str, str]
    ) -> HttpResult | tuple[int, str]:
        """One request: a final HttpResult, or the (status, next URL) of a redirect."""
        with ExitStack() as stack:
            # Waiting one full interval (Crawl-delay) is always acceptable; a longer queue or a
            # Retry-After pause ends the call as "deferred" rather than parking the thread.
            budget = max(self.settings.total_timeout_s, self.politeness.delay_of(host_of(str(url))))
            slot = self.politeness.slot(host_of(str(url)), max_wait_s=budget)
            try:
                call.wait_done(stack.enter_context(slot))
            except HostBusy as exc:
                raise _Failure("deferred", str(exc)) from exc
            stack.enter_context(deadline(call.deadline))
            timeout = self._timeout(call)
            response = stack.enter_context(
                self._client.stream("GET", url, headers=headers, timeout=timeout)
            )
            return self._response(call, url, response)

    def _response(
        self, call: _Call, url: httpx.URL, response: httpx.Response
    ) -> HttpResult | tuple[int, str]:
        status = response.status_code
        kept = {k: v for k in _KEPT_HEADERS if (v := response.headers.get(k)) is not None}
        location = response.headers.get("location", "").strip()
        if status in REDIRECT_STATUSES and location:
            try:
                return status, str(url.join(location))
            except httpx.InvalidURL as exc:
                raise _Failure("invalid_url", f"bad Location {location!r}: {exc}") from exc
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(kept.get("retry-after"), datetime.now(UTC))
            if retry_after is not None:
                self.politeness.defer(host_of(str(url)), retry_after)
        body = self._read_body(call, response, kept)
        error_class, error = _status_error(status, response.reason_phrase)
        return call.result(
            status=status,
            body=body,
            headers=kept,
            error_class=error_class,
            error=error,
            retry_after_s=retry_after,
        )

    def _read_body(self, call: _Call, response: httpx.Response, kept: dict[str, str]) -> bytes:
        """Read raw bytes and decode them ourselves, holding both caps and the deadline."""
        raw_cap, cap = self.settings.max_download_bytes, self.settings.max_bytes

        def fail(error_class: str, error: str) -> _Failure:
            return _Failure(error_class, error, status=response.status_code, headers=kept)

        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > raw_cap:
            raise fail("too_large", f"Content-Length {declared} exceeds {raw_cap} bytes")
        try:
            decoder = make_decoder(response.headers.get("content-encoding"), cap)
            parts: list[bytes] = []
            downloaded = 0
            for chunk in response.iter_raw():
                if time.monotonic() > call.deadline:
                    raise fail("timeout", self._too_slow())
                downloaded += len(chunk)
                if downloaded > raw_cap:
                    raise fail("too_large", f"download exceeds {raw_cap} bytes; stopped reading")
                parts.append(decoder.feed(chunk))
            parts.append(decoder.flush())
        except BodyTooLarge as exc:
            raise fail("too_large", f"body exceeds {cap} bytes; stopped reading") from exc
        except DecodingError as exc:
            raise fail("protocol", f"{type(exc).__name__}: {exc}") from exc
        return b"".join(parts)

    def _too_slow(self) -> str:
        return f"response took longer than {self.settings.total_timeout_s:g}s"
