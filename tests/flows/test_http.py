"""The Fetcher against real loopback servers: conditional GET, redirects hop by hop, the SSRF
guard (with a listener proving no connection was made), caps, bombs, deadlines, Retry-After."""

from __future__ import annotations

import gzip
import socket
import time
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import brotli
import pytest

from flows.demo import DemoServer, Route
from flows.http import TRANSIENT_ERROR_CLASSES, Fetcher
from flows.netguard import IPAddress, Resolver, parse_networks
from flows.politeness import HostLimiter
from flows.settings import Settings
from flows.transport import GuardedTransport
from tests.flows.loopback import Loopback, Request, Routes, respond, send_head
from transforms.urls import host_of


def local(**overrides: Any) -> Settings:
    """Settings for loopback tests: 127.0.0.0/8 allowed, no politeness delay."""
    values: dict[str, Any] = {"allow_private": ["127.0.0.0/8"], "per_host_delay_s": 0.0}
    return Settings(**(values | overrides))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "feed.xml").write_text("<rss version='2.0'><channel/></rss>")
    return tmp_path


# --- the original behaviour, on the demo server ------------------------------------------------


def test_conditional_get_echoes_validators_and_gets_304(site: Path) -> None:
    with DemoServer(data_dir=site) as server, Fetcher(local()) as fetcher:
        first = fetcher.get(server.base_url + "/feed.xml")
        assert first.status == 200 and first.ok
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        second = fetcher.get(server.base_url + "/feed.xml", etag=etag, last_modified=modified)
        assert second.status == 304 and second.not_modified and second.body == b""
        sent = server.requests[-1][1]
        assert sent["if-none-match"] == etag and sent["if-modified-since"] == modified
        assert sent["user-agent"].startswith("newsdesk/")


def test_status_errors_are_classified(site: Path) -> None:
    routes = {
        "/500": Route(500, b"oops"),
        "/429": Route(429, b"", {"Retry-After": "120"}),
        "/moved": Route(301, b"", {"Location": "/feed.xml"}),
    }
    with DemoServer(data_dir=site, routes=routes) as server, Fetcher(local()) as fetcher:
        assert fetcher.get(server.base_url + "/500").error_class == "http_5xx"
        assert fetcher.get(server.base_url + "/missing").error_class == "http_4xx"
        moved = fetcher.get(server.base_url + "/moved")
        assert moved.ok and moved.final_url == server.base_url + "/feed.xml"
        assert moved.redirects == ((301, server.base_url + "/feed.xml"),)
        # Last: Retry-After defers the host, so a request after it would not be sent.
        too_many = fetcher.get(server.base_url + "/429")
        assert too_many.error_class == "http_429"
        assert too_many.headers["retry-after"] == "120"
        assert too_many.retry_after_s == 120.0


def test_body_over_the_cap_is_refused(site: Path) -> None:
    routes = {"/big": Route(200, b"x" * 300_000)}
    settings = local(max_bytes=100_000)
    with DemoServer(data_dir=site, routes=routes) as server, Fetcher(settings) as fetcher:
        result = fetcher.get(server.base_url + "/big")
    assert result.error_class == "too_large"
    assert result.body == b""


def test_connection_refused_is_a_value_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with Fetcher(local(connect_timeout_s=2)) as fetcher:
        result = fetcher.get(f"http://127.0.0.1:{port}/feed")
        assert fetcher.get("gopher://x/").error_class == "invalid_url"
    assert result.error_class == "connect"
    assert result.status is None


# --- conditional GET on the wire ---------------------------------------------------------------


def test_validators_are_sent_verbatim_and_304_has_no_body() -> None:
    etag, modified = 'W/"a,b; c"', "Sat, 28 Nov 2026 12:00:00 GMT"

    def handler(conn: socket.socket, request: Request) -> None:
        if request.headers.get("if-none-match") == etag:
            respond(conn, 304, headers={"ETag": etag})
        else:
            respond(conn, 200, b"<rss/>", {"ETag": etag, "Last-Modified": modified})

    with Loopback(handler) as server, Fetcher(local()) as fetcher:
        result = fetcher.get(server.base_url + "/f", etag=etag, last_modified=modified)
        sent = server.requests[-1].headers
    assert result.not_modified and result.body == b"" and result.error_class is None
    assert sent["if-none-match"] == etag and sent["if-modified-since"] == modified
    assert sent["accept-encoding"] == "gzip, deflate, br"


