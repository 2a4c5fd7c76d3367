"""The httpx transport newsdesk uses: the SSRF guard at connect time, and the wall-clock deadline
on every socket operation.

:class:`GuardedTransport` is an ``httpx.HTTPTransport`` whose connection pool uses
:class:`GuardedBackend`. For each new connection the backend resolves the host once
(:func:`flows.netguard.resolve`), refuses the whole host if any address is refused, and connects
to the vetted address itself, so DNS cannot answer differently between check and use. TLS is
unaffected: httpcore calls ``start_tls`` on the returned stream with ``server_hostname`` taken from
the request URL (httpcore ``_sync/connection.py``), so SNI and certificate checks use the name.

Refusals are raised as :class:`flows.netguard.AddressRefused` (or ``NameResolutionFailed``)
before any socket is opened; httpx passes exceptions it does not know through unchanged.

:func:`deadline` sets a monotonic deadline for the current thread/context; every read, write,
connect and TLS handshake on a guarded connection is bounded by what is left of it, so a server
that stalls mid-body cannot outlast it. Proxies are deliberately not supported: through a proxy
the guard would vet the proxy, not the site.
"""

from __future__ import annotations

import ssl
import time
import typing
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

from flows.netguard import IPNetwork, Resolver, resolve, system_resolver

__all__ = ["DeadlineStream", "GuardedBackend", "GuardedTransport", "deadline", "time_left"]

_DEADLINE: ContextVar[float | None] = ContextVar("newsdesk_http_deadline", default=None)
_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Bound guarded socket operations in this context by ``at`` (``time.monotonic()`` clock)."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds until the current deadline (may be <= 0), or None without one."""
    at = _DEADLINE.get()
    return None if at is None else at - time.monotonic()


def _bounded(timeout: float | None, expired: type[Exception], what: str) -> float | None:
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise expired(f"total deadline passed before {what}")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the current :func:`deadline`."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout, "read"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout, "write"))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout, "TLS handshake")
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve, vet and connect to a vetted address; wrap the stream in :class:`DeadlineStream`."""

    def __init__(
        self,
        allowed: Sequence[IPNetwork] = (),
        resolver: Resolver = system_resolver,
        backend: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.allowed = tuple(allowed)
        self._resolver = resolver
        self._backend = backend or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        # Raises AddressRefused before any socket exists when one address is refused.
        addresses = resolve(host, port, self.allowed, self._resolver)
        options = list(socket_options or ())
        last: Exception | None = None
        for address in addresses:
            try:
                stream = self._backend.connect_tcp(
                    str(address),  # a literal: no second lookup that could answer differently
                    port,
                    timeout=_bounded(timeout, httpcore.ConnectTimeout, "connect"),
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc  # like socket.create_connection: try the next address
                continue
            return DeadlineStream(stream)
        assert last is not None
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable through the guarded backend")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` with :class:`GuardedBackend` under its connection pool.

    ``allowed`` networks bypass the guard (see :func:`flows.netguard.classify_address`);
    ``resolver`` replaces ``getaddrinfo`` (tests use it to map names to loopback addresses).
    """

    def __init__(
        self,
        allowed: Sequence[IPNetwork] = (),
        *,
        resolver: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=verify, limits=limits)
        # HTTPTransport offers no way to choose the network backend, so its pool is replaced
        # by an identical one that has ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed, resolver),
        )
