"""robots.txt per origin (RFC 9309), parsed with protego, cached with a TTL.

:class:`RobotsPolicy` fetches ``scheme://host[:port]/robots.txt`` through the same
:class:`flows.http.Fetcher` as everything else (so the SSRF guard, caps and politeness apply),
and is the Fetcher's robots gate::

    fetcher = Fetcher(settings)
    fetcher.robots = RobotsPolicy(fetcher, ttl_s=settings.robots_ttl_s)

How an answer is read (RFC 9309 section 2.3.1):

* 2xx: the rules for the ``newsdesk`` product token (else the ``*`` group) apply; the first
  500 KiB are parsed, as the RFC allows.
* 4xx, except 429: "unavailable", so everything is allowed. Too many redirects counts as
  unavailable too (the RFC permits either reading).
* 5xx, 429, and no answer at all (timeout, DNS, refused, too large): "unreachable", so
  everything is disallowed, but only *temporarily*: the verdict says so (the Fetcher reports
  error class ``robots_unavailable``, which is transient) and the fetch is retried after
  ``retry_s`` (10 minutes), not after the full TTL. When an earlier good copy exists it keeps
  being used instead, as the RFC allows for an unreachable file. We do not implement the RFC's
  optional "unreachable for 30 days means allow all".

Records go through a :class:`RobotsStore` (in memory by default) so the warehouse can persist
them; each holds the origin, the text, when it was fetched, and the status (None: no answer).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx
from protego import Protego

from flows.http import ROBOTS_TOKEN, Fetcher, HttpResult, RobotsVerdict

__all__ = [
    "MAX_ROBOTS_BYTES",
    "MemoryRobotsStore",
    "RobotsPolicy",
    "RobotsRecord",
    "RobotsStore",
    "origin_of",
]

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB; we parse exactly that
_ACCEPT = "text/plain, */*;q=0.5"
# Error classes after which the file counts as absent rather than unreachable.
_UNAVAILABLE_ERRORS = frozenset({"http_4xx", "too_many_redirects", "redirect_loop"})


@dataclass(frozen=True, slots=True)
class RobotsRecord:
    """One fetch of one origin's robots.txt. ``status`` None: no HTTP answer at all."""

    origin: str  # scheme://host[:port], lower-case, default port omitted
    body: str | None
    fetched_at: datetime
    status: int | None

    @property
    def reachable(self) -> bool:
        """Whether the answer counts (2xx or 4xx); else rules are unknown for now."""
        return self.status is not None and self.status < 500 and self.status != 429


class RobotsStore(Protocol):
    """Where records live between runs; the warehouse will implement this."""

    def get(self, origin: str) -> RobotsRecord | None: ...

    def put(self, record: RobotsRecord) -> None: ...


class MemoryRobotsStore:
    """The default store: a dict, safe across threads."""

    def __init__(self) -> None:
        self._records: dict[str, RobotsRecord] = {}
        self._lock = threading.Lock()

    def get(self, origin: str) -> RobotsRecord | None:
        with self._lock:
            return self._records.get(origin)

    def put(self, record: RobotsRecord) -> None:
        with self._lock:
            self._records[record.origin] = record

    def records(self) -> list[RobotsRecord]:
        with self._lock:
            return list(self._records.values())


