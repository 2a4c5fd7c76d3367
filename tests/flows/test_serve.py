"""Scheduled runs for real: a Prefect server and a worker started by ``flows.serve`` (as
``newsdesk serve`` does), the deployments of deploy/prefect.yaml, ``ingest`` triggered through
the server against the demo site, its run report, a second overlapping run cancelled by the
deployment's concurrency limit, and ``maintenance`` through the server. Everything started is
stopped by PID at the end.

About a minute here: server start (10–35 s), deploy (~8 s), two flow runs (~10 s each).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import FlowRun, StateType

from flows import serve
from flows.demo import DemoServer, demo_publishers
from flows.reporting import RUN_REPORT_KEY
from flows.sources import Publisher

REPO = Path(__file__).resolve().parents[2]
SLOW_SECONDS = 8.0  # keeps the first run busy for several worker polls (1 s apart)
TEST_ENV = {
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",  # no cron runs beside ours
    "PREFECT_WORKER_QUERY_SECONDS": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "INFO",
}
EMPTY_RSS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
    b"<title>Slow</title><link>http://slow.example/</link></channel></rss>"
)


class _SlowHandler(BaseHTTPRequestHandler):
    """``/slow.rss`` answers an empty feed after SLOW_SECONDS; everything else is 404."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith("/slow.rss"):
            time.sleep(SLOW_SECONDS)
            status, body = 200, EMPTY_RSS
        else:
            status, body = 404, b"not found"
        self.send_response(status)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def slow_feed() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slow.rss"
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(
    client: SyncPrefectClient, run_id: UUID, until: set[StateType], timeout: float
) -> FlowRun:
    deadline = time.monotonic() + timeout
    while True:
        run = client.read_flow_run(run_id)
        if run.state is not None and run.state.type in until:
            return run
        if time.monotonic() > deadline:
            state = run.state.type if run.state else None
            raise AssertionError(f"flow run {run_id} still {state} after {timeout:.0f}s")
        time.sleep(0.25)


def _trigger(client: SyncPrefectClient, name: str, parameters: dict[str, Any]) -> UUID:
    deployment = client.read_deployment_by_name(name)
    return client.create_flow_run_from_deployment(deployment.id, parameters=parameters).id


FINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


def test_scheduled_ingest_through_a_real_server(
    tmp_path: Path, slow_feed: str, corpus: Path
) -> None:
    state_dir = tmp_path / "prefect"
    db = tmp_path / "newsdesk.duckdb"
    started = time.monotonic()
    state = serve.start(
        project=REPO,
        db=db,
        sources=REPO / "deploy" / "sources.toml",
        export_dir=tmp_path / "export",
        port=_free_port(),
        state_dir=state_dir,
        extra_env=TEST_ENV,
        echo=lambda message: None,
    )
    pids = [pid for _, pid in state.pids()]
    try:
        assert len(pids) == 2
        print(f"server, pool, deployments and worker up in {time.monotonic() - started:.0f}s")
        with DemoServer() as site, SyncPrefectClient(state.api_url) as client:
            slow = Publisher(name="Slow Gazette", feeds=[slow_feed])
            publishers = [*demo_publishers(site.base_url), slow]
            parameters = {
                "publishers": [p.model_dump() for p in publishers],
                "all_feeds": True,
                "overrides": {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0},
            }
            deployment = client.read_deployment_by_name("ingest/ingest")
            assert deployment.parameters["db"] == str(db)  # from the newsdesk_db variable

            first = _trigger(client, "ingest/ingest", parameters)
            _wait(client, first, {StateType.RUNNING} | FINAL, timeout=90)
            # The first run holds the deployment's only slot (its slow feed takes 8 s):
            # the worker cancels the new run instead of starting it.
            second = _trigger(client, "ingest/ingest", parameters)
            cancelled = _wait(client, second, FINAL, timeout=60)
            done = _wait(client, first, FINAL, timeout=120)

            assert done.state is not None and done.state.type == StateType.COMPLETED, (
                done.state,
                serve._tail(state_dir / "worker.log", 40),
            )
            assert cancelled.state is not None
            assert cancelled.state.type == StateType.CANCELLED
            assert "concurrency" in (cancelled.state.message or "").lower()

            con = duckdb.connect(str(db), read_only=True)
            try:
                articles = con.execute("select count(*) from articles").fetchone()
                run = con.execute(
                    "select status, feeds_total, articles_new from runs where run_id = ?",
                    [str(first)],
                ).fetchone()
                runs = con.execute("select count(*) from runs where flow = 'ingest'").fetchone()
            finally:
                con.close()
            assert articles is not None and articles[0] >= 30
            assert run == ("completed", 4, articles[0])
            assert runs == (1,)  # the cancelled run never started

            reports = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[RUN_REPORT_KEY]))
            )
            mine = [a for a in reports if a.flow_run_id == first]
            assert len(mine) == 1, "ingest publishes one run report (flows.reporting)"
            (report,) = mine
            assert report.type == "markdown"
            assert "Slow Gazette" in report.data and "The Harbor Courier" in report.data

            # The backfill deployment on its low-priority queue: the corpus WARC files.
            queued = client.read_deployment_by_name("backfill/backfill")
            assert queued.work_queue_name == serve.BACKFILL_QUEUE
            queue = client.read_work_queue_by_name(serve.BACKFILL_QUEUE, work_pool_name=serve.POOL)
            assert queue.priority is not None and queue.priority > 1
            warc = _trigger(
                client,
                "backfill/backfill",
                {"via": "warc", "path": str(corpus / "backfill" / "warc")},
            )
            backfilled = _wait(client, warc, FINAL, timeout=120)
            assert backfilled.state is not None, serve._tail(state_dir / "worker.log", 40)
            assert backfilled.state.type == StateType.COMPLETED, backfilled.state

            maintenance = _trigger(client, "maintenance/maintenance", {})
            checked = _wait(client, maintenance, FINAL, timeout=90)
            assert checked.state is not None and checked.state.type == StateType.COMPLETED
        con = duckdb.connect(str(db), read_only=True)
        try:
            results = con.execute(
                "select count(*), count(*) filter (where status = 'error') from check_results"
                " where run_id = ?",
                [str(maintenance)],
            ).fetchone()
        finally:
            con.close()
        assert results is not None and results[0] >= 10 and results[1] == 0
        con = duckdb.connect(str(db), read_only=True)
        try:
            warc_rows = con.execute(
                "select count(*) from articles where discovered_via = 'warc'"
            ).fetchone()
        finally:
            con.close()
        assert warc_rows is not None and warc_rows[0] >= 1
        assert (tmp_path / "export" / "_manifest.json").is_file()
        assert list((tmp_path / "export" / "articles").glob("*/*.parquet"))
    finally:
        stopped = serve.stop(state_dir)
        print(f"stopped {stopped} after {time.monotonic() - started:.0f}s")
    assert not (state_dir / "serve.json").exists()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
