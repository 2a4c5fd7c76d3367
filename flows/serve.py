"""Scheduled runs on one machine: a Prefect server, the ``process`` work pool, the deployments
of ``deploy/prefect.yaml`` and a worker, started in the background (``newsdesk serve``).

Everything lives in a state folder (default ``prefect/`` beside the warehouse): the server's
own SQLite database (``prefect.db``), ``PREFECT_HOME`` (``home/``), one log per process and
``serve.json`` with the PIDs, port and addresses. :func:`stop` ends those processes by the PIDs
recorded there (each was started in its own session, so its process group has its PID).

:func:`start`, in order: refuse when the state file names live processes or the port is taken;
``prefect server start --host 127.0.0.1 --port PORT``; wait for ``/api/health`` (10–35 s on a
fresh database, less after); create the ``process`` pool when missing; set the Prefect
variables the deployments read (:data:`VARIABLES`) to the given values;
``prefect --no-prompt deploy --prefect-file deploy/prefect.yaml --all``;
``prefect worker start --pool process``; wait for the worker's first heartbeat. A failure on
the way stops what was started and raises :class:`ServeError` with the end of the log.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "BACKFILL_PRIORITY",
    "BACKFILL_QUEUE",
    "DEFAULT_PORT",
    "POOL",
    "PREFECT_FILE",
    "VARIABLES",
    "ServeError",
    "ServeState",
    "deploy",
    "ensure_pool",
    "prefect_env",
    "read_state",
    "set_variables",
    "start",
    "state_dir_for",
    "stop",
    "wait_healthy",
]

DEFAULT_PORT = 4200
POOL = "process"
# Backfills wait behind scheduled runs: their queue has a lower priority (a higher number).
BACKFILL_QUEUE = "backfill"
BACKFILL_PRIORITY = 10
PREFECT_FILE = Path("deploy/prefect.yaml")
STATE_FILE = "serve.json"
# The Prefect variables deploy/prefect.yaml reads, and what each holds.
VARIABLES = {
    "newsdesk_home": "the project checkout the runs work in (the pull step's directory)",
    "newsdesk_db": "the DuckDB warehouse file",
    "newsdesk_sources": "the sources file of the scheduled ingest",
    "newsdesk_export_dir": "where maintenance exports Parquet (empty: no export)",
}
HEALTH_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
# Processes this Python process started, by PID: stop() waits for them (no zombies).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ServeError(Exception):
    """The server, pool, deployments or worker could not be brought up (or down)."""


@dataclass(frozen=True, slots=True)
class ServeState:
    port: int
    api_url: str
    ui_url: str
    state_dir: str
    project: str
    started_at: str
    server_pid: int | None = None
    worker_pid: int | None = None

    def pids(self) -> list[tuple[str, int]]:
        """``(role, pid)``, the worker first: it is stopped before the server."""
        named = [("worker", self.worker_pid), ("server", self.server_pid)]
        return [(role, pid) for role, pid in named if pid is not None]


def state_dir_for(db: Path) -> Path:
    """The default state folder: ``prefect/`` beside the warehouse file."""
    return db.resolve().parent / "prefect"


def read_state(state_dir: Path) -> ServeState | None:
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        return ServeState(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ServeError(f"{path} is not a serve state file ({exc}); remove it") from exc


def _write_state(state: ServeState) -> None:
    path = Path(state.state_dir) / STATE_FILE
    path.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")


def prefect_env(
    state_dir: Path, api_url: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of every process :func:`start` runs: this one's, with Prefect pointed
    at the state folder and the server."""
    env = dict(os.environ)
    for name in ("PREFECT_API_KEY", "PREFECT_PROFILE"):  # a Cloud login or another profile
        env.pop(name, None)
    env.update(
        {
            "PREFECT_HOME": str(state_dir / "home"),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": (
                f"sqlite+aiosqlite:///{state_dir / 'prefect.db'}"
            ),
            "PREFECT_API_URL": api_url,
            "PREFECT_UI_URL": api_url.removesuffix("/api"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def _prefect(*args: str) -> list[str]:
    return [sys.executable, "-m", "prefect", *args]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs and (where /proc tells) is a Prefect process, not a reused PID."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process now: not ours to stop
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        with contextlib.suppress(OSError):
            return b"prefect" in cmdline.read_bytes()
    return True


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _spawn(
    command: list[str], env: Mapping[str, str], log: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, led by its PID: stopped as one
        )
    _CHILDREN[process.pid] = process
    return process


def wait_healthy(
    api_url: str, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Poll ``/api/health`` until it answers ``true``; returns the seconds waited."""
    started = time.monotonic()
    while True:
        if process is not None and process.poll() is not None:
            raise ServeError(f"the Prefect server exited with code {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(f"{api_url}/health", timeout=2.0)
            if response.status_code == 200 and response.json() is True:
                return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise ServeError(
                f"the Prefect server at {api_url} was not healthy after {timeout:.0f}s"
            )
        time.sleep(0.5)


def ensure_pool(api_url: str, name: str = POOL) -> bool:
    """Create the process work pool ``name`` unless it exists, and its low-priority
    ``backfill`` queue (the worker serves ``default`` first); True when the pool was created."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    created = False
    with SyncPrefectClient(api_url) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type="process",
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                )
            )
            created = True
        queues = {q.name for q in client.read_work_queues(work_pool_name=name)}
        if BACKFILL_QUEUE not in queues:
            client.create_work_queue(
                name=BACKFILL_QUEUE, work_pool_name=name, priority=BACKFILL_PRIORITY
            )
    return created


def set_variables(api_url: str, values: Mapping[str, str]) -> None:
    """Create or update the Prefect variables ``values`` (name -> value)."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import VariableCreate, VariableUpdate

    with SyncPrefectClient(api_url) as client:
        for name, value in values.items():
            if client.read_variable_by_name(name) is None:
                client.create_variable(VariableCreate(name=name, value=value))
            else:
                client.update_variable(VariableUpdate(name=name, value=value))


def deploy(project: Path, env: Mapping[str, str], log: Path, timeout: float = 300.0) -> None:
    """``prefect --no-prompt deploy --prefect-file deploy/prefect.yaml --all`` in ``project``."""
    command = _prefect("--no-prompt", "deploy", "--prefect-file", str(PREFECT_FILE), "--all")
    with log.open("ab") as out:
        try:
            done = subprocess.run(
                command,
                env=dict(env),
                cwd=project,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServeError(f"prefect deploy took more than {timeout:.0f}s (see {log})") from exc
    if done.returncode != 0:
        raise ServeError(f"prefect deploy failed (exit {done.returncode}):\n{_tail(log)}")


def _wait_worker(
    api_url: str, since: datetime, timeout: float, process: subprocess.Popen[bytes]
) -> None:
    from prefect.client.orchestration import SyncPrefectClient

    deadline = time.monotonic() + timeout
    with SyncPrefectClient(api_url) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServeError(f"the worker exited with code {process.returncode}")
            workers = client.read_workers_for_work_pool(POOL)
            if any(w.last_heartbeat_time and w.last_heartbeat_time >= since for w in workers):
                return
            time.sleep(0.5)
    raise ServeError(f"the worker sent no heartbeat within {timeout:.0f}s")


def start(
    *,
    project: Path,
    db: Path,
    sources: Path,
    export_dir: Path | None = None,
    port: int = DEFAULT_PORT,
    state_dir: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = HEALTH_TIMEOUT_S,
    echo: Callable[[str], None] = print,
) -> ServeState:
    """Start server, pool, deployments and worker (see the module docstring)."""
    project = project.resolve()
    if not (project / PREFECT_FILE).is_file():
        raise ServeError(f"no {PREFECT_FILE} in {project}: run from a newsdesk checkout")
    folder = (state_dir or state_dir_for(db)).resolve()
    running = read_state(folder)
    if running is not None and any(_alive(pid) for _, pid in running.pids()):
        raise ServeError(
            f"already serving at {running.ui_url} (state in {folder}); "
            "stop it first with `newsdesk serve --stop`"
        )
    if not _port_free(port):
        raise ServeError(f"port {port} on 127.0.0.1 is in use: pass another --port")
    (folder / "home").mkdir(parents=True, exist_ok=True)
    api_url = f"http://127.0.0.1:{port}/api"
    env = prefect_env(folder, api_url, extra_env)
    state = ServeState(
        port=port,
        api_url=api_url,
        ui_url=f"http://127.0.0.1:{port}",
        state_dir=str(folder),
        project=str(project),
        started_at=datetime.now(UTC).isoformat(),
    )
    server = _spawn(
        _prefect("server", "start", "--host", "127.0.0.1", "--port", str(port)),
        env,
        folder / "server.log",
        project,
    )
    state = _replace(state, server_pid=server.pid)
    _write_state(state)
    try:
        echo(f"Prefect server starting (pid {server.pid}), waiting for {api_url}/health …")
        waited = wait_healthy(api_url, timeout, server)
        echo(f"server healthy after {waited:.0f}s")
        if ensure_pool(api_url):
            echo(f"work pool '{POOL}' created")
        set_variables(
            api_url,
            {
                "newsdesk_home": str(project),
                "newsdesk_db": str(db.resolve()),
                "newsdesk_sources": str(sources.resolve()),
                "newsdesk_export_dir": str(export_dir.resolve()) if export_dir else "",
            },
        )
        echo(f"deploying {PREFECT_FILE} …")
        deploy(project, env, folder / "deploy.log")
        since = datetime.now(UTC)
        worker = _spawn(
            _prefect("worker", "start", "--pool", POOL), env, folder / "worker.log", project
        )
        state = _replace(state, worker_pid=worker.pid)
        _write_state(state)
        _wait_worker(api_url, since, 60.0, worker)
    except BaseException as exc:
        stop(folder)
        if isinstance(exc, ServeError):
            raise ServeError(f"{exc}\n{_tail(folder / 'server.log', 10)}") from exc
        raise
    return state


def _replace(state: ServeState, **changes: Any) -> ServeState:
    return ServeState(**(asdict(state) | changes))


def _terminate(pid: int, timeout: float) -> bool:
    """SIGTERM the process group ``pid`` leads, SIGKILL it after ``timeout``; True if it ran."""
    child = _CHILDREN.pop(pid, None)  # started by this process: wait for it (and reap it)
    running = child.poll() is None if child is not None else _alive(pid)
    if not running:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    if child is not None:
        try:
            child.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            pass
    else:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if not _alive(pid):
            return True
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    if child is not None:
        child.wait()
    return True


def stop(state_dir: Path, timeout: float = STOP_TIMEOUT_S) -> list[str]:
    """Stop the worker, then the server, by the PIDs in ``state_dir``'s state file; remove the
    file. Returns what was stopped, e.g. ``["worker 123", "server 122"]``."""
    state = read_state(state_dir)
    if state is None:
        return []
    stopped = [f"{role} {pid}" for role, pid in state.pids() if _terminate(pid, timeout)]
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return stopped
