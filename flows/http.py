"""The one place that talks HTTP. Every request newsdesk makes goes through :class:`Fetcher`.

Errors never escape as exceptions: a response or failure becomes an :class:`HttpResult` with an
``error_class`` (see :data:`ERROR_CLASSES`), so one bad source cannot stop the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from flows.settings import Settings

__all__ = ["ERROR_CLASSES", "TRANSIENT_ERROR_CLASSES", "Fetcher", "HttpResult"]

ERROR_CLASSES = (
    "dns",
    "connect",
    "timeout",
    "tls",
    "protocol",
    "invalid_url",
    "too_many_redirects",
    "too_large",
    "http_4xx",
    "http_429",
    "http_5xx",
)
# Worth trying again later; the rest need the source (or its configuration) to change.
TRANSIENT_ERROR_CLASSES = frozenset(
    {"dns", "connect", "timeout", "protocol", "http_429", "http_5xx"}
)
_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class HttpResult:
    url: str
    requested_at: datetime
    final_url: str | None = None
    status: int | None = None
    body: bytes = b""
    elapsed_ms: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    error_class: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_class is None and self.status is not None and self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


_KEPT_HEADERS = (
    "content-type",
    "etag",
    "last-modified",
    "cache-control",
    "expires",
    "retry-after",
    "content-encoding",
    "location",
)


def _classify(exc: httpx.HTTPError) -> str:
    text = str(exc).lower()
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too_many_redirects"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "invalid_url"
    if isinstance(exc, httpx.ConnectError):
        if "ssl" in text or "certificate" in text:
            return "tls"
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            return "dns"
        return "connect"
    return "protocol"


class Fetcher:
    """A configured httpx client: identifying User-Agent, timeouts, size cap, conditional GET."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._client = httpx.Client(
            headers={
                "User-Agent": settings.effective_user_agent,
                "Accept-Encoding": "gzip, deflate, br",
            },
            timeout=httpx.Timeout(
                connect=settings.connect_timeout_s,
                read=settings.read_timeout_s,
                write=settings.read_timeout_s,
                pool=settings.connect_timeout_s,
            ),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            transport=transport,
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
    ) -> HttpResult:
        """GET ``url``; validators are echoed verbatim so the server can answer 304."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        requested_at = datetime.now(UTC)
        started = time.monotonic()
        deadline = started + self.settings.total_timeout_s
        cap = self.settings.max_bytes

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            with self._client.stream("GET", url, headers=headers) as response:
                kept = {k: v for k in _KEPT_HEADERS if (v := response.headers.get(k)) is not None}
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > cap:
                        return HttpResult(
                            url,
                            requested_at,
                            str(response.url),
                            response.status_code,
                            elapsed_ms=elapsed(),
                            headers=kept,
                            error_class="too_large",
                            error=f"body exceeds {cap} bytes; stopped reading",
                        )
                    if time.monotonic() > deadline:
                        return HttpResult(
                            url,
                            requested_at,
                            str(response.url),
                            response.status_code,
                            elapsed_ms=elapsed(),
                            headers=kept,
                            error_class="timeout",
                            error=f"response took longer than {self.settings.total_timeout_s:.0f}s",
                        )
                    chunks.append(chunk)
                body = b"".join(chunks)
                status = response.status_code
                error_class = error = None
                if status == 429:
                    error_class, error = "http_429", "429 Too Many Requests"
                elif status >= 500:
                    error_class, error = "http_5xx", f"{status} {response.reason_phrase}"
                elif status >= 400:
                    error_class, error = "http_4xx", f"{status} {response.reason_phrase}"
                return HttpResult(
                    url,
                    requested_at,
                    str(response.url),
                    status,
                    body,
                    elapsed(),
                    kept,
                    error_class,
                    error,
                )
        except httpx.HTTPError as exc:
            return HttpResult(
                url,
                requested_at,
                elapsed_ms=elapsed(),
                error_class=_classify(exc),
                error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
            )
