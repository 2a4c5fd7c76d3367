"""Politeness: how often and how hard newsdesk may hit one host. Thread-safe; one limiter can be
shared by every Fetcher of a run so that the limits hold across Prefect task threads.

Per host: a minimum interval between the *starts* of two requests (``delay_s``, raised by the
site's robots.txt Crawl-delay up to a cap), at most ``per_host`` requests in flight, and a
"not before" time pushed out by :meth:`HostLimiter.defer` when the host answers 429/503 with
Retry-After. Across hosts: at most ``global_limit`` requests in flight. ``overrides`` give
chosen hosts their own delay and concurrency (a publisher's settings in the sources file): a key
``host:port`` matches exactly, a bare domain matches that host and its subdomains on any port.

:meth:`HostLimiter.try_acquire` is the non-blocking core (tests drive it with a fake clock);
:meth:`HostLimiter.slot` waits for it. A wait longer than the caller's budget raises
:class:`HostBusy` instead, so a host that asked for an hour's pause does not park a worker
thread for an hour.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from flows.settings import HostPoliteness, Settings

__all__ = ["MAX_CRAWL_DELAY_S", "MAX_DEFER_S", "HostBusy", "HostLimiter"]

# A robots.txt may ask for any Crawl-delay; beyond a minute a news site would never be read.
MAX_CRAWL_DELAY_S = 60.0
# Retry-After is honoured up to a day; later than that the feed scheduler takes over anyway.
MAX_DEFER_S = 86_400.0


class HostBusy(Exception):
    """The host's next slot is further away than the caller is willing to wait."""

    def __init__(self, host: str, wait_s: float, why: str) -> None:
        self.host, self.wait_s, self.why = host, wait_s, why
        wait = "until a request finishes" if math.isinf(wait_s) else f"{wait_s:.1f}s"
        super().__init__(f"{host}: {why}; next slot in {wait}")


@dataclass
class _Host:
    delay_s: float
    per_host: int
    base_delay_s: float  # the configured delay, before any Crawl-delay raised it
    next_start: float = -math.inf  # clock time the next request may start
    deferred_until: float = -math.inf  # clock time a Retry-After ends
    active: int = 0