def origin_of(url: str | httpx.URL) -> str:
    """``https://Example.com:443/a?b`` -> ``https://example.com``: whose robots.txt applies."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    port = f":{parsed.port}" if parsed.port is not None else ""  # httpx drops default ports
    return f"{parsed.scheme}://{host}{port}"


def _record(origin: str, result: HttpResult, now: datetime) -> RobotsRecord:
    if result.status is not None and 200 <= result.status < 300 and result.error_class is None:
        text = result.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return RobotsRecord(origin, text.removeprefix("\ufeff"), now, result.status)
    if result.error_class in _UNAVAILABLE_ERRORS:
        # Redirects that lead nowhere: keep the last 3xx, which reads as "no file".
        return RobotsRecord(origin, None, now, result.status or 404)
    if result.error_class in ("http_429", "http_5xx"):
        return RobotsRecord(origin, None, now, result.status)
    # Timeouts, DNS, refused connections, a body over the caps: no usable answer.
    return RobotsRecord(origin, None, now, None)


class RobotsPolicy:
    """The robots gate of a :class:`flows.http.Fetcher`; thread-safe.

    ``clock`` returns aware UTC datetimes (inject one in tests). ``on_fetch`` sees every
    robots.txt HttpResult, so the flow can log it as a fetch of kind ``robots``.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        ttl_s: float = 86_400.0,
        retry_s: float = 600.0,
        store: RobotsStore | None = None,
        user_agent: str = ROBOTS_TOKEN,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_fetch: Callable[[HttpResult], None] | None = None,
    ) -> None:
        self._fetcher = fetcher
        self.ttl = timedelta(seconds=ttl_s)
        self.retry = timedelta(seconds=min(retry_s, ttl_s))
        self.store: RobotsStore = store or MemoryRobotsStore()
        self.user_agent = user_agent
        self._clock = clock
        self._on_fetch = on_fetch
        self._parsed: dict[tuple[str, datetime], Protego] = {}
        self._failed_at: dict[str, datetime] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def can_fetch(self, url: str, user_agent: str = ROBOTS_TOKEN) -> tuple[bool, str]:
        """(allowed, the rule that decided) for ``url``, fetching robots.txt when needed."""
        verdict = self._verdict(url, user_agent)
        return verdict.allowed, verdict.rule

    def verdict(self, url: str) -> RobotsVerdict:
        """:meth:`can_fetch` for the configured user agent, saying whether a refusal is only
        temporary (robots.txt unreachable)."""
        return self._verdict(url, self.user_agent)

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay robots.txt sets for our user agent on ``url``'s origin, if any.
        (Keyed by origin like everything here; pass any URL of the host, or its origin.)"""
        record = self._current(origin_of(url))
        if record.body is None:
            return None
        return self._rules(record).crawl_delay(self.user_agent)

    def _verdict(self, url: str, user_agent: str) -> RobotsVerdict:
        parsed = httpx.URL(url)
        if parsed.path == "/robots.txt":
            return RobotsVerdict(True, "robots.txt itself is always allowed")
        origin = origin_of(parsed)
        record = self._current(origin)
        where = f"{origin}/robots.txt"
        if record.body is not None:
            allowed = self._rules(record).can_fetch(str(parsed), user_agent)
            word = "allows" if allowed else "disallows"
            return RobotsVerdict(
                allowed, f"{where} {word} {parsed.raw_path.decode()} for {user_agent}"
            )
        if record.reachable:
            return RobotsVerdict(True, f"{where} answered {record.status}: no rules, all allowed")
        answer = f"answered {record.status}" if record.status else "did not answer"
        retry_at = (self._failed_at.get(origin) or record.fetched_at) + self.retry
        return RobotsVerdict(
            False,
            f"{where} {answer}: all disallowed until it can be read (retry after "
            f"{retry_at:%Y-%m-%dT%H:%M:%SZ})",
            temporary=True,
        )

    def _rules(self, record: RobotsRecord) -> Protego:
        key = (record.origin, record.fetched_at)
        with self._lock:
            rules = self._parsed.get(key)
            if rules is None:
                # One parsed copy per origin: drop the one this record replaces.
                for old in [k for k in self._parsed if k[0] == record.origin]:
                    del self._parsed[old]
                rules = self._parsed[key] = Protego.parse(record.body or "")
            return rules

    def _fresh(self, record: RobotsRecord, now: datetime) -> bool:
        life = self.ttl if record.reachable else self.retry
        return now - record.fetched_at < life

    def _current(self, origin: str) -> RobotsRecord:
        """The record to decide by: cached if fresh, else fetched (once across threads)."""
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            now = self._clock()
            record = self.store.get(origin)
            if record is not None and self._fresh(record, now):
                return record
            failed_at = self._failed_at.get(origin)
            if record is not None and failed_at is not None and now - failed_at < self.retry:
                return record  # a stale good copy while the origin is unreachable
            result = self._fetcher.get(f"{origin}/robots.txt", accept=_ACCEPT, respect_robots=False)
            if self._on_fetch is not None:
                self._on_fetch(result)
            fresh = _record(origin, result, now)
            if not fresh.reachable and record is not None and record.reachable:
                self._failed_at[origin] = now  # keep the good copy, as RFC 9309 allows
                return record
            self._failed_at.pop(origin, None)
            self.store.put(fresh)
            return fresh
