"""Loopback stand-ins for the Internet Archive's Wayback Machine and for Common Crawl.

A backfill test needs captures of *its* feed at *its* times, and needs the archive to honour the
query (from/to, filters, collapse, paging, byte ranges) the way the real services do, so that a
client bug shows up as a wrong answer instead of a canned reply that happens to fit. Replaying
the recordings in ``corpus/backfill/cdx`` cannot do that; these servers compute their answers.
The wire formats follow ``corpus/backfill/FORMATS.md`` and the recorded exchanges beside it, and
``tests/flows/test_archive_servers.py`` checks them against those files. Where the recordings
say nothing, the code says so.

* :class:`WaybackServer`: ``/cdx/search/cdx`` (wayback-cdx-server semantics) and
  ``/web/<timestamp>[id_]/<url>`` (raw captures, closest-capture redirects, and a decorated
  non-raw mode so a test can prove the client asked for ``id_``).
* :class:`CommonCrawlServer`: ``/collinfo.json``, ``/<crawl>-index`` (pywb semantics) and the
  WARC files of data.commoncrawl.org, built at start-up with warcio and served with byte ranges,
  all on one port (the paths do not collide).

Both listen on 127.0.0.1, port 0, record every request (``requests``) and accept injected
faults (``fail_next``), e.g. a 429 with Retry-After before the real answer.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import math
import re
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, quote_plus, unquote, unquote_plus, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import timestamp_to_datetime
from warcio.warcwriter import WARCWriter

__all__ = [
    "CC_INDEX_KEYS",
    "CDX_FIELDS",
    "TOOLBAR",
    "ArchivedCapture",
    "CommonCrawlServer",
    "WaybackServer",
    "payload_digest",
    "surt",
    "timestamp14",
]

# The wayback-cdx-server's default fields, in order (cdx/ia-cdx-commoncrawl.org-output-json.json).
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# The keys of a Common Crawl index line, in the real order (cdx/cc-index-commoncrawl.org.ndjson);
# 200 lines add languages+encoding, 3xx lines add redirect.
CC_INDEX_KEYS = (
    "urlkey",
    "timestamp",
    "url",
    "mime",
    "mime-detected",
    "status",
    "digest",
    "length",
    "offset",
    "filename",
)
# What the non-raw Wayback mode injects after <body>: its presence in a fetched capture proves
# the client forgot the ``id_`` flag.
TOOLBAR = b'<div id="wm-ipp">Wayback toolbar</div>'

# How both real servers widen a short from/to (warcio.timeutils PAD_14_DOWN / PAD_14_UP, which
# pywb uses; the wayback-cdx-server pads the same way): "from" gets the earliest instant of the
# period, "to" the latest, so both bounds are inclusive.
PAD_FROM = "10000101000000"
PAD_TO = "29991231235959"


@dataclass(frozen=True)
class ArchivedCapture:
    """One archived HTTP response, as both archives would have stored it."""

    url: str  # original URL
    captured_at: datetime  # UTC (a naive value is taken as UTC)
    body: bytes
    status: int = 200
    mimetype: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)  # extra headers of the archived response

    @property
    def timestamp(self) -> str:
        return timestamp14(self.captured_at)

    @property
    def urlkey(self) -> str:
        return surt(self.url)

    @property
    def digest(self) -> str:
        return payload_digest(self.body)

    def header(self, name: str) -> str | None:
        """An archived header, case-insensitively (the dict keeps whatever case the test used)."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


# --- helpers shared by both archives ---------------------------------------------------------

_WWW = re.compile(r"^www\d*\.")
_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def surt(url: str) -> str:
    """The SURT url key both archives sort and match on, e.g. ``org,commoncrawl)/``.

    A small port of the default canonicalisation of the ``surt`` package (IA's
    WaybackURLKeyMaker): scheme and ``www``/``wwwN`` dropped, host reversed (IPv4 too, as
    ``surt`` does by default), default port dropped, path and query lower-cased, trailing slash
    dropped unless the path is ``/``, query arguments sorted, fragment dropped. It skips the
    percent-encoding normalisation and session-id stripping, which feed URLs do not need.
    Matching on this key is why ``http://www.x/`` and ``https://x/`` are the same page to the
    archives, and a client must not assume otherwise.
    """
    text = re.sub(r"[\n\r\t]", "", url.strip())
    if not _HAS_SCHEME.match(text):
        text = "http://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = _WWW.sub("", (parts.hostname or "").strip(".").lower())
    try:
        port = parts.port
    except ValueError:
        port = None
    if port == {"http": 80, "https": 443}.get(scheme):
        port = None
    path = parts.path.lower() or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    query = parts.query.lower()
    if query:
        query = "&".join(sorted(query.split("&"), key=lambda arg: tuple(arg.split("=", 1))))
    key = ",".join(reversed(host.split("."))) if host else ""
    if port is not None:
        key += f":{port}"
    return f"{key}){path}" + (f"?{query}" if query else "")


