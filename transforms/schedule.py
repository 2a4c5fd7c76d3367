"""When to look at a feed again: the polling state machine, and the cache headers it reads.

Pure: the caller passes ``now`` and what the last fetch said; nothing here reads a clock or the
environment. All datetimes are timezone-aware UTC. The rules of :func:`next_check`:

1. ``410 Gone`` retires the feed (no next check).
2. A failed fetch backs off exponentially, ``interval * 2**failures`` up to ``max_backoff_s``
   (a day); a longer Retry-After wins up to the same cap. Failing feeds are never abandoned:
   sites come back, and a daily look costs nothing.
3. Otherwise the next check is after the longest of: the policy interval (the floor), the RSS
   ``<ttl>``, Cache-Control max-age, Expires, Retry-After, and the interval the feed's own
   publishing rate suggests (busy feeds stay at the floor, quiet ones drift towards the cap),
   all capped at ``max_interval_s`` (a day) so no feed goes unread for longer.

:func:`needs_unconditional_fetch` says when to skip the validators once, to catch servers whose
304 answers are wrong (a stale ETag that never changes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "CacheControl",
    "FeedSignals",
    "HeaderHints",
    "NextCheck",
    "PollPolicy",
    "backoff_interval",
    "header_hints",
    "needs_unconditional_fetch",
    "next_check",
    "parse_cache_control",
    "parse_http_date",
    "parse_retry_after",
    "rate_interval",
]

DAY_S = 86_400.0
_SECONDS = re.compile(r"\d+(\.\d+)?")
# 2**60 times any interval is far past every cap; beyond it floats would overflow.
_MAX_EXPONENT = 60


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How often we are willing to poll. ``interval_s`` is the floor for a healthy feed."""

    interval_s: float = 900.0
    max_interval_s: float = DAY_S
    max_backoff_s: float = DAY_S
    # Aim for this many checks per expected new entry: 2 catches an entry within half the gap.
    checks_per_entry: float = 2.0
    # An unconditional fetch after this many conditional ones, or when the last is this old.
    unconditional_every: int = 20
    unconditional_max_age_s: float = DAY_S


@dataclass(frozen=True, slots=True)
class FeedSignals:
    """What the last fetch and the feed's history say. Unknowns stay None."""

    last_status: int | None = None
    consecutive_failures: int = 0  # including the last fetch when it failed
    ttl_minutes: float | None = None  # RSS <ttl>
    max_age_s: float | None = None  # Cache-Control max-age, less Age
    expires_at: datetime | None = None  # Expires (ignored by the caller when max-age is set)
    retry_after_s: float | None = None
    entries_per_day: float | None = None  # observed publishing rate


@dataclass(frozen=True, slots=True)
class NextCheck:
    """``at`` is None when the feed is retired. ``reason`` names the rule that decided."""

    at: datetime | None
    interval_s: float
    reason: str  # retired | backoff | retry-after | policy | ttl | max-age | expires | rate | cap


@dataclass(frozen=True, slots=True)
class CacheControl:
    max_age_s: int | None = None
    no_cache: bool = False
    no_store: bool = False

    @property
    def freshness_s(self) -> int | None:
        """How long the response may be reused; None when it must not be or nobody said."""
        return None if self.no_cache or self.no_store else self.max_age_s


@dataclass(frozen=True, slots=True)
class HeaderHints:
    """The polling hints of one response's headers, ready for :class:`FeedSignals`."""

    max_age_s: float | None = None
    expires_at: datetime | None = None
    retry_after_s: float | None = None


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date (IMF-fixdate, RFC 850 or asctime) as aware UTC, or None when unreadable."""
    if not value or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # A date without a zone (or with -0000) is GMT by definition in HTTP.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from ``now``: delay-seconds or an HTTP date (a past date is 0).
    Decimal seconds are accepted although the RFC says integers; anything else is None."""
    _require_aware(now)
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    when = parse_http_date(text)
    return None if when is None else max(0.0, (when - now).total_seconds())


def parse_cache_control(value: str | None) -> CacheControl:
    """The directives polling cares about. A repeated max-age keeps the first valid one."""
    max_age: int | None = None
    no_cache = no_store = False
    for part in (value or "").split(","):
        name, _, argument = part.partition("=")
        name = name.strip().lower()
        argument = argument.strip().strip('"')
        if name == "max-age" and max_age is None and argument.isdigit():
            max_age = int(argument)
        elif name == "no-cache":
            no_cache = True
        elif name == "no-store":
            no_store = True
    return CacheControl(max_age, no_cache, no_store)


