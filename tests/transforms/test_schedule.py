"""The feed polling state machine and its header parsing: pure, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from transforms.schedule import (
    CacheControl,
    FeedSignals,
    HeaderHints,
    PollPolicy,
    backoff_interval,
    header_hints,
    needs_unconditional_fetch,
    next_check,
    parse_cache_control,
    parse_http_date,
    parse_retry_after,
    rate_interval,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POLICY = PollPolicy(interval_s=900, max_interval_s=86_400, max_backoff_s=86_400)
HOUR = 3600.0


def test_healthy_feed_without_hints_polls_at_the_policy_interval() -> None:
    check = next_check(NOW, FeedSignals(last_status=200), POLICY)
    assert check.at == NOW + timedelta(seconds=900)
    assert check.reason == "policy"


def test_304_is_a_success() -> None:
    assert next_check(NOW, FeedSignals(last_status=304), POLICY).reason == "policy"


@pytest.mark.parametrize(
    ("signals", "interval", "reason"),
    [
        (FeedSignals(ttl_minutes=60), HOUR, "ttl"),
        (FeedSignals(max_age_s=7200), 2 * HOUR, "max-age"),
        (FeedSignals(expires_at=NOW + timedelta(hours=3)), 3 * HOUR, "expires"),
        (FeedSignals(retry_after_s=5 * HOUR), 5 * HOUR, "retry-after"),
        (FeedSignals(ttl_minutes=5, max_age_s=60), 900, "policy"),  # never below the floor
        (FeedSignals(expires_at=NOW - timedelta(hours=1)), 900, "policy"),  # past Expires
        (FeedSignals(ttl_minutes=60, max_age_s=4 * HOUR), 4 * HOUR, "max-age"),  # the longest
        (FeedSignals(ttl_minutes=3 * 24 * 60), 86_400, "cap"),  # at most a day
    ],
)
def test_server_hints_lengthen_the_interval(
    signals: FeedSignals, interval: float, reason: str
) -> None:
    check = next_check(NOW, signals, POLICY)
    assert (check.interval_s, check.reason) == (interval, reason)
    assert check.at == NOW + timedelta(seconds=interval)


@pytest.mark.parametrize(
    ("per_day", "interval"),
    [
        (200.0, 900),  # busy: stays at the floor
        (48.0, 900),  # one entry every 30 min: two checks per entry = the floor
        (4.0, 3 * HOUR),  # one entry every 6 h: look every 3 h
        (1.0, 12 * HOUR),
        (0.1, 86_400),  # quiet: capped at a day
        (0.0, 86_400),  # silent lately: a daily look
    ],
)
def test_publishing_rate_adapts_the_interval(per_day: float, interval: float) -> None:
    check = next_check(NOW, FeedSignals(last_status=200, entries_per_day=per_day), POLICY)
    assert check.interval_s == pytest.approx(interval)


def test_rate_interval_unknown_is_no_opinion() -> None:
    assert rate_interval(None, POLICY) is None


@pytest.mark.parametrize(
    ("failures", "interval"),
    [(1, 1800), (2, 3600), (3, 7200), (6, 57_600), (7, 86_400), (50, 86_400), (10_000, 86_400)],
)
def test_failures_back_off_exponentially_to_a_cap(failures: int, interval: float) -> None:
    signals = FeedSignals(last_status=500, consecutive_failures=failures)
    check = next_check(NOW, signals, POLICY)
    assert check.interval_s == interval and check.reason == "backoff"
    assert check.at is not None  # never abandoned


def test_failure_without_status_backs_off_too() -> None:
    check = next_check(NOW, FeedSignals(last_status=None, consecutive_failures=2), POLICY)
    assert check.interval_s == 3600


def test_an_error_status_counts_as_a_failure_even_if_uncounted() -> None:
    assert next_check(NOW, FeedSignals(last_status=404), POLICY).reason == "backoff"


def test_retry_after_beats_a_shorter_backoff_up_to_the_cap() -> None:
    signals = FeedSignals(last_status=429, consecutive_failures=1, retry_after_s=4 * HOUR)
    check = next_check(NOW, signals, POLICY)
    assert (check.interval_s, check.reason) == (4 * HOUR, "retry-after")
    week = FeedSignals(last_status=503, consecutive_failures=1, retry_after_s=7 * 86_400)
    assert next_check(NOW, week, POLICY).interval_s == 86_400
    short = FeedSignals(last_status=503, consecutive_failures=3, retry_after_s=60)
    assert next_check(NOW, short, POLICY).reason == "backoff"


def test_410_retires_the_feed() -> None:
    check = next_check(NOW, FeedSignals(last_status=410, consecutive_failures=4), POLICY)
    assert check.at is None and check.reason == "retired"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        next_check(datetime(2026, 1, 1), FeedSignals(), POLICY)


def test_backoff_interval() -> None:
    assert backoff_interval(60, 0, 3600) == 60
    assert backoff_interval(60, 3, 3600) == 480
    assert backoff_interval(60, 100, 3600) == 3600
    assert backoff_interval(7200, 1, 3600) == 7200  # the cap never goes below the interval


def test_unconditional_fetch_every_nth_check_or_daily() -> None:
    policy = PollPolicy(unconditional_every=10, unconditional_max_age_s=86_400)
    recent = NOW - timedelta(hours=2)
    assert needs_unconditional_fetch(NOW, 0, None, policy)  # never had one
    assert not needs_unconditional_fetch(NOW, 3, recent, policy)
    assert needs_unconditional_fetch(NOW, 10, recent, policy)
    assert needs_unconditional_fetch(NOW, 1, NOW - timedelta(days=1), policy)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=300", CacheControl(300)),
        ("public, max-age=60, must-revalidate", CacheControl(60)),
        ('max-age="120"', CacheControl(120)),
        ("MAX-AGE=10, max-age=99", CacheControl(10)),
        ("max-age=-5", CacheControl(None)),
        ("max-age=abc", CacheControl(None)),
        ("no-cache, max-age=60", CacheControl(60, no_cache=True)),
        ("no-store", CacheControl(None, no_store=True)),
        ("", CacheControl()),
        (None, CacheControl()),
    ],
)
def test_parse_cache_control(value: str | None, expected: CacheControl) -> None:
    assert parse_cache_control(value) == expected


def test_freshness_ignores_max_age_under_no_cache() -> None:
    assert parse_cache_control("no-cache, max-age=60").freshness_s is None
    assert parse_cache_control("max-age=60").freshness_s == 60


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
    ],
)
def test_parse_http_date_formats(value: str) -> None:
    assert parse_http_date(value) == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "", None])
def test_unreadable_dates(value: str | None) -> None:
    assert parse_http_date(value) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 3600 ", 3600.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Mon, 30 Nov 2026 12:05:00 GMT", 300.0),
        ("Mon, 30 Nov 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("-10", None),
        ("tomorrow", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_header_hints() -> None:
    hints = header_hints(
        {
            "cache-control": "max-age=600",
            "age": "100",
            "expires": "Mon, 30 Nov 2026 18:00:00 GMT",
            "retry-after": "30",
        },
        NOW,
    )
    # max-age (less Age) overrides Expires, as RFC 9111 says.
    assert hints == HeaderHints(max_age_s=500, expires_at=None, retry_after_s=30)
    expires_only = header_hints({"expires": "Mon, 30 Nov 2026 18:00:00 GMT"}, NOW)
    assert expires_only.expires_at == NOW + timedelta(hours=6)
    assert header_hints({"cache-control": "no-store", "expires": "x"}, NOW) == HeaderHints()
    assert header_hints({}, NOW) == HeaderHints()


def test_hints_feed_the_schedule() -> None:
    hints = header_hints({"cache-control": "max-age=7200"}, NOW)
    signals = FeedSignals(last_status=200, max_age_s=hints.max_age_s, ttl_minutes=30)
    assert next_check(NOW, signals, POLICY).reason == "max-age"