def payload_digest(body: bytes) -> str:
    """Base32 SHA-1 of the payload: the ``digest`` of both indexes and WARC-Payload-Digest."""
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def timestamp14(moment: datetime) -> str:
    """The 14-digit ``yyyyMMddhhmmss`` timestamp of the indexes and of Wayback URLs."""
    return _utc(moment).strftime("%Y%m%d%H%M%S")


def _ts_datetime(ts: str) -> datetime:
    """A 1-14 digit timestamp as an instant, padded down; warcio clamps impossible values
    (month 13, February 31) the way the real servers do."""
    moment: datetime = timestamp_to_datetime(ts + PAD_FROM[len(ts) :])
    return moment.replace(tzinfo=UTC)


class _BadRequest(Exception):
    """A query the real server would refuse; carries the reply to send."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _pad(value: str | None, pad: str, name: str, error: Callable[[str], _Reply]) -> str | None:
    if value is None or value == "":
        return None
    if not re.fullmatch(r"\d{1,14}", value):
        raise _BadRequest(error(f"Invalid {name}= timestamp: {value!r} (1-14 digits expected)"))
    return value + pad[len(value) :]


def _url_matcher(
    url: str, match_type: str | None, error: Callable[[str], _Reply]
) -> tuple[Callable[[str], bool], str]:
    """(predicate on urlkeys, the url as the server reports it) for a url= / matchType= pair.

    Follows pywb's ``calc_search_range`` (the wayback-cdx-server does the same): a leading
    ``*.`` means domain, a trailing ``*`` prefix; prefix keeps the trailing slash of the url;
    host is everything under ``host)``, domain also every subdomain (``host,``).
    """
    if not match_type:
        if url.startswith("*."):
            url, match_type = url[2:], "domain"
        elif url.endswith("*"):
            url, match_type = url[:-1], "prefix"
        else:
            match_type = "exact"
    key = surt(url)
    if match_type == "exact":
        return (lambda k: k == key), url
    if match_type == "prefix":
        if url.endswith("/") and not key.endswith("/"):
            key += "/"
        elif url.endswith("?") and not key.endswith("?"):
            key += "?"
        return (lambda k: k.startswith(key)), url
    host = key.split(")", 1)[0]
    if match_type == "host":
        return (lambda k: k.startswith(host + ")")), url
    if match_type == "domain":
        return (lambda k: k.startswith((host + ")", host + ","))), url
    raise _BadRequest(error(f"Invalid matchType: {match_type}"))


def _http_status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _warc_member(capture: ArchivedCapture, record_id: str, warcinfo_id: str = "") -> bytes:
    """One gzip member holding one WARC response record (HTTP headers + body), as CC stores it.

    The archived headers get the body's real Content-Length (CC does the same after decoding
    the transfer, see the corpus record) and a Content-Type from ``mimetype`` when absent.
    """
    headers = [
        (name, value)
        for name, value in capture.headers.items()
        if name.lower() not in ("content-length", "transfer-encoding")
    ]
    if capture.header("Content-Type") is None:
        headers.append(("Content-Type", capture.mimetype))
    headers.append(("Content-Length", str(len(capture.body))))
    http_headers = StatusAndHeaders(_http_status_line(capture.status), headers, protocol="HTTP/1.1")
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    record = writer.create_warc_record(
        capture.url,
        "response",
        payload=io.BytesIO(capture.body),
        length=len(capture.body),
        http_headers=http_headers,
        # In the order CC writes them (see the corpus record); warcio appends the digests.
        warc_headers_dict={
            "WARC-Type": "response",
            "WARC-Date": _utc(capture.captured_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "WARC-Record-ID": record_id,
            **({"WARC-Warcinfo-ID": warcinfo_id} if warcinfo_id else {}),
            "WARC-Target-URI": capture.url,
            "WARC-Identified-Payload-Type": capture.mimetype,
        },
    )
    writer.write_record(record)
    return out.getvalue()


def _warcinfo_member(filename: str, crawl_id: str, created: datetime) -> bytes:
    """The warcinfo record every real CC WARC file starts with (so no record sits at offset 0)."""
    info = (
        f"isPartOf: {crawl_id}\r\nformat: WARC File Format 1.0\r\n"
        "software: newsdesk tests/flows/archive_servers.py\r\n"
    ).encode()
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    record = writer.create_warc_record(
        "",
        "warcinfo",
        payload=io.BytesIO(info),
        length=len(info),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Date": _utc(created).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "WARC-Record-ID": _warcinfo_id(filename),
            "WARC-Filename": filename,
        },
    )
    writer.write_record(record)
    return out.getvalue()


def _warcinfo_id(filename: str) -> str:
    return _record_id("warcinfo", filename)


def _record_id(*parts: object) -> str:
    # Deterministic ids keep record lengths (hence index lines) identical from run to run.
    name = " ".join(str(p) for p in parts)
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}>"


def _charset(capture: ArchivedCapture) -> str:
    content_type = capture.header("Content-Type") or ""
    found = re.search(r"charset=([\w.:-]+)", content_type, re.I)
    return found.group(1).upper() if found else "UTF-8"


# --- the HTTP plumbing -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    compressible: bool = False  # the real CDX/index servers gzip these when the client accepts


@dataclass
class _Fault:
    prefix: str
    status: int
    body: bytes
    headers: dict[str, str]
    remaining: int


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        app = self.server.app
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = app.handle(self.path, headers)
        except Exception as exc:  # a bug in the mock: answer 500 and keep it for the test
            app.errors.append(f"{self.path}: {exc!r}")
            reply = _Reply(
                500, f"archive mock error: {exc!r}".encode(), {"Content-Type": "text/plain"}
            )
        body = reply.body
        out_headers = dict(reply.headers)
        if reply.compressible and app.gzip and "gzip" in headers.get("accept-encoding", ""):
            body = gzip.compress(body, mtime=0)
            out_headers["Content-Encoding"] = "gzip"
        self.send_response(reply.status)
        for name, value in out_headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: _ArchiveServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-answer (a timeout, a size cap) is normal here: say nothing.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _ArchiveServer:
    """What both archives share: the listener, the request log and the fault queue."""

    def __init__(self, *, gzip: bool) -> None:
        self.gzip = gzip
        self.requests: list[str] = []  # every request's path+query, in arrival order
        self.request_headers: list[dict[str, str]] = []  # lower-cased, parallel to requests
        self.errors: list[str] = []  # exceptions inside the mock (each also answered 500)
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.app = self
        self.port: int = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for it, and tests start many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever on a server never started
            self._server.shutdown()
        self._server.server_close()

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests whose path+query starts with ``path_prefix`` with
        this status instead (e.g. 429 + Retry-After, 503, 404); then answer normally again.
        Faults queue up in the order given."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, status, body, dict(headers or {}), times))

    def handle(self, target: str, headers: dict[str, str]) -> _Reply:
        with self._lock:
            self.requests.append(target)
            self.request_headers.append(headers)
            for fault in self._faults:
                if fault.remaining > 0 and target.startswith(fault.prefix):
                    fault.remaining -= 1
                    return _Reply(fault.status, fault.body, fault.headers)
        path, _, query = target.partition("?")
        params = parse_qs(query, keep_blank_values=True)
        try:
            return self._route(target, path, params, headers)
        except _BadRequest as bad:
            return bad.reply

    def _route(
        self, target: str, path: str, params: dict[str, list[str]], headers: dict[str, str]
    ) -> _Reply:
        """Answer one request; ``target`` is the raw path+query, the rest is it parsed."""
        raise NotImplementedError


def _first(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _int_param(
    params: dict[str, list[str]], name: str, error: Callable[[str], _Reply]
) -> int | None:
    value = _first(params, name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise _BadRequest(error(f"Invalid {name}: {value!r}")) from None


# --- the Wayback Machine ---------------------------------------------------------------------


@dataclass(frozen=True)
class _CdxRow:
    capture: ArchivedCapture
    fields: dict[str, str]  # the seven CDX_FIELDS, all strings
    moment: datetime

    @property
    def line_key(self) -> str:
        # The real index is a sorted text file of "urlkey timestamp original ..." lines; the
        # resume key is compared against this prefix.
        f = self.fields
        return f"{f['urlkey']} {f['timestamp']} {f['original']}"


def _cdx_error(message: str) -> _Reply:
    return _Reply(400, (message + "\n").encode(), {"Content-Type": "text/plain"})


_WEB_PATH = re.compile(r"^/web/(?:(\d{1,14})([a-z]{2}_)?/)?(.+)$", re.S)


class WaybackServer(_ArchiveServer):
    """web.archive.org on loopback: the CDX API and the capture replay, from ``captures``.

    ``page_size`` plays the server's own cap on rows per answer: with it set, an answer holds at
    most that many rows and, with ``showResumeKey=true``, ends with ``[]`` and ``[resumeKey]``
    when more remain, exactly where the real server puts them.
    """

    def __init__(
        self,
        captures: Sequence[ArchivedCapture],
        *,
        page_size: int | None = None,
        gzip: bool = True,
    ) -> None:
        super().__init__(gzip=gzip)
        self.captures = tuple(captures)
        self.page_size = page_size
        rows = []
        for index, capture in enumerate(self.captures):
            member = _warc_member(capture, _record_id("wayback", index, capture.url))
            fields = {
                "urlkey": capture.urlkey,
                "timestamp": capture.timestamp,
                "original": capture.url,
                "mimetype": capture.mimetype,
                "statuscode": str(capture.status),
                "digest": capture.digest,
                "length": str(len(member)),  # the real one is the compressed record's size too
            }
            rows.append(_CdxRow(capture, fields, _utc(capture.captured_at)))
        self._rows = sorted(rows, key=lambda r: r.line_key)
        self.cdx_url = self.base + "/cdx/search/cdx"
        self.web_url = self.base + "/web"

    def _route(
        self, target: str, path: str, params: dict[str, list[str]], headers: dict[str, str]
    ) -> _Reply:
        if path == "/cdx/search/cdx":
            return self._cdx(params)
        if path.startswith("/web/"):
            # The archived URL is everything after the timestamp, its own query included, so
            # work on the raw target rather than on the parsed path.
            return self._web(target)
        return _Reply(404, b"Not found\n", {"Content-Type": "text/plain"})

    # GET /cdx/search/cdx
    def _cdx(self, params: dict[str, list[str]]) -> _Reply:
        url = _first(params, "url")
        if not url:
            return _cdx_error("Request must include a url= parameter")
        matches, _ = _url_matcher(url, _first(params, "matchType"), _cdx_error)
        fields = list(CDX_FIELDS)
        fl = _first(params, "fl")
        if fl:
            fields = [name.strip() for name in fl.split(",") if name.strip()]
            unknown = [name for name in fields if name not in CDX_FIELDS]
            if unknown:
                return _cdx_error(f"Invalid field(s) in fl=: {','.join(unknown)}")
        start = _pad(_first(params, "from"), PAD_FROM, "from", _cdx_error)
        end = _pad(_first(params, "to"), PAD_TO, "to", _cdx_error)
        filters = [_ia_filter(spec) for spec in params.get("filter", []) if spec]
        collapses = [_ia_collapse(spec) for spec in params.get("collapse", []) if spec]
        limit = _int_param(params, "limit", _cdx_error)
        offset = _int_param(params, "offset", _cdx_error) or 0
        show_resume = (_first(params, "showResumeKey") or "").lower() == "true"
        resume_after = _decode_resume_key(_first(params, "resumeKey"))

        candidates = [
            row
            for row in self._rows
            if matches(row.fields["urlkey"])
            and (start is None or row.fields["timestamp"] >= start)
            and (end is None or row.fields["timestamp"] <= end)
            and (resume_after is None or row.line_key + " " > resume_after)
        ]
        # Emittable rows, with their position among the candidates (for the resume key).
        emittable: list[tuple[int, _CdxRow]] = []
        last: list[str | None] = [None] * len(collapses)
        for position, row in enumerate(candidates):
            if not all(keep(row.fields) for keep in filters):
                continue
            tokens = [row.fields[name][:width] for name, width in collapses]
            if any(token == previous for token, previous in zip(tokens, last, strict=True)):
                continue
            last = list(tokens)
            emittable.append((position, row))
        emittable = emittable[offset:]

        resume_key: str | None = None
        if limit is not None and limit < 0:
            chosen = emittable[limit:]
        else:
            cap = len(emittable)
            if limit:
                cap = min(cap, limit)
            if self.page_size is not None:
                cap = min(cap, self.page_size)
            chosen = emittable[:cap]
            if cap < len(emittable):
                # Resume right after the last row examined before the first row not sent.
                next_position = emittable[cap][0]
                resume_key = quote_plus(candidates[next_position - 1].line_key + "!")
        values = [[row.fields[name] for name in fields] for _, row in chosen]

        if _first(params, "output") == "json":
            # Zero captures -> "[]": not in the recordings (FORMATS.md says so), from memory of
            # the real server.
            rows: list[list[str]] = [fields, *values] if values else []
            if show_resume and resume_key is not None:
                rows += [[], [resume_key]]
            text = "[" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in rows) + "]\n"
            return _Reply(200, text.encode(), {"Content-Type": "application/json"}, True)
        lines = [" ".join(v) for v in values]
        if show_resume and resume_key is not None:
            lines += ["", resume_key]
        # Zero captures -> empty body: not verified against the real server either.
        text = "".join(line + "\n" for line in lines)
        return _Reply(200, text.encode(), {"Content-Type": "text/plain"}, True)

    # GET /web/<ts>[flags]/<url>
    def _web(self, target: str) -> _Reply:
        found = _WEB_PATH.match(target)
        if found is None:
            return _Reply(404, b"Not found\n", {"Content-Type": "text/plain"})
        ts, flags, url = found.group(1), found.group(2) or "", found.group(3)
        if re.match(r"(?i)https?%3A", url):
            url = unquote(url)
        url = re.sub(r"^(https?):/(?!/)", r"\1://", url)  # a client or proxy merged the "//"
        key = surt(url)
        captures = [row for row in self._rows if row.fields["urlkey"] == key]
        if not captures:
            body = b"<html><body><p>Wayback Machine has not archived that URL.</p></body></html>"
            return _Reply(404, body, {"Content-Type": "text/html; charset=utf-8"})
        if ts is not None and len(ts) == 14:
            exact = [row for row in captures if row.fields["timestamp"] == ts]
            if exact:
                same_url = [row for row in exact if row.capture.url == url]
                return self._replay((same_url or exact)[0], raw=flags == "id_")
        # Like the real Wayback: 302 to the closest capture (no timestamp: the latest).
        wanted = _ts_datetime(ts) if ts else datetime.max.replace(tzinfo=UTC)
        closest = min(captures, key=lambda row: (abs(row.moment - wanted), row.line_key))
        location = f"/web/{closest.fields['timestamp']}{flags}/{closest.capture.url}"
        return _Reply(302, b"", {"Location": location, "Content-Type": "text/plain"})

    def _replay(self, row: _CdxRow, *, raw: bool) -> _Reply:
        capture = row.capture
        headers = {
            name: value
            for name, value in capture.headers.items()
            if name.lower() not in ("content-length", "transfer-encoding", "connection")
        }
        if capture.header("Content-Type") is None:
            headers["Content-Type"] = capture.mimetype
        headers["Memento-Datetime"] = format_datetime(row.moment, usegmt=True)
        body = capture.body if raw else self._decorate(capture.body, row.fields["timestamp"])
        return _Reply(capture.status, body, headers)

    def _decorate(self, body: bytes, ts: str) -> bytes:
        """What the non-raw replay does to a capture: every absolute link points back into the
        archive and a toolbar follows <body> (or leads the document when there is none, which
        also breaks a feed, as the real rewriting does)."""
        prefix = f"{self.base}/web/{ts}/".encode()
        body = re.sub(rb"https?://[^\s\"'<>]+", lambda m: prefix + m.group(0), body)
        tag = re.search(rb"<body[^>]*>", body, re.I)
        at = tag.end() if tag else 0
        return body[:at] + TOOLBAR + body[at:]


def _ia_filter(spec: str) -> Callable[[dict[str, str]], bool]:
    """``[~][!]field:regex`` like the wayback-cdx-server's FieldRegexFilter: the regex must match
    the whole value (Java ``matches()``), ``~`` means "contains", ``!`` inverts, and without a
    field the pattern applies to the whole line."""
    contains = spec.startswith("~")
    if contains:
        spec = spec[1:]
    invert = spec.startswith("!")
    if invert:
        spec = spec[1:]
    name, sep, pattern = spec.partition(":")
    if not sep:
        name, pattern = "", spec
    elif name not in CDX_FIELDS:
        raise _BadRequest(_cdx_error(f"Invalid filter field: {name}"))
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise _BadRequest(_cdx_error(f"Invalid filter regex: {exc}")) from None

    def keep(fields: dict[str, str]) -> bool:
        value = fields[name] if name else " ".join(fields[f] for f in CDX_FIELDS)
        matched = pattern in value if contains else regex.fullmatch(value) is not None
        return matched != invert

    return keep


def _ia_collapse(spec: str) -> tuple[str, int | None]:
    """``field[:N]``: drop a row when the first N characters of the field equal the previous
    kept row's (adjacent rows only, as the real server does)."""
    name, _, width = spec.partition(":")
    if name not in CDX_FIELDS or (width and not width.isdigit()):
        raise _BadRequest(_cdx_error(f"Invalid collapse: {spec}"))
    return name, int(width) if width else None


