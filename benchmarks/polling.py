"""Polling cost: the real ``ingest`` flow over 500 small feeds, twice; the second poll is all 304s.

    .venv/bin/python benchmarks/polling.py [--feeds 500] [--servers 20] [--items 20] [--pages 500]

Setup. A copy of the demo site (``demo/site``) gets ``--feeds`` generated RSS feeds of ``--items``
items each; the items of all feeds on one server point at ``--pages`` article pages (the demo's
pages, then numbered copies of them at their own URLs). With the default 500 every item of a
server's 25 feeds is an article of its own (10,000 in all), as in a real first poll of 500
feeds (about 6 minutes here); ``--pages 5`` makes the first run fetch a few pages per host only,
to look at polling alone. :class:`flows.demo.DemoServer` serves
the copy, sending ETag and Last-Modified and answering conditional requests with 304.

Why several servers: the flow batches feeds per ``host:port`` (one ``fetch-feeds`` task fetches
a host's feeds one after another, page tasks take up to 25 pages of one host), so 500 feeds on a
single port would be one host and one sequential task. ``--servers 20`` serves 25 feeds on each
of 20 loopback ports, which the flow treats as 20 hosts fetched by its task runner's threads.
(The politeness limiter keys on host:port too, so each port is a host of its own.)

Runs, in one Prefect test harness whose start-up is timed separately and excluded:

1. every feed is new: 500 feeds fetched (200), every entry new, the shared pages fetched;
2. ``all_feeds=True`` straight after: every feed is fetched again with If-None-Match /
   If-Modified-Since and answers 304; nothing else is requested.

Reported: both wall times, their ratio (target: the second run at most 5% of the first), the
requests each server answered, the flow's counts; written to ``benchmarks/results/polling.json``.
Also measured: an empty Prefect flow run in the same harness, the floor under any run (Prefect's
heartbeat thread alone makes a flow run last up to a second longer). When the ratio misses the
target (or with ``--profile``), a third run (all 304s again) is timed step by step (by wrapping
the flow's own functions for that run) and sampled across all threads (Prefect runs tasks in
worker threads, which cProfile would not see), and both are reported.

Exit status 1 only when the premise fails (some feed did not answer 304 in the second run);
missing the target is a measurement, printed and written, not an error.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from email.utils import format_datetime
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# As the Makefile and tests/conftest.py do: the ephemeral API may take 20 s+ to start here.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

from benchmarks.common import write_result
from flows.demo import EDITION_MODIFIED, DemoServer, demo_data_dir

TARGET_RATIO = 0.05
OVERRIDES = {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0}
FEED_DIR = "poll"  # inside the served site copy
# Real article pages of the demo site the generated items point at (one publisher's: the same
# language and layout, so extraction cost is even across hosts).
ARTICLE_GLOB = "harbor/2026/11/*.html"
SAMPLE_INTERVAL_S = 0.002


def _feed_xml(index: int, items: int, pages: list[str]) -> str:
    """One small RSS 2.0 feed; ``{{BASE}}`` becomes the serving server's address."""
    published = EDITION_MODIFIED[1]
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>Polling feed {index}</title><link>{{{{BASE}}}}/</link>",
        f"<description>Generated feed {index} for benchmarks/polling.py</description>",
        f"<lastBuildDate>{format_datetime(published, usegmt=True)}</lastBuildDate>",
    ]
    for k in range(items):
        # Consecutive feeds name consecutive runs of pages: with enough pages, every item of a
        # server's feeds is an article of its own, as on a real site.
        page = pages[(index * items + k) % len(pages)]
        parts.append(
            f"<item><title>Feed {index} item {k}</title>"
            f"<link>{{{{BASE}}}}/{page}</link>"
            f'<guid isPermaLink="false">poll-{index}-{k}</guid>'
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
            f"<description>Item {k} of generated feed {index}, pointing at a shared demo "
            f"article page.</description></item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts)


def build_site(root: Path, feeds: int, items: int, pages: int) -> list[str]:
    """Copy the demo site into ``root/site`` and add the feeds; return their URL paths."""
    site = root / "site"
    shutil.copytree(demo_data_dir() / "site", site)
    articles = sorted(p.relative_to(site).as_posix() for p in site.glob(ARTICLE_GLOB))
    chosen = articles[:pages]
    # More pages than the demo has: numbered copies at their own URLs, each with a line of its
    # own so they are distinct articles (not exact duplicates) to the extractor and dedup.
    for extra in range(len(articles), pages):
        source = site / articles[extra % len(articles)]
        copy = f"{Path(articles[extra % len(articles)]).with_suffix('')}-copy-{extra}.html"
        html = source.read_text(encoding="utf-8").replace(
            "</h1>", f"</h1><p>Edition {extra}: filed from desk number {extra}.</p>", 1
        )
        (site / copy).write_text(html, encoding="utf-8")
        chosen.append(copy)
    (site / FEED_DIR).mkdir()
    paths = []
    for index in range(feeds):
        name = f"{FEED_DIR}/feed-{index:04d}.rss"
        (site / name).write_text(_feed_xml(index, items, chosen), encoding="utf-8")
        paths.append("/" + name)
    return paths


def _kind(path: str) -> str:
    if path == "/robots.txt":
        return "robots"
    if path.startswith(f"/{FEED_DIR}/"):
        return "feed"
    if path.endswith(".html"):
        return "page"
    return "other"


def request_stats(
    servers: list[DemoServer], before: list[int]
) -> tuple[dict[str, int], int, list[int]]:
    """(requests by kind, conditional feed requests, per-server totals) since ``before``."""
    by_kind: collections.Counter[str] = collections.Counter()
    conditional = 0
    per_server = []
    for server, start in zip(servers, before, strict=True):
        requests = server.requests[start:]
        per_server.append(len(requests))
        for path, headers in requests:
            kind = _kind(path)
            by_kind[kind] += 1
            if kind == "feed" and ("if-none-match" in headers or "if-modified-since" in headers):
                conditional += 1
    return dict(by_kind), conditional, per_server


# Top frames of a thread that is parked, not working: the server threads waiting for the next
# request on a keep-alive connection, idle pool workers, selectors.
_IDLE_TOPS = (
    "(wait)",
    "(readinto)",
    "(select)",
    "(accept)",
    "(get)",
    "(_worker)",
    "(poll)",
    "(heartbeat_loop)",  # Prefect's heartbeat thread, sleeping
)


class Sampler:
    """A sampling profiler. The flow's own thread (the one calling ``ingest``) is sampled all the
    time, waits included: its profile is the run's wall clock. The other threads (Prefect task
    workers, the loopback servers) are sampled only while busy. Per function: the share of
    samples in which it was on the stack (inclusive) and on top (self)."""

    def __init__(self, flow_thread: int, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self.flow_thread = flow_thread
        self.interval_s = interval_s
        self.samples: collections.Counter[str] = collections.Counter()
        self.inclusive: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.own: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _name(frame: FrameType) -> str:
        code = frame.f_code
        short = "/".join(Path(code.co_filename).parts[-2:])
        return f"{short}:{code.co_firstlineno}({code.co_name})"

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval_s):
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                stack: list[str] = []
                current: FrameType | None = frame
                while current is not None:
                    stack.append(self._name(current))
                    current = current.f_back
                role = "flow thread" if ident == self.flow_thread else "other threads (busy)"
                if role != "flow thread" and stack[0].endswith(_IDLE_TOPS):
                    continue
                self.samples[role] += 1
                self.own[role][stack[0]] += 1
                self.inclusive[role].update(set(stack))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self, n_inclusive: int = 30, n_self: int = 15) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for role, samples in self.samples.items():
            total = max(samples, 1)
            out[role] = {
                "samples": samples,
                "inclusive": [
                    {"function": f, "share": round(c / total, 3)}
                    for f, c in self.inclusive[role].most_common(n_inclusive)
                ],
                "self": [
                    {"function": f, "share": round(c / total, 3)}
                    for f, c in self.own[role].most_common(n_self)
                ],
            }
        return out