# --- redirects ---------------------------------------------------------------------------------


def test_redirect_chain_is_recorded_hop_by_hop() -> None:
    routes = Routes(
        {
            "/a": (301, b"", {"Location": "/b"}),
            "/b": (308, b"", {"Location": "/c?x=1"}),
            "/c?x=1": (200, b"<rss/>", {}),
            "/t": (302, b"", {"Location": "/a"}),
        }
    )
    with Loopback(routes) as server, Fetcher(local()) as fetcher:
        base = server.base_url
        moved = fetcher.get(base + "/a")
        temporary = fetcher.get(base + "/t")
    assert moved.ok and moved.body == b"<rss/>"
    assert moved.redirects == ((301, base + "/b"), (308, base + "/c?x=1"))
    assert moved.final_url == base + "/c?x=1"
    assert moved.permanent_redirect == base + "/c?x=1"
    assert temporary.ok and temporary.redirects[0] == (302, base + "/a")
    assert temporary.permanent_redirect is None  # one hop was temporary


def test_redirect_loop_is_detected() -> None:
    routes = Routes({"/a": (302, b"", {"Location": "/b"}), "/b": (301, b"", {"Location": "/a"})})
    with Loopback(routes) as server, Fetcher(local()) as fetcher:
        result = fetcher.get(server.base_url + "/a")
        assert server.paths == ["/a", "/b"]  # /a was not requested a second time
    assert result.error_class == "redirect_loop"
    assert result.status == 301 and result.final_url == server.base_url + "/b"
    assert result.error_class not in TRANSIENT_ERROR_CLASSES


def test_too_many_redirects() -> None:
    def handler(conn: socket.socket, request: Request) -> None:
        n = int(request.path.strip("/"))
        respond(conn, 302, headers={"Location": f"/{n + 1}"})

    with Loopback(handler) as server, Fetcher(local(max_redirects=3)) as fetcher:
        result = fetcher.get(server.base_url + "/0")
        assert server.paths == ["/0", "/1", "/2", "/3"]
    assert result.error_class == "too_many_redirects"
    assert len(result.redirects) == 4


def test_redirect_to_another_scheme_is_refused() -> None:
    routes = Routes({"/a": (301, b"", {"Location": "file:///etc/passwd"})})
    with Loopback(routes) as server, Fetcher(local()) as fetcher:
        result = fetcher.get(server.base_url + "/a")
    assert result.error_class == "invalid_url"
    assert "file" in (result.error or "")


# --- the SSRF guard ----------------------------------------------------------------------------


def test_redirect_to_a_refused_address_makes_no_connection() -> None:
    with Loopback(host="127.0.0.2") as trap:
        routes = Routes({"/a": (302, b"", {"Location": trap.base_url + "/secret"})})
        with Loopback(routes) as server, Fetcher(local(allow_private=["127.0.0.1/32"])) as f:
            result = f.get(server.base_url + "/a")
        time.sleep(0.1)  # a connection, had one been made, would be accepted by now
        assert trap.accepted == 0
    assert result.error_class == "ssrf_refused"
    assert result.redirects == ((302, trap.base_url + "/secret"),)
    assert result.final_url == trap.base_url + "/secret" and result.status is None
    assert "127.0.0.2" in (result.error or "") and "loopback" in (result.error or "")


def fake_resolver(table: dict[str, Sequence[str]]) -> Resolver:
    from ipaddress import ip_address

    def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
        return tuple(ip_address(a) for a in table[host])

    return resolve


