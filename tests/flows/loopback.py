"""Raw-socket loopback servers for the HTTP tests: the test decides every byte and every pause.

``Loopback(handler, host=...)`` listens on ``host:0`` (any 127.0.0.0/8 address) and runs
``handler(conn, request)`` for each connection in its own thread. It counts accepted connections,
so a test can assert that a refused address was never even connected to.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Loopback", "Request", "Routes", "respond", "send_head"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    at: float = field(default_factory=time.monotonic)


Handler = Callable[[socket.socket, Request], None]


def send_head(conn: socket.socket, status: int, headers: dict[str, str] | None = None) -> None:
    lines = [f"HTTP/1.1 {status} X"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def respond(
    conn: socket.socket, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    """A whole response; the connection closes after it, so there is no keep-alive to reason
    about."""
    head = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    if status == 304:
        head.pop("Content-Length")
    send_head(conn, status, head)
    if body and status != 304:
        conn.sendall(body)


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, path, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, path, headers)


class Loopback:
    def __init__(self, handler: Handler | None = None, host: str = "127.0.0.1") -> None:
        self._handler = handler
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self.host = host
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self.accepted = 0
        self.requests: list[Request] = []
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self) -> Loopback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()

    def _accept_loop(self) -> None:
        # Polling: close() does not wake a thread blocked in accept().
        self._listener.settimeout(0.05)
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        # Every error is the client going away (which tests cause on purpose); swallow it so
        # no thread exception reaches pytest.
        with contextlib.suppress(OSError, ValueError):
            conn.settimeout(10)
            request = _read_request(conn)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            if self._handler is not None:
                self._handler(conn, request)
        with contextlib.suppress(OSError):
            conn.close()

    @property
    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]


class Routes:
    """A handler answering canned (status, body, headers) per path; unknown paths get 404."""

    def __init__(self, routes: dict[str, tuple[int, bytes, dict[str, str]]]) -> None:
        self.routes = routes

    def __call__(self, conn: socket.socket, request: Request) -> None:
        status, body, headers = self.routes.get(request.path, (404, b"not found", {}))
        respond(conn, status, body, headers)