class HostLimiter:
    """Minimum interval and concurrency per host, a global concurrency cap, and deferrals.

    ``clock`` is a monotonic time source in seconds; inject one to test without sleeping.
    """

    def __init__(
        self,
        *,
        delay_s: float = 1.0,
        per_host: int = 2,
        global_limit: int = 16,
        max_crawl_delay_s: float = MAX_CRAWL_DELAY_S,
        max_defer_s: float = MAX_DEFER_S,
        clock: Callable[[], float] = time.monotonic,
        overrides: Mapping[str, HostPoliteness] | None = None,
    ) -> None:
        if per_host < 1 or global_limit < 1:
            raise ValueError("per_host and global_limit must be at least 1")
        self.overrides = {key.lower(): value for key, value in (overrides or {}).items()}
        self.delay_s = max(delay_s, 0.0)
        self.per_host = per_host
        self.global_limit = global_limit
        self.max_crawl_delay_s = max_crawl_delay_s
        self.max_defer_s = max_defer_s
        self._clock = clock
        self._hosts: dict[str, _Host] = {}
        self._active = 0
        self._changed = threading.Condition()

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> HostLimiter:
        return cls(
            delay_s=settings.per_host_delay_s,
            per_host=settings.per_host_concurrency,
            global_limit=settings.global_concurrency,
            clock=clock,
            overrides=settings.host_politeness,
        )

    def override_for(self, host: str) -> HostPoliteness | None:
        """The override that applies to ``host`` (``host[:port]``): an exact key, else the
        longest bare-domain key that is the hostname or one of its parent domains."""
        key = host.lower()
        if key in self.overrides:
            return self.overrides[key]
        hostname = key.rsplit(":", 1)[0] if key.count(":") == 1 else key
        best: tuple[int, HostPoliteness] | None = None
        for domain, override in self.overrides.items():
            if ":" in domain:
                continue
            if (hostname == domain or hostname.endswith("." + domain)) and (
                best is None or len(domain) > best[0]
            ):
                best = (len(domain), override)
        return best[1] if best else None

    def _host(self, host: str) -> _Host:
        key = host.lower()
        state = self._hosts.get(key)
        if state is None:
            delay, per_host = self.delay_s, self.per_host
            override = self.override_for(key)
            if override is not None:
                delay = delay if override.delay_s is None else max(override.delay_s, 0.0)
                per_host = per_host if override.concurrency is None else override.concurrency
            state = self._hosts[key] = _Host(delay, per_host, delay)
        return state

    def try_acquire(self, host: str) -> float:
        """Take a slot for ``host`` if one is free now and return 0.0; the caller must then
        :meth:`release` it. Otherwise take nothing and return the seconds until the host's
        interval or deferral ends, or ``math.inf`` when only a finishing request can free a slot.
        """
        with self._changed:
            state = self._host(host)
            now = self._clock()
            ready_at = max(state.next_start, state.deferred_until)
            if ready_at > now:
                return ready_at - now
            if state.active >= state.per_host or self._active >= self.global_limit:
                return math.inf
            state.active += 1
            self._active += 1
            state.next_start = now + state.delay_s
            return 0.0

    def release(self, host: str) -> None:
        with self._changed:
            state = self._host(host)
            if state.active <= 0:
                raise RuntimeError(f"release() without a slot for {host}")
            state.active -= 1
            self._active -= 1
            self._changed.notify_all()

    @contextmanager
    def slot(self, host: str, *, max_wait_s: float | None = None) -> Iterator[float]:
        """Hold a slot for one request to ``host``; yields the seconds spent waiting for it.

        Raises :class:`HostBusy` at once when the host's interval or deferral ends later than
        ``max_wait_s`` from now, or after ``max_wait_s`` when the concurrency limits stay full.
        """
        started = self._clock()
        # Held while looking and waiting, so a release() cannot slip in between unnoticed.
        with self._changed:
            while (wait := self.try_acquire(host)) != 0.0:
                left = None if max_wait_s is None else max_wait_s - (self._clock() - started)
                if left is not None and (left <= 0 or (wait > left and not math.isinf(wait))):
                    raise HostBusy(host, wait, self._why(host, wait))
                timeout = wait if left is None else min(wait, left)
                # Woken early by release() or defer(); the loop then looks again.
                self._changed.wait(None if math.isinf(timeout) else timeout)
        try:
            yield self._clock() - started
        finally:
            self.release(host)

    def _why(self, host: str, wait: float) -> str:
        if math.isinf(wait):
            return "concurrency limit reached"
        if self._host(host).deferred_until > self._clock():
            return "deferred by Retry-After"
        return "crawl interval"

    def defer(self, host: str, seconds: float) -> None:
        """No request to ``host`` starts in the next ``seconds`` (at most ``max_defer_s``)."""
        with self._changed:
            state = self._host(host)
            until = self._clock() + min(max(seconds, 0.0), self.max_defer_s)
            state.deferred_until = max(state.deferred_until, until)
            self._changed.notify_all()

    def set_crawl_delay(self, host: str, seconds: float | None) -> None:
        """Apply a robots.txt Crawl-delay: the host's interval becomes the larger of the
        configured delay and ``seconds``, capped at ``max_crawl_delay_s``. None resets it."""
        with self._changed:
            state = self._host(host)
            base = state.base_delay_s
            wanted = base if seconds is None else max(base, seconds)
            state.delay_s = min(wanted, max(self.max_crawl_delay_s, base))

    def delay_of(self, host: str) -> float:
        """The current minimum interval between two requests to ``host``."""
        with self._changed:
            return self._host(host).delay_s

    def ready_in(self, host: str) -> float:
        """Seconds until a request to ``host`` may start, ignoring the concurrency limits."""
        with self._changed:
            state = self._host(host)
            return max(0.0, max(state.next_start, state.deferred_until) - self._clock())