def test_a_name_resolving_to_a_refused_address_makes_no_connection() -> None:
    allowed = parse_networks(["127.0.0.1/32"])
    resolver = fake_resolver({"feeds.test": ["127.0.0.2"], "mixed.test": ["127.0.0.1", "10.0.0.1"]})
    transport = GuardedTransport(allowed, resolver=resolver)
    settings = local(allow_private=["127.0.0.1/32"])
    with (
        Loopback(host="127.0.0.2") as trap,
        Loopback(Routes({"/": (200, b"ok", {})})) as server,
        Fetcher(settings, transport) as fetcher,
    ):
        to_trap = fetcher.get(f"http://feeds.test:{trap.port}/")
        # One public-looking answer does not excuse another that is refused.
        mixed = fetcher.get(f"http://mixed.test:{server.port}/")
        time.sleep(0.1)
        assert trap.accepted == 0 and server.accepted == 0
    assert to_trap.error_class == "ssrf_refused"
    assert "feeds.test" in (to_trap.error or "") and "127.0.0.2" in (to_trap.error or "")
    assert mixed.error_class == "ssrf_refused" and "10.0.0.1 is private" in (mixed.error or "")


def test_the_vetted_address_is_the_one_connected_to() -> None:
    """DNS rebinding: the second lookup would say 127.0.0.2, but there is no second lookup."""
    from ipaddress import ip_address

    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])

    def rebinding(host: str, port: int) -> tuple[IPAddress, ...]:
        return (ip_address(next(answers)),)

    transport = GuardedTransport(parse_networks(["127.0.0.1/32"]), resolver=rebinding)
    with (
        Loopback(Routes({"/": (200, b"right", {})})) as server,
        Fetcher(local(), transport) as fetcher,
    ):
        result = fetcher.get(f"http://feeds.test:{server.port}/")
        host_header = server.requests[0].headers["host"]
    assert result.ok and result.body == b"right"
    assert host_header == f"feeds.test:{server.port}"  # the name, not the address, is sent


@pytest.mark.parametrize("spelling", ["127.1", "2130706433", "0x7f.0.0.1"])
def test_odd_spellings_of_loopback_are_refused_at_connect_time(spelling: str) -> None:
    with Loopback() as server, Fetcher(Settings(allow_private=[], per_host_delay_s=0)) as fetcher:
        result = fetcher.get(f"http://{spelling}:{server.port}/")
        time.sleep(0.05)
        assert server.accepted == 0
    assert result.error_class == "ssrf_refused"
    assert "127.0.0.1 is loopback" in (result.error or "")


def test_defaults_refuse_loopback_and_metadata() -> None:
    with Loopback() as server, Fetcher(Settings(allow_private=[], per_host_delay_s=0)) as fetcher:
        loop = fetcher.get(server.base_url + "/")
        metadata = fetcher.get("http://169.254.169.254/latest/meta-data/")
        mapped = fetcher.get("http://[::ffff:169.254.169.254]/")
        assert server.accepted == 0
    assert loop.error_class == "ssrf_refused"
    assert metadata.error_class == "ssrf_refused" and "metadata" in (metadata.error or "")
    assert mapped.error_class == "ssrf_refused" and "ipv4_mapped:metadata" in (mapped.error or "")


