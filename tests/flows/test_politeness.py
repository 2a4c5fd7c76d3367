"""The host limiter: its rules on a fake clock, its blocking with real threads."""

from __future__ import annotations

import math
import threading
import time

import pytest

from flows.politeness import HostBusy, HostLimiter
from flows.settings import Settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_minimum_interval_between_starts() -> None:
    clock = FakeClock()
    limiter = HostLimiter(delay_s=2.0, per_host=5, clock=clock)
    assert limiter.try_acquire("a.example") == 0.0
    assert limiter.try_acquire("a.example") == pytest.approx(2.0)
    assert limiter.try_acquire("b.example") == 0.0  # other hosts are not held up
    clock.advance(1.5)
    assert limiter.try_acquire("a.example") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.try_acquire("a.example") == 0.0


def test_per_host_concurrency() -> None:
    clock = FakeClock()
    limiter = HostLimiter(delay_s=0.0, per_host=2, clock=clock)
    assert limiter.try_acquire("a.example") == 0.0
    assert limiter.try_acquire("a.example") == 0.0
    assert limiter.try_acquire("a.example") == math.inf
    limiter.release("a.example")
    assert limiter.try_acquire("a.example") == 0.0


def test_global_concurrency() -> None:
    limiter = HostLimiter(delay_s=0.0, per_host=2, global_limit=3, clock=FakeClock())
    for host in ("a", "b", "c"):
        assert limiter.try_acquire(host) == 0.0
    assert limiter.try_acquire("d") == math.inf
    limiter.release("b")
    assert limiter.try_acquire("d") == 0.0


def test_defer_pushes_the_next_slot_out() -> None:
    clock = FakeClock()
    limiter = HostLimiter(delay_s=1.0, clock=clock)
    limiter.defer("a.example", 120)
    assert limiter.ready_in("a.example") == pytest.approx(120)
    assert limiter.try_acquire("a.example") == pytest.approx(120)
    limiter.defer("a.example", 10)  # a shorter deferral does not shorten the longer one
    assert limiter.ready_in("a.example") == pytest.approx(120)
    clock.advance(120)
    assert limiter.try_acquire("a.example") == 0.0


def test_defer_is_capped() -> None:
    limiter = HostLimiter(max_defer_s=3600, clock=FakeClock())
    limiter.defer("a.example", 10**9)
    assert limiter.ready_in("a.example") == pytest.approx(3600)


def test_crawl_delay_raises_the_interval_up_to_the_cap() -> None:
    clock = FakeClock()
    limiter = HostLimiter(delay_s=1.0, max_crawl_delay_s=60.0, clock=clock)
    limiter.set_crawl_delay("a.example", 10)
    assert limiter.delay_of("a.example") == 10
    assert limiter.try_acquire("a.example") == 0.0
    assert limiter.try_acquire("a.example") == pytest.approx(10)
    limiter.set_crawl_delay("a.example", 0.1)  # never below the configured delay
    assert limiter.delay_of("a.example") == 1.0
    limiter.set_crawl_delay("a.example", 3600)
    assert limiter.delay_of("a.example") == 60.0
    limiter.set_crawl_delay("a.example", None)
    assert limiter.delay_of("a.example") == 1.0
    assert limiter.delay_of("b.example") == 1.0


def test_hosts_are_case_insensitive() -> None:
    limiter = HostLimiter(delay_s=5.0, clock=FakeClock())
    assert limiter.try_acquire("News.Example") == 0.0
    assert limiter.try_acquire("news.example") == pytest.approx(5.0)


def test_release_without_slot_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        HostLimiter().release("a.example")


def test_from_settings() -> None:
    settings = Settings(per_host_delay_s=0.5, per_host_concurrency=3, global_concurrency=7)
    limiter = HostLimiter.from_settings(settings)
    assert (limiter.delay_s, limiter.per_host, limiter.global_limit) == (0.5, 3, 7)


def test_slot_refuses_at_once_when_deferred_past_the_budget() -> None:
    limiter = HostLimiter(delay_s=0.0)
    limiter.defer("a.example", 300)
    started = time.monotonic()
    with pytest.raises(HostBusy) as busy, limiter.slot("a.example", max_wait_s=5):
        pass
    assert time.monotonic() - started < 0.5
    assert busy.value.wait_s == pytest.approx(300, abs=1)
    assert "Retry-After" in str(busy.value)


def test_slot_waits_for_a_short_interval() -> None:
    limiter = HostLimiter(delay_s=0.3)
    with limiter.slot("a.example") as waited:
        assert waited < 0.05
    with limiter.slot("a.example", max_wait_s=5) as waited:
        assert 0.2 < waited < 1.0


def test_slot_gives_up_after_the_budget_when_busy() -> None:
    limiter = HostLimiter(delay_s=0.0, per_host=1)
    with limiter.slot("a.example"):
        started = time.monotonic()
        with (
            pytest.raises(HostBusy, match="concurrency"),
            limiter.slot("a.example", max_wait_s=0.3),
        ):
            pass
        assert 0.25 < time.monotonic() - started < 1.5


def test_threads_never_exceed_the_limits() -> None:
    limiter = HostLimiter(delay_s=0.0, per_host=2, global_limit=3)
    lock = threading.Lock()
    active: dict[str, int] = {"a": 0, "b": 0, "all": 0}
    peak: dict[str, int] = {"a": 0, "b": 0, "all": 0}

    def work(host: str) -> None:
        with limiter.slot(host, max_wait_s=10):
            with lock:
                for key in (host, "all"):
                    active[key] += 1
                    peak[key] = max(peak[key], active[key])
            time.sleep(0.02)
            with lock:
                for key in (host, "all"):
                    active[key] -= 1

    threads = [threading.Thread(target=work, args=("ab"[i % 2],)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert peak["a"] <= 2 and peak["b"] <= 2 and peak["all"] <= 3
    assert peak["all"] == 3  # the limits were actually reached, so the test means something


def test_release_wakes_a_waiter_early() -> None:
    limiter = HostLimiter(delay_s=0.0, per_host=1)
    entered = threading.Event()
    waited: list[float] = []

    def second() -> None:
        entered.wait(5)
        with limiter.slot("a.example", max_wait_s=5) as seconds:
            waited.append(seconds)

    thread = threading.Thread(target=second)
    with limiter.slot("a.example"):
        thread.start()
        entered.set()
        time.sleep(0.2)
    thread.join(timeout=5)
    assert waited and 0.1 < waited[0] < 1.0