def _decode_resume_key(value: str | None) -> str | None:
    """The key is sent URL-encoded; accept it once or twice decoded (clients differ)."""
    if not value:
        return None
    return value if " " in value else unquote_plus(value)


# --- Common Crawl ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _CcRow:
    capture: ArchivedCapture
    line: dict[str, str]  # the index object, keys in the real order

    @property
    def sort_key(self) -> str:
        return f"{self.line['urlkey']} {self.line['timestamp']} {self.line['url']}"


def _cc_error(status: int, message: str) -> _Reply:
    body = json.dumps({"message": message}).encode()
    return _Reply(status, body, {"Content-Type": "application/json; charset=utf-8"}, True)


def _cc_bad(message: str) -> _Reply:
    return _cc_error(400, message)


# pywb's alternative field names (CDXObject.CDX_ALT_FIELDS), so both spellings filter.
_CC_ALIASES = {"statuscode": "status", "mimetype": "mime", "original": "url"}


def _cc_filter(spec: str) -> Callable[[dict[str, str]], bool]:
    """pywb's CDXFilter: ``!`` inverts, then ``=`` exact, ``~`` regex from the start of the
    value, and no prefix means "contains" (so ``status:200`` is a substring test)."""
    invert = spec.startswith("!")
    if invert:
        spec = spec[1:]
    mode = "contains"
    if spec.startswith("="):
        mode, spec = "exact", spec[1:]
    elif spec.startswith("~"):
        mode, spec = "regex", spec[1:]
    name, sep, pattern = spec.partition(":")
    if not sep:
        name, pattern = "", spec
    name = _CC_ALIASES.get(name, name)
    try:
        regex = re.compile(pattern) if mode == "regex" else None
    except re.error as exc:
        raise _BadRequest(_cc_bad(f"Invalid filter regex: {exc}")) from None

    def keep(line: dict[str, str]) -> bool:
        value = line.get(name, "") if name else json.dumps(line)
        if regex is not None:
            matched = regex.match(value) is not None
        elif mode == "exact":
            matched = value == pattern
        else:
            matched = pattern in value
        return matched != invert

    return keep