class PhaseTimers:
    """Wall time spent in named steps of the flow, by patching them for one run (benchmark code
    only: the flow itself is not changed). Steps on worker threads are summed over threads."""

    # (module, attribute, label): what the flow calls at run time through a module attribute.
    STEPS = (
        ("flows.ingest", "_load_feed_outcomes", "flow thread: _load_feed_outcomes (per host)"),
        ("warehouse.load", "pages_to_fetch", "  warehouse.load.pages_to_fetch"),
        ("warehouse.load", "load_feed_batch", "  warehouse.load.load_feed_batch"),
        ("flows.ingest", "_close_client", "flow thread: _close_client (robots, captures)"),
        ("warehouse.load", "finish_run", "flow thread: load.finish_run"),
        ("flows.ingest", "fetch_feed", "task threads: fetch_feed (summed)"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.calls: collections.Counter[str] = collections.Counter()
        self.fetch_span: list[float] = []
        self._lock = threading.Lock()
        self._undo: list[tuple[Any, str, Any]] = []

    def _add(self, label: str, seconds: float) -> None:
        with self._lock:
            self.seconds[label] += seconds
            self.calls[label] += 1

    def _wrap(self, label: str, func: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                self._add(label, ended - started)
                if func.__name__ == "fetch_feed":
                    with self._lock:
                        self.fetch_span += [started, ended]

        return timed

    def _wrap_warehouse(self, opener: Any) -> Any:
        @contextmanager
        def timed(db: str) -> Iterator[Any]:
            started = time.perf_counter()
            manager = opener(db)
            con = manager.__enter__()
            self._add("  open_warehouse: connect", time.perf_counter() - started)
            try:
                yield con
            finally:
                started = time.perf_counter()
                manager.__exit__(None, None, None)
                self._add("  open_warehouse: close", time.perf_counter() - started)

        return timed

    def __enter__(self) -> PhaseTimers:
        import importlib

        for module_name, attribute, label in self.STEPS:
            module = importlib.import_module(module_name)
            original = getattr(module, attribute)
            self._undo.append((module, attribute, original))
            setattr(module, attribute, self._wrap(label, original))
        ingest_module = importlib.import_module("flows.ingest")
        opener = ingest_module.open_warehouse
        self._undo.append((ingest_module, "open_warehouse", opener))
        # setattr: mypy does not know the module's attributes through import_module.
        setattr(ingest_module, "open_warehouse", self._wrap_warehouse(opener))  # noqa: B010
        return self

    def __exit__(self, *exc: object) -> None:
        for module, attribute, original in reversed(self._undo):
            setattr(module, attribute, original)

    def report(self, call_started: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            label: {"seconds": round(self.seconds[label], 3), "calls": self.calls[label]}
            for label in sorted(self.seconds)
        }
        if self.fetch_span:
            out["feed fetches: first start .. last end"] = {
                "from_s": round(min(self.fetch_span) - call_started, 3),
                "to_s": round(max(self.fetch_span) - call_started, 3),
            }
        return out


@contextmanager
def servers_for(site_root: Path, count: int) -> Iterator[list[DemoServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(DemoServer(data_dir=site_root)) for _ in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--servers", type=int, default=20, help="loopback ports (hosts)")
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument(
        "--pages", type=int, default=500, help="article pages per host (500: one per item)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="sample a third run even if the target is met"
    )
    args = parser.parse_args(argv)
    if args.feeds % args.servers:
        parser.error("--feeds must be a multiple of --servers")

    # Imported here: prefect's import alone takes seconds and should not count as set-up noise.
    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest import ingest

    @flow(name="polling-benchmark-empty")
    def empty_flow() -> None:
        """Prefect's fixed cost of one flow run here (API calls, heartbeat thread): the floor
        under any run of ``ingest``."""

    per_server = args.feeds // args.servers
    with tempfile.TemporaryDirectory(prefix="newsdesk-polling-") as tmp:
        root = Path(tmp)
        paths = build_site(root, args.feeds, args.items, args.pages)
        db = root / "polling.duckdb"
        with servers_for(root, args.servers) as servers:
            publishers = [
                {
                    "name": f"Polling host {n}",
                    "domain": f"polling-{n}.example",
                    "feeds": [
                        server.base_url + p for p in paths[n * per_server : (n + 1) * per_server]
                    ],
                }
                for n, server in enumerate(servers)
            ]
            params: dict[str, Any] = {
                "db": str(db),
                "publishers": publishers,
                "all_feeds": True,
                "overrides": OVERRIDES,
            }
            started = time.perf_counter()
            with prefect_test_harness(server_startup_timeout=120):
                harness_s = time.perf_counter() - started
                runs: list[dict[str, Any]] = []
                for label in ("first (all new)", "second (all 304)"):
                    before = [len(s.requests) for s in servers]
                    started = time.perf_counter()
                    summary = ingest(**params)
                    wall = time.perf_counter() - started
                    by_kind, conditional, per_host = request_stats(servers, before)
                    runs.append(
                        {
                            "run": label,
                            "wall_s": round(wall, 3),
                            "requests": sum(per_host),
                            "requests_by_kind": by_kind,
                            "conditional_feed_requests": conditional,
                            "requests_per_server": {"min": min(per_host), "max": max(per_host)},
                            "summary": {k: v for k, v in summary.items() if k != "run_id"},
                        }
                    )
                    print(f"{label}: {wall:.2f} s, {sum(per_host)} requests {by_kind}")
                ratio = runs[1]["wall_s"] / runs[0]["wall_s"]
                floors = []
                for _ in range(3):
                    started = time.perf_counter()
                    empty_flow()
                    floors.append(time.perf_counter() - started)
                floor_s = sorted(floors)[1]
                profile = None
                if ratio > TARGET_RATIO or args.profile:
                    with PhaseTimers() as phases, Sampler(threading.get_ident()) as sampler:
                        started = time.perf_counter()
                        ingest(**params)
                        profiled_wall = time.perf_counter() - started
                    profile = {
                        "wall_s": round(profiled_wall, 3),
                        "phases": phases.report(started),
                        "sampling_interval_s": sampler.interval_s,
                        **sampler.report(),
                    }

    second = runs[1]
    payload: dict[str, Any] = {
        "feeds": args.feeds,
        "servers": args.servers,
        "feeds_per_server": per_server,
        "items_per_feed": args.items,
        "pages_per_host": args.pages,
        "overrides": OVERRIDES,
        "harness_start_s": round(harness_s, 2),
        "runs": runs,
        "second_to_first_ratio": round(ratio, 4),
        "empty_flow_run_s": round(floor_s, 3),
        "floor_to_first_ratio": round(floor_s / runs[0]["wall_s"], 4),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
        "profile_of_an_all_304_run": profile,
    }
    path = write_result("polling", payload)
    print(f"\nPrefect harness start-up (excluded): {harness_s:.1f} s")
    print(f"{args.feeds} feeds on {args.servers} servers, {args.items} items each")
    for run in runs:
        summary = run["summary"]
        print(
            f"  {run['run']:17} {run['wall_s']:7.2f} s  requests {run['requests']:5}  "
            f"fetched {summary['feeds_fetched']:3}  304 {summary['feeds_not_modified']:3}  "
            f"entries new {summary['entries_new']:5}  pages {summary['pages_fetched']:3}"
        )
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"  second / first = {ratio:.1%} ({verdict} the {TARGET_RATIO:.0%} target)")
    print(
        f"  an empty Prefect flow run takes {floor_s:.2f} s here "
        f"({floor_s / runs[0]['wall_s']:.1%} of the first run): the floor under any run"
    )
    if profile is not None:
        print(f"\nan all-304 run again, timed by step ({profile['wall_s']:.2f} s, sampled):")
        for label, row in profile["phases"].items():
            if "seconds" in row:
                print(f"  {row['seconds']:7.2f} s  {row['calls']:4} calls  {label}")
            else:
                print(f"  {row['from_s']:.2f} s .. {row['to_s']:.2f} s  {label}")
        for role in ("flow thread", "other threads (busy)"):
            if role in profile:
                print(f"  sampled, {role} ({profile[role]['samples']} samples), inclusive:")
                for row in profile[role]["inclusive"][:18]:
                    print(f"    {row['share']:6.1%}  {row['function']}")
    print(f"results: {path}")
    if second["summary"]["feeds_not_modified"] != args.feeds:
        print("warning: the second run did not get a 304 for every feed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