def test_tls_uses_the_host_name_after_connecting_to_the_address(tmp_path: Path) -> None:
    """SNI and certificate checks see the URL's host name although the socket was opened to a
    vetted IP address."""
    pytest.importorskip("cryptography")
    import ssl
    import threading

    cert, key = _self_signed("feeds.test", tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    seen_sni: list[str | None] = []

    def record_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        seen_sni.append(name)

    server_ctx.sni_callback = record_sni
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    )
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=str(cert))
    resolver = fake_resolver({"feeds.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    transport = GuardedTransport(
        parse_networks(["127.0.0.1/32"]), resolver=resolver, verify=client_ctx
    )
    try:
        with Fetcher(local(), transport) as fetcher:
            good = fetcher.get(f"https://feeds.test:{port}/")
            wrong_name = fetcher.get(f"https://other.test:{port}/")
    finally:
        listener.close()
        thread.join(timeout=5)
    assert good.ok and good.body == b"ok"
    assert seen_sni[0] == "feeds.test"
    assert wrong_name.error_class == "tls"  # the certificate names feeds.test only


def _self_signed(name: str, folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# --- deadlines ---------------------------------------------------------------------------------


def drip(conn: socket.socket, request: Request) -> None:
    send_head(conn, 200, {"Content-Length": "1000"})
    for _ in range(1000):
        conn.sendall(b"x")
        time.sleep(1.0)


def stall_after_head(conn: socket.socket, request: Request) -> None:
    # A few bytes first, so the stall starts late: a read timeout fixed when the request was
    # sent (2 s here) would then end well after the total deadline.
    send_head(conn, 200, {"Content-Length": "1000"})
    for _ in range(3):
        conn.sendall(b"x")
        time.sleep(0.5)
    time.sleep(8)


def stall_before_head(conn: socket.socket, request: Request) -> None:
    time.sleep(8)


@pytest.mark.parametrize("handler", [drip, stall_after_head, stall_before_head])
def test_total_timeout_holds_against_slow_servers(handler: Any) -> None:
    # read_timeout_s alone would let each of these run far longer than total_timeout_s.
    settings = local(total_timeout_s=2.0, read_timeout_s=30.0)
    with Loopback(handler) as server, Fetcher(settings) as fetcher:
        started = time.monotonic()
        result = fetcher.get(server.base_url + "/slow")
        took = time.monotonic() - started
    assert result.error_class == "timeout"
    assert 1.9 < took < 2.8, took


# --- size caps and bombs -----------------------------------------------------------------------


def endless(conn: socket.socket, request: Request) -> None:
    send_head(conn, 200, {"Content-Type": "text/html"})  # no length: body ends at close
    block = b"<p>lorem ipsum</p>" * 4096
    while True:
        conn.sendall(block)


def test_endless_body_stops_at_the_cap() -> None:
    with Loopback(endless) as server, Fetcher(local(max_bytes=1_000_000)) as fetcher:
        decoded_cap = fetcher.get(server.base_url + "/")
    settings = local(max_bytes=10_000_000, max_download_bytes=500_000)
    with Loopback(endless) as server, Fetcher(settings) as fetcher:
        raw_cap = fetcher.get(server.base_url + "/")
    assert decoded_cap.error_class == "too_large" and decoded_cap.status == 200
    assert "1000000" in (decoded_cap.error or "")
    assert raw_cap.error_class == "too_large" and "download exceeds 500000" in (raw_cap.error or "")


def test_declared_length_over_the_cap_is_refused_unread() -> None:
    def huge(conn: socket.socket, request: Request) -> None:
        send_head(conn, 200, {"Content-Length": str(50 * 2**30)})
        time.sleep(8)

    with Loopback(huge) as server, Fetcher(local(total_timeout_s=5)) as fetcher:
        started = time.monotonic()
        result = fetcher.get(server.base_url + "/")
    assert result.error_class == "too_large" and time.monotonic() - started < 2


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """Zeros, compressed without ever holding them: 200 MB as gzip (~200 KB) and 1 GB as brotli
    (~200 KB). A decoder that inflates each 64 KB network read in full, as httpx does, would
    hold ~64 MB at once for the gzip one and ~360 MB for the brotli one."""
    zeros = bytes(1 << 20)
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 31)
    gz = [squeezer.compress(zeros) for _ in range(200)] + [squeezer.flush()]
    brotli_squeezer = brotli.Compressor(quality=1)
    br = [brotli_squeezer.process(zeros) for _ in range(1024)] + [brotli_squeezer.finish()]
    return {"gzip": b"".join(gz), "br": b"".join(br)}


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _peak_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compression_bomb_stops_at_the_cap_without_inflating(
    bombs: dict[str, bytes], encoding: str
) -> None:
    bomb = bombs[encoding]
    assert len(bomb) < 1_000_000

    def serve(conn: socket.socket, request: Request) -> None:
        respond(conn, 200, bomb, {"Content-Encoding": encoding})

    settings = local(max_bytes=5_000_000, max_download_bytes=10_000_000)
    rss_before, peak_before = _rss_kb(), _peak_kb()
    with Loopback(serve) as server, Fetcher(settings) as fetcher:
        result = fetcher.get(server.base_url + "/feed")
    assert result.error_class == "too_large" and "5000000" in (result.error or "")
    assert _rss_kb() - rss_before < 100_000
    assert _peak_kb() - peak_before < 100_000  # not even briefly


@pytest.fixture
def encoded_bodies() -> Iterator[tuple[bytes, dict[str, tuple[int, bytes, dict[str, str]]]]]:
    text = b"<rss>" + b"news " * 20_000 + b"</rss>"
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    routes = {
        "/gzip": (200, gzip.compress(text), {"Content-Encoding": "gzip"}),
        "/deflate": (200, zlib.compress(text), {"Content-Encoding": "deflate"}),
        "/raw-deflate": (200, raw.compress(text) + raw.flush(), {"Content-Encoding": "deflate"}),
        "/br": (200, brotli.compress(text), {"Content-Encoding": "br"}),
        "/identity": (200, text, {"Content-Encoding": "identity"}),
        "/broken": (200, b"\x1f\x8b not gzip at all", {"Content-Encoding": "gzip"}),
        "/zstd": (200, b"\x28\xb5\x2f\xfd", {"Content-Encoding": "zstd"}),
    }
    yield text, routes


def test_bodies_are_decoded(
    encoded_bodies: tuple[bytes, dict[str, tuple[int, bytes, dict[str, str]]]],
) -> None:
    text, routes = encoded_bodies
    with Loopback(Routes(routes)) as server, Fetcher(local()) as fetcher:
        for path in ("/gzip", "/deflate", "/raw-deflate", "/br", "/identity"):
            result = fetcher.get(server.base_url + path)
            assert result.ok and result.body == text, path
        assert fetcher.get(server.base_url + "/broken").error_class == "protocol"
        assert fetcher.get(server.base_url + "/zstd").error_class == "protocol"


# --- Retry-After and politeness ----------------------------------------------------------------


def test_429_retry_after_defers_the_host() -> None:
    routes = Routes({"/feed": (429, b"slow down", {"Retry-After": "120"})})
    limiter = HostLimiter(delay_s=0.0)
    with Loopback(routes) as server, Fetcher(local(), politeness=limiter) as fetcher:
        first = fetcher.get(server.base_url + "/feed")
        assert 119 < limiter.ready_in(host_of(server.base_url)) <= 120
        started = time.monotonic()
        second = fetcher.get(server.base_url + "/other")
        assert time.monotonic() - started < 1  # told at once, not after waiting
        assert server.paths == ["/feed"]  # the second request was never sent
    assert first.error_class == "http_429" and first.retry_after_s == 120.0
    assert second.error_class == "deferred" and second.status is None
    assert "Retry-After" in (second.error or "")
    assert {"http_429", "deferred"} <= TRANSIENT_ERROR_CLASSES


def test_503_retry_after_as_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    routes = Routes({"/": (503, b"", {"Retry-After": when})})
    limiter = HostLimiter(delay_s=0.0)
    with Loopback(routes) as server, Fetcher(local(), politeness=limiter) as fetcher:
        result = fetcher.get(server.base_url + "/")
        host = host_of(server.base_url)
    assert result.error_class == "http_5xx"
    assert result.retry_after_s is not None and 80 < result.retry_after_s <= 90
    assert 80 < limiter.ready_in(host) <= 90


def test_requests_to_one_host_keep_the_interval() -> None:
    routes = Routes({"/a": (200, b"a", {}), "/b": (200, b"b", {})})
    with Loopback(routes) as server, Fetcher(local(per_host_delay_s=0.4)) as fetcher:
        assert fetcher.get(server.base_url + "/a").ok
        assert fetcher.get(server.base_url + "/b").ok
        first, second = server.requests
    assert second.at - first.at >= 0.35