@dataclass(frozen=True)
class _Crawl:
    id: str
    start: datetime
    end: datetime


class CommonCrawlServer(_ArchiveServer):
    """index.commoncrawl.org and data.commoncrawl.org on one loopback port.

    ``crawls`` are ``(id, from, to)``; a capture belongs to the first crawl whose window holds
    its ``captured_at`` (captures outside every window are left out, listed in ``uncrawled``,
    so one capture list can feed both archives). Each crawl's captures are written at start-up
    into real .warc.gz files (status 200 under ``warc/``, the rest under ``crawldiagnostics/``,
    like CC), one gzip member per record after a warcinfo record; the index lines' offset and
    length point at exactly one member. ``files`` maps filename -> bytes.

    ``page_size`` is the index lines per page. showNumPages answers
    ``{"pages": P, "pageSize": page_size, "blocks": P}``; the real server counts ZipNum blocks
    of ~3000 lines with 5 blocks a page, which a client only sees through ``pages``.
    """

    def __init__(
        self,
        crawls: Sequence[tuple[str, datetime, datetime]],
        captures: Sequence[ArchivedCapture],
        *,
        page_size: int = 1000,
        gzip: bool = True,
    ) -> None:
        super().__init__(gzip=gzip)
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.crawls = sorted(
            (_Crawl(cid, _utc(start), _utc(end)) for cid, start, end in crawls),
            key=lambda c: c.start,
            reverse=True,  # collinfo.json lists the newest crawl first
        )
        self.captures = tuple(captures)
        members: dict[str, list[ArchivedCapture]] = {c.id: [] for c in self.crawls}
        uncrawled = []
        for capture in self.captures:
            moment = _utc(capture.captured_at)
            home = next((c for c in self.crawls if c.start <= moment <= c.end), None)
            if home is None:
                uncrawled.append(capture)
            else:
                members[home.id].append(capture)
        self.uncrawled = tuple(uncrawled)
        self.files: dict[str, bytes] = {}
        self._index: dict[str, list[_CcRow]] = {}
        for crawl in self.crawls:
            self._index[crawl.id] = self._write_crawl(crawl, members[crawl.id])
        self.collinfo_url = self.base + "/collinfo.json"
        self.data_url = self.base

    def _write_crawl(self, crawl: _Crawl, captures: list[ArchivedCapture]) -> list[_CcRow]:
        segment = f"{int(crawl.start.timestamp() * 1000)}.00"
        stem = f"CC-MAIN-{crawl.start:%Y%m%d%H%M%S}-{crawl.end:%Y%m%d%H%M%S}-00000.warc.gz"
        rows: list[_CcRow] = []
        ordered = sorted(captures, key=lambda c: _utc(c.captured_at))
        for subset in ("warc", "crawldiagnostics"):
            chosen = [c for c in ordered if (c.status == 200) == (subset == "warc")]
            if not chosen:
                continue
            filename = f"crawl-data/{crawl.id}/segments/{segment}/{subset}/{stem}"
            data = io.BytesIO()
            data.write(_warcinfo_member(filename, crawl.id, crawl.start))
            for number, capture in enumerate(chosen):
                offset = data.tell()
                record_id = _record_id(filename, number, capture.url)
                data.write(_warc_member(capture, record_id, _warcinfo_id(filename)))
                line = {
                    "urlkey": capture.urlkey,
                    "timestamp": capture.timestamp,
                    "url": capture.url,
                    "mime": capture.mimetype,
                    "mime-detected": capture.mimetype,
                    "status": str(capture.status),
                    "digest": capture.digest,
                    "length": str(data.tell() - offset),
                    "offset": str(offset),
                    "filename": filename,
                }
                location = capture.header("Location")
                if 300 <= capture.status < 400 and location:
                    line["redirect"] = location
                elif capture.status == 200:
                    line["languages"] = "eng"
                    line["encoding"] = _charset(capture)
                rows.append(_CcRow(capture, line))
            self.files[filename] = data.getvalue()
        return sorted(rows, key=lambda r: r.sort_key)

    def index_lines(self, crawl_id: str) -> list[dict[str, str]]:
        """Every index line of a crawl, sorted like the real index (for test assertions)."""
        return [dict(row.line) for row in self._index[crawl_id]]

    def _route(
        self, target: str, path: str, params: dict[str, list[str]], headers: dict[str, str]
    ) -> _Reply:
        if path == "/collinfo.json":
            return self._collinfo()
        if path.endswith("-index") and path.count("/") == 1:
            return self._query(path[1 : -len("-index")], params)
        return self._data(path.lstrip("/"), headers)

    def _collinfo(self) -> _Reply:
        entries = [
            {
                "id": crawl.id,
                "name": f"{crawl.start:%B %Y} Index",
                "timegate": f"{self.base}/{crawl.id}/",
                "cdx-api": f"{self.base}/{crawl.id}-index",
                "from": crawl.start.strftime("%Y-%m-%dT%H:%M:%S"),
                "to": crawl.end.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            for crawl in self.crawls
        ]
        body = (json.dumps(entries, indent=2) + "\n").encode()
        return _Reply(200, body, {"Content-Type": "application/json"}, True)

    # GET /<crawl>-index
    def _query(self, crawl_id: str, params: dict[str, list[str]]) -> _Reply:
        if crawl_id not in self._index:
            return _cc_error(404, f"No such collection: {crawl_id}")
        url = _first(params, "url")
        if not url:
            return _cc_bad("A url= param must be specified to query the cdx server")
        matches, shown_url = _url_matcher(url, _first(params, "matchType"), _cc_bad)
        rows = [row for row in self._index[crawl_id] if matches(row.line["urlkey"])]
        # Pages cut the url range before from/to and filters, as ZipNum pages do.
        pages = math.ceil(len(rows) / self.page_size)
        if (_first(params, "showNumPages") or "").lower() == "true":
            info = {"pages": pages, "pageSize": self.page_size, "blocks": pages}
            return _Reply(200, json.dumps(info).encode(), {"Content-Type": "text/x-cdxj"})
        page = _int_param(params, "page", _cc_bad) or 0
        last_page = max(pages, 1) - 1  # an empty range still has page 0 (cc-index-400 recording)
        if page < 0 or page > last_page:
            return _cc_bad(f"Page {page} invalid: First Page is 0, Last Page is {last_page}")
        rows = rows[page * self.page_size : (page + 1) * self.page_size]
        start = _pad(_first(params, "from"), PAD_FROM, "from", _cc_bad)
        end = _pad(_first(params, "to"), PAD_TO, "to", _cc_bad)
        filters = [_cc_filter(spec) for spec in params.get("filter", []) if spec]
        lines = [
            row.line
            for row in rows
            if (start is None or row.line["timestamp"] >= start)
            and (end is None or row.line["timestamp"] <= end)
            and all(keep(row.line) for keep in filters)
        ]
        limit = _int_param(params, "limit", _cc_bad)
        if limit is not None and limit > 0:
            lines = lines[:limit]
        if not lines:
            return _cc_error(404, f"No Captures found for: {shown_url}")
        fl = _first(params, "fl")
        if fl:
            wanted = [name.strip() for name in fl.split(",")]
            lines = [{k: line[k] for k in wanted if k in line} for line in lines]
        if _first(params, "output") == "json":
            text = "".join(json.dumps(line) + "\n" for line in lines)
            return _Reply(200, text.encode(), {"Content-Type": "text/x-ndjson"}, True)
        # pywb's default cdxj: "urlkey timestamp {json of the rest}".
        text = "".join(
            f"{line.get('urlkey', '')} {line.get('timestamp', '')} "
            + json.dumps({k: v for k, v in line.items() if k not in ("urlkey", "timestamp")})
            + "\n"
            for line in lines
        )
        return _Reply(200, text.encode(), {"Content-Type": "text/x-cdxj"}, True)

    # GET /<filename> (data.commoncrawl.org)
    def _data(self, name: str, headers: dict[str, str]) -> _Reply:
        data = self.files.get(name)
        if data is None:
            body = b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>"
            return _Reply(404, body, {"Content-Type": "application/xml"})
        common = {
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
            "ETag": '"' + hashlib.md5(data).hexdigest() + '"',
            "Last-Modified": "Sun, 03 Aug 2025 02:08:09 GMT",
        }
        spec = headers.get("range")
        if spec is None:
            return _Reply(200, data, common)
        size = len(data)
        unsatisfiable = _Reply(416, b"", {"Content-Range": f"bytes */{size}"})
        found = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", spec)
        if found is None or found.group(1) == found.group(2) == "":
            return unsatisfiable
        first_text, last_text = found.groups()
        if first_text == "":  # suffix range: the last N bytes
            count = int(last_text)
            if count == 0:
                return unsatisfiable
            first, last = max(0, size - count), size - 1
        else:
            first = int(first_text)
            last = int(last_text) if last_text else size - 1
            if first > last or first >= size:
                return unsatisfiable
            last = min(last, size - 1)
        return _Reply(
            206,
            data[first : last + 1],
            {**common, "Content-Range": f"bytes {first}-{last}/{size}"},
        )
