"""Shared fixtures: the corpus location, Prefect's test harness, the demo site."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flows.demo import DemoServer, Route, demo_data_dir, demo_publishers
from flows.ingest import ingest
from flows.sources import Publisher

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "demo"


def _corpus_root() -> Path:
    configured = os.environ.get("NEWSDESK_CORPUS")
    return Path(configured) if configured else REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus`` (or ``$NEWSDESK_CORPUS``); when missing, skip, or fail under
    ``NEWSDESK_REQUIRE_CORPUS=1``."""
    root = _corpus_root()
    if not root.is_dir():
        message = f"corpus not found at {root} (set NEWSDESK_CORPUS)"
        if os.environ.get("NEWSDESK_REQUIRE_CORPUS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """A PostgreSQL server for DuckLake catalogs (``$NEWSDESK_TEST_POSTGRES_DSN``, a libpq
    key=value string; `deploy/postgres-dev.sh start` prints one); when unset or unreachable,
    skip, or fail under ``NEWSDESK_REQUIRE_POSTGRES=1``."""
    import subprocess

    dsn = os.environ.get("NEWSDESK_TEST_POSTGRES_DSN")
    problem = None
    if not dsn:
        problem = "no PostgreSQL for the DuckLake tests (set NEWSDESK_TEST_POSTGRES_DSN)"
    else:
        probe = subprocess.run(
            ["psql", dsn, "-Atqc", "select 1"], capture_output=True, text=True, check=False
        )
        if probe.returncode != 0:
            problem = f"PostgreSQL at {dsn!r} does not answer: {probe.stderr.strip()}"
    if problem:
        if os.environ.get("NEWSDESK_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    assert dsn is not None
    return dsn


@pytest.fixture
def new_lake(postgres_dsn: str, tmp_path: Path) -> Iterator[str]:
    """A fresh DuckLake target (``ducklake:postgres:…``): its own PostgreSQL database for the
    catalog, dropped afterwards. Its data path is ``tmp_path / "lake"`` (pass it to connect)."""
    import subprocess
    import uuid

    name = f"newsdesk_test_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", postgres_dsn, "-qc", f"create database {name}"], check=True)
    yield f"ducklake:postgres:{postgres_dsn} dbname={name}"
    subprocess.run(
        ["psql", postgres_dsn, "-qc", f"drop database if exists {name} with (force)"],
        check=False,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the whole session (it takes 10–25 s to start here)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_manifest() -> list[dict[str, Any]]:
    """Ground truth written by hand with the demo site (not produced by newsdesk)."""
    manifest: list[dict[str, Any]] = json.loads(
        (DEMO_DIR / "site" / "manifest.json").read_text(encoding="utf-8")
    )
    return manifest


@pytest.fixture(scope="session")
def demo_edition2_manifest() -> list[dict[str, Any]]:
    manifest: list[dict[str, Any]] = json.loads(
        (DEMO_DIR / "site" / "manifest-edition2.json").read_text(encoding="utf-8")
    )
    return manifest


BROKEN = {
    "500": "/broken/500.rss",
    "html": "/broken/homepage.rss",
    "truncated": "/broken/truncated.rss",
    "with404": "/broken/with-404.rss",
}
MISSING_PAGE = "/harbor/2026/11/this-page-does-not-exist.html"


@dataclass
class DemoRuns:
    db: Path
    base: str
    summaries: list[dict[str, Any]]
    requests_per_run: list[list[tuple[str, dict[str, str]]]]


def _broken_routes(base: str) -> dict[str, Route]:
    site = demo_data_dir() / "site"
    harbor_feed = (site / "harbor" / "feed.rss").read_bytes().replace(b"{{BASE}}", base.encode())
    third_item = harbor_feed.index(
        b"<item", harbor_feed.index(b"<item", harbor_feed.index(b"<item") + 1) + 1
    )
    truncated = harbor_feed[: third_item + 40]  # cut inside the third item
    homepage = (site / "harbor" / "index.html").read_bytes()
    with_404 = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Broken links</title><link>http://x.example/</link>"
        f"<item><title>Gone</title><link>{base}{MISSING_PAGE}</link><guid>gone-1</guid></item>"
        "</channel></rss>"
    ).encode()
    xml = {"Content-Type": "application/rss+xml"}
    return {
        BROKEN["500"]: Route(500, b"Internal Server Error"),
        BROKEN["html"]: Route(200, homepage, {"Content-Type": "text/html; charset=utf-8"}),
        BROKEN["truncated"]: Route(200, truncated, xml),
        BROKEN["with404"]: Route(200, with_404, xml),
    }


@pytest.fixture(scope="session")
def demo_runs(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoRuns]:
    """Three runs: edition 1 with broken sources, the same again, then edition 2."""
    db = tmp_path_factory.mktemp("e2e") / "newsdesk.duckdb"
    with DemoServer(edition=1) as server:
        for path, route in _broken_routes(server.base_url).items():
            server.add_route(path, route)
        broken = Publisher(
            name="Broken Feeds", feeds=[server.base_url + p for p in BROKEN.values()]
        )
        publishers = [*demo_publishers(server.base_url), broken]
        params = {
            "db": str(db),
            "publishers": [p.model_dump() for p in publishers],
            "all_feeds": True,
            "overrides": {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0},
        }
        summaries, requests = [], []
        for edition in (1, 1, 2):
            server.set_edition(edition)
            before = len(server.requests)
            summaries.append(ingest(**params))
            requests.append(server.requests[before:])
        yield DemoRuns(db, server.base_url, summaries, requests)