def header_hints(headers: Mapping[str, str], now: datetime) -> HeaderHints:
    """Read Cache-Control (less Age), Expires and Retry-After from lower-cased ``headers``.

    As in RFC 9111, max-age overrides Expires, and an unreadable Expires ("0", "-1") means
    already expired, which simply contributes nothing.
    """
    _require_aware(now)
    control = parse_cache_control(headers.get("cache-control"))
    age = headers.get("age", "").strip()
    max_age: float | None = None
    expires = None
    if control.freshness_s is not None:
        max_age = max(0.0, control.freshness_s - (int(age) if age.isdigit() else 0))
    elif not (control.no_cache or control.no_store):
        expires = parse_http_date(headers.get("expires"))
    return HeaderHints(max_age, expires, parse_retry_after(headers.get("retry-after"), now))


def backoff_interval(interval_s: float, failures: int, cap_s: float) -> float:
    """``interval * 2**failures``, at most ``cap_s`` (and never below ``interval``)."""
    exponent = min(max(failures, 0), _MAX_EXPONENT)
    return min(interval_s * 2.0**exponent, max(cap_s, interval_s))


def rate_interval(entries_per_day: float | None, policy: PollPolicy) -> float | None:
    """The interval the publishing rate suggests: ``checks_per_entry`` checks per expected
    entry, within [floor, cap]. A feed that published nothing lately gets the cap; an unknown
    rate gives None (no opinion)."""
    if entries_per_day is None:
        return None
    cap = max(policy.max_interval_s, policy.interval_s)
    if entries_per_day <= 0:
        return cap
    gap_s = DAY_S / entries_per_day
    return min(max(gap_s / policy.checks_per_entry, policy.interval_s), cap)


def next_check(now: datetime, signals: FeedSignals, policy: PollPolicy | None = None) -> NextCheck:
    """When to check the feed next; see the module docstring for the rules."""
    _require_aware(now)
    policy = policy or PollPolicy()
    status = signals.last_status
    if status == 410:
        return NextCheck(None, 0.0, "retired")
    failed = signals.consecutive_failures > 0 or (status is not None and status >= 400)
    retry_after = signals.retry_after_s
    if failed:
        failures = max(signals.consecutive_failures, 1)
        cap = max(policy.max_backoff_s, policy.interval_s)
        interval = backoff_interval(policy.interval_s, failures, cap)
        reason = "backoff"
        if retry_after is not None and retry_after > interval:
            interval, reason = min(retry_after, cap), "retry-after"
        return NextCheck(now + timedelta(seconds=interval), interval, reason)

    candidates: list[tuple[float, str]] = [(policy.interval_s, "policy")]
    if signals.ttl_minutes is not None:
        candidates.append((signals.ttl_minutes * 60.0, "ttl"))
    if signals.max_age_s is not None:
        candidates.append((signals.max_age_s, "max-age"))
    if signals.expires_at is not None:
        candidates.append(((signals.expires_at - now).total_seconds(), "expires"))
    if retry_after is not None:
        candidates.append((retry_after, "retry-after"))
    by_rate = rate_interval(signals.entries_per_day, policy)
    if by_rate is not None:
        candidates.append((by_rate, "rate"))
    # First of the largest: on a tie the policy floor, then the server's hints, explain it.
    interval, reason = max(candidates, key=lambda c: c[0])
    cap = max(policy.max_interval_s, policy.interval_s)
    if interval > cap:
        interval, reason = cap, "cap"
    return NextCheck(now + timedelta(seconds=interval), interval, reason)


def needs_unconditional_fetch(
    now: datetime,
    checks_since_unconditional: int,
    last_unconditional_at: datetime | None,
    policy: PollPolicy | None = None,
) -> bool:
    """Whether the next fetch should omit If-None-Match/If-Modified-Since.

    True when there never was one, after ``unconditional_every`` conditional checks, or when the
    last one is older than ``unconditional_max_age_s``: a server that wrongly answers 304 would
    otherwise hide new entries forever.
    """
    _require_aware(now)
    policy = policy or PollPolicy()
    if last_unconditional_at is None:
        return True
    if checks_since_unconditional >= policy.unconditional_every:
        return True
    age = (now - last_unconditional_at).total_seconds()
    return age >= policy.unconditional_max_age_s
