"""Raw captures: every HTTP response newsdesk receives, kept as WARC 1.1 ``response`` records.

Layout: ``<captures root>/newsdesk-<UTC yyyymmddThhmmssZ>-<seq>-<pid>.warc.gz``, where the root
is ``Settings.captures_dir`` or, by default, ``captures/`` next to the warehouse file (see
:func:`captures_root`). Each file starts with a ``warcinfo`` record and holds one gzip member
per record, so a record can be read by seeking to its offset. A file is closed once it reaches
``Settings.capture_rotate_bytes``; the next record opens a new one (the sequence number counts
a writer's files, the pid keeps processes sharing the folder apart).

A :class:`CaptureRef` names a record by ``path`` *relative to the captures root* (the data
folder can move as a whole) and the byte ``offset`` of its gzip member; ``length`` is the
member's size. ``fetches.warc_path`` / ``fetches.warc_offset`` store the first two.

What a record holds, and how it differs from the bytes on the wire:

* ``WARC-Target-URI`` is the URL that answered (after redirects), ``WARC-Date`` the time the
  request started (``HttpResult.requested_at``); ``WARC-Newsdesk-*`` fields add the requested
  URL, the redirect hops, the kind of fetch (feed, page, robots, sitemap) and any error.
* The payload is the body *decoded* by :class:`flows.http.Fetcher` (Content-Encoding undone),
  so the HTTP block has no ``Content-Encoding`` and a ``Content-Length`` equal to the stored
  body; ``WARC-Newsdesk-Payload: decoded`` says so and ``WARC-Newsdesk-Content-Encoding`` keeps
  the encoding the server used.
* Only the headers the Fetcher keeps are stored (content-type, validators, caching, location,
  retry-after), not the full set the server sent.
* A body the Fetcher stopped reading (too large, too slow, undecodable) is stored empty with
  ``WARC-Truncated``. Results without any HTTP response (DNS, connect, robots refusals ...) are
  not written at all.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO

from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.warcwriter import WARCWriter

from flows.http import HttpResult
from flows.settings import VERSION, Settings

__all__ = [
    "DEFAULT_ROTATE_BYTES",
    "Capture",
    "CaptureDamaged",
    "CaptureError",
    "CaptureMissing",
    "CaptureRef",
    "CaptureWriteError",
    "CaptureWriter",
    "captures_root",
    "iter_captures",
    "read_capture",
]

DEFAULT_ROTATE_BYTES = 100_000_000
SUFFIX = ".warc.gz"
# ISA-L's level 1 (of 0-3): 4.4x faster than zlib's level 1 on the corpus pages and 2 % smaller;
# zlib's level 1 was already 2.6x faster than its 6 (warcio itself uses 9).
_GZIP_LEVEL = 1
_HTTP_PROTOCOL = "HTTP/1.1"  # the Fetcher does not enable HTTP/2, so every answer was HTTP/1.x
# Why a body is incomplete, as WARC-Truncated values (WARC 1.1 section 5.13).
_TRUNCATED = {"too_large": "length", "timeout": "time"}
_HEADER_NAMES = {"etag": "ETag"}  # canonical spellings .title() gets wrong


class CaptureError(Exception):
    """A capture could not be written or read."""


class CaptureWriteError(CaptureError):
    """Writing a record failed (disk full, permissions ...); the fetch itself is unaffected."""


class CaptureMissing(CaptureError):
    """The WARC file a reference points at does not exist (moved, deleted, wrong root)."""


class CaptureDamaged(CaptureError):
    """No intact response record at the offset: the file is truncated or the offset is wrong."""


@dataclass(frozen=True, slots=True)
class CaptureRef:
    path: str  # the file's name relative to the captures root: the data folder can move
    offset: int  # of the record's gzip member in the file
    length: int  # bytes of that gzip member


@dataclass(frozen=True, slots=True)
class Capture:
    """One stored response, as :func:`read_capture` gives it back.

    ``headers`` round-trips ``HttpResult.headers`` (lower-case names, the original
    ``content-encoding`` restored, the recomputed Content-Length left out);
    ``stored_headers`` is the HTTP header block exactly as the record holds it.
    """

    url: str  # WARC-Target-URI: the URL that answered, after redirects
    status: int
    headers: dict[str, str]
    body: bytes  # decoded payload, as HttpResult.body
    date: datetime  # WARC-Date = HttpResult.requested_at (UTC)
    status_line: str  # "HTTP/1.1 200 OK"
    stored_headers: tuple[tuple[str, str], ...]
    requested_url: str | None = None
    kind: str | None = None
    redirects: str | None = None  # "301 https://…; 308 https://…", as fetches.redirects
    error_class: str | None = None
    truncated: str | None = None  # WARC-Truncated: length | time | unspecified
    record_id: str | None = None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def captures_root(db: str | Path, captures_dir: Path | None = None) -> Path:
    """Where captures live: ``captures_dir`` when set, else ``captures/`` beside the warehouse
    file. A DuckLake has no folder beside it: there ``captures_dir`` must be given."""
    if captures_dir is not None:
        return Path(captures_dir)
    if str(db).startswith("ducklake:"):
        raise ValueError(
            "a DuckLake warehouse keeps no captures beside it: set NEWSDESK_CAPTURES_DIR "
            "(a path every worker can reach, so `newsdesk capture` and reextract read them all)"
        )
    return Path(db).parent / "captures"


def _field(value: str) -> str:
    # Header values must stay on one line; error texts may carry newlines.
    return " ".join(value.split())


def _truncation(result: HttpResult) -> str | None:
    """The WARC-Truncated value when the Fetcher did not keep the whole body, else None."""
    error_class = result.error_class
    if error_class is None or error_class.startswith("http_"):
        return None  # complete, including 4xx/5xx bodies
    if error_class in _TRUNCATED:
        return _TRUNCATED[error_class]
    if error_class == "protocol" and result.status is not None and 300 <= result.status < 400:
        return None  # a 3xx without a usable Location: its body was read in full
    # Redirect loops and limits (the last hop's body is never read), decoding failures.
    return "unspecified"


def _header_name(name: str) -> str:
    return _HEADER_NAMES.get(name, name.title())


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)  # non-standard code: no reason phrase to give


def _record_bytes(result: HttpResult, kind: str) -> bytes:
    """One WARC response record for ``result``, as a complete gzip member."""
    assert result.status is not None
    body = result.body
    http_headers = [
        (_header_name(name), value)
        for name, value in result.headers.items()
        if name not in ("content-encoding", "content-length")
    ]
    # The body is stored decoded: announcing the server's Content-Encoding would make readers
    # decode it twice, and its wire Content-Length would not match the stored bytes.
    http_headers.append(("Content-Length", str(len(body))))
    requested = result.requested_at.astimezone(UTC).replace(tzinfo=None)
    warc_fields: dict[str, str] = {
        "WARC-Date": datetime_to_iso_date(requested, use_micros=True),
        "WARC-Newsdesk-Kind": kind,
        "WARC-Newsdesk-Requested-URI": result.url,
        "WARC-Newsdesk-Elapsed-Ms": str(result.elapsed_ms),
        "WARC-Newsdesk-Payload": "decoded",
    }
    encoding = result.headers.get("content-encoding")
    if encoding:
        warc_fields["WARC-Newsdesk-Content-Encoding"] = _field(encoding)
    if result.redirects:
        hops = "; ".join(f"{status} {to}" for status, to in result.redirects)
        warc_fields["WARC-Newsdesk-Redirects"] = _field(hops)
    if result.error_class:
        warc_fields["WARC-Newsdesk-Error-Class"] = result.error_class
        if result.error:
            warc_fields["WARC-Newsdesk-Error"] = _field(result.error)
    truncated = _truncation(result)
    if truncated:
        warc_fields["WARC-Truncated"] = truncated
    raw = io.BytesIO()
    # warcio writes the plain record; the gzip member is made here (see _GZIP_LEVEL).
    writer = WARCWriter(raw, gzip=False, warc_version="1.1")
    record = writer.create_warc_record(
        result.final_url or result.url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        warc_headers_dict=warc_fields,
        http_headers=StatusAndHeaders(
            _status_line(result.status), http_headers, protocol=_HTTP_PROTOCOL
        ),
    )
    writer.write_record(record)
    return _gzip_member(raw.getvalue())


def _gzip_member(data: bytes) -> bytes:
    compressor = isal_zlib.compressobj(_GZIP_LEVEL, isal_zlib.DEFLATED, isal_zlib.MAX_WBITS | 16)
    member: bytes = compressor.compress(data) + compressor.flush()
    return member


def _warcinfo_bytes(filename: str) -> bytes:
    raw = io.BytesIO()
    writer = WARCWriter(raw, gzip=False, warc_version="1.1")
    info = {
        "software": f"newsdesk/{VERSION}",
        "format": "WARC File Format 1.1",
        "description": (
            "HTTP responses received by newsdesk. Payloads are stored decoded "
            "(Content-Encoding removed, Content-Length recomputed); only a subset of the "
            "response headers is kept. See WARC-Newsdesk-* fields."
        ),
    }
    writer.write_record(writer.create_warcinfo_record(filename, info))
    return _gzip_member(raw.getvalue())


class CaptureWriter:
    """Appends response records to rotating ``.warc.gz`` files under ``root``.

    One writer per run and process, shared by all task threads: records are serialised and
    compressed in the calling thread, only the append (and rotation) happens under the lock.
    Files are opened lazily, so a run that receives nothing leaves no empty file.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        rotate_bytes: int = DEFAULT_ROTATE_BYTES,
        prefix: str = "newsdesk",
    ) -> None:
        if rotate_bytes <= 0:
            raise ValueError(f"rotate_bytes must be positive, not {rotate_bytes}")
        self.root = Path(root)
        self.rotate_bytes = rotate_bytes
        self.prefix = prefix
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._name: str | None = None
        self._size = 0
        self._sequence = 0
        self._files: list[str] = []

    @classmethod
    def for_warehouse(cls, db: str | Path, settings: Settings) -> CaptureWriter:
        """The writer for a run that loads ``db``, configured from ``settings``."""
        return cls(
            captures_root(db, settings.captures_dir), rotate_bytes=settings.capture_rotate_bytes
        )

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def files(self) -> list[str]:
        """Paths (relative to ``root``) of the files this writer created, in order."""
        with self._lock:
            return list(self._files)

    def write(self, result: HttpResult, kind: str) -> CaptureRef | None:
        """Store ``result``; None when there was no HTTP response to store.

        Raises :class:`CaptureWriteError` when the file cannot be written; the writer then
        starts a new file for the next record, so a damaged tail stays at the end of one file.
        """
        if result.status is None:
            return None
        member = _record_bytes(result, kind)
        with self._lock:
            try:
                file, name = self._open()
                offset = self._size
                file.write(member)
                # Flushed before the reference is handed out: the fetch row naming it may be
                # committed (and read by another process) right after.
                file.flush()
            except OSError as exc:
                self._close_file()
                raise CaptureWriteError(f"cannot write a capture under {self.root}: {exc}") from exc
            self._size += len(member)
            if self._size >= self.rotate_bytes:
                self._close_file()
        return CaptureRef(name, offset, len(member))

    def close(self) -> None:
        with self._lock:
            self._close_file()

    def _open(self) -> tuple[BinaryIO, str]:
        """The current file, opening the next one (with its warcinfo record) when needed."""
        if self._file is not None and self._name is not None:
            return self._file, self._name
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        while True:
            self._sequence += 1
            name = f"{self.prefix}-{stamp}-{self._sequence:05d}-{os.getpid()}{SUFFIX}"
            try:
                # Exclusive create: never append to a file another writer may own.
                file = (self.root / name).open("xb")
            except FileExistsError:
                continue
            break
        # Held before the first write, so a failing write still gets the file closed.
        self._file, self._name, self._size = file, name, 0
        self._files.append(name)
        info = _warcinfo_bytes(name)
        file.write(info)
        self._size = len(info)
        return file, name

    def _close_file(self) -> None:
        file, self._file, self._name = self._file, None, None
        if file is not None:
            # Every record was flushed when written; a failing close loses nothing more, and
            # after a write error that error is the one worth reporting.
            with contextlib.suppress(OSError):
                file.close()


def _resolve(root: str | Path, path: str | Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else Path(root) / candidate


def _payload_digest(body: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _to_capture(record: Any, where: str) -> Capture:
    """A :class:`Capture` from a warcio response record, checked against its own digest."""
    rec = record.rec_headers
    http = record.http_headers
    if http is None:
        raise CaptureDamaged(
            f"{where}: response record without an HTTP header block "
            "(a wrong offset or a damaged file)"
        )
    body = record.raw_stream.read()
    declared = http.get_header("Content-Length")
    digest = rec.get_header("WARC-Payload-Digest")
    # A cut-off gzip member can still decompress to a short, plausible body: the length and
    # digest the writer recorded are what tell a complete record from a truncated one.
    if declared is not None and declared.isdigit() and int(declared) != len(body):
        raise CaptureDamaged(
            f"{where}: body has {len(body)} of {declared} bytes; the file is truncated"
        )
    if digest and digest.startswith("sha1:") and digest != _payload_digest(body):
        raise CaptureDamaged(f"{where}: payload digest mismatch; the record is damaged")
    try:
        status = int(http.get_statuscode())
    except (TypeError, ValueError) as exc:
        raise CaptureDamaged(f"{where}: bad HTTP status line {http.statusline!r}") from exc
    stored = tuple((name, value) for name, value in http.headers)
    headers = {name.lower(): value for name, value in stored if name.lower() != "content-length"}
    encoding = rec.get_header("WARC-Newsdesk-Content-Encoding")
    if encoding:
        headers["content-encoding"] = encoding
    date = iso_date_to_datetime(rec.get_header("WARC-Date")).replace(tzinfo=UTC)
    protocol = f"{http.protocol} " if http.protocol else ""
    return Capture(
        url=rec.get_header("WARC-Target-URI"),
        status=status,
        headers=headers,
        body=body,
        date=date,
        status_line=f"{protocol}{http.statusline}",
        stored_headers=stored,
        requested_url=rec.get_header("WARC-Newsdesk-Requested-URI"),
        kind=rec.get_header("WARC-Newsdesk-Kind"),
        redirects=rec.get_header("WARC-Newsdesk-Redirects"),
        error_class=rec.get_header("WARC-Newsdesk-Error-Class"),
        truncated=rec.get_header("WARC-Truncated"),
        record_id=rec.get_header("WARC-Record-ID"),
    )


def _brief(exc: Exception) -> str:
    # warcio quotes the undecodable "first line" it found: binary noise, often kilobytes of it.
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:80]}{'…' if len(text) > 80 else ''}"


def _next_record(records: Iterator[Any], where: str) -> Any:
    """The next warcio record, or None at the end; damage becomes :class:`CaptureDamaged`."""
    try:
        return next(records, None)
    # warcio is loose with bytes that are not a record: besides its own ArchiveLoadFailed it
    # lets zlib errors, EOFError and even AttributeError (a record without a URI) escape.
    except Exception as exc:
        raise CaptureDamaged(
            f"{where}: no readable WARC record ({_brief(exc)}); a wrong offset or a damaged file"
        ) from exc


def _read_payload(record: Any, where: str) -> Capture:
    try:
        return _to_capture(record, where)
    except (ArchiveLoadFailed, StatusAndHeadersParserException, zlib.error, EOFError) as exc:
        raise CaptureDamaged(f"{where}: unreadable payload ({_brief(exc)}); truncated?") from exc


def read_capture(root: str | Path, path: str | Path, offset: int) -> Capture:
    """Read the one response record at ``offset`` of ``path`` (relative to ``root``).

    Raises :class:`CaptureMissing` when the file is gone and :class:`CaptureDamaged` when no
    intact response record starts at ``offset``.
    """
    file = _resolve(root, path)
    where = f"{file} at offset {offset}"
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise CaptureMissing(
            f"capture file {file} does not exist (moved or deleted? the captures root is "
            f"{root}; set NEWSDESK_CAPTURES_DIR if the files live elsewhere)"
        ) from exc
    except OSError as exc:
        raise CaptureMissing(f"cannot open capture file {file}: {exc}") from exc
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if offset < 0 or offset >= size:
            raise CaptureDamaged(f"{where}: the file has only {size} bytes; truncated?")
        handle.seek(offset)
        iterator = ArchiveIterator(handle)
        try:
            record = _next_record(iter(iterator), where)
            if record is None:
                raise CaptureDamaged(f"{where}: no complete WARC record; the file is truncated")
            if record.rec_type != "response":
                raise CaptureDamaged(f"{where}: a {record.rec_type} record, not a response")
            return _read_payload(record, where)
        finally:
            iterator.close()


def iter_captures(path: str | Path) -> Iterator[tuple[int, Capture]]:
    """Every response record of one WARC file, with its offset, in file order.

    Raises :class:`CaptureMissing` for a missing file and :class:`CaptureDamaged` at the first
    record that cannot be read, or at the end when the last record stops short of the end of
    the file (a cut-off tail); the records before have been yielded by then.
    """
    file = Path(path)
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise CaptureMissing(f"capture file {file} does not exist") from exc
    except OSError as exc:
        raise CaptureMissing(f"cannot open capture file {file}: {exc}") from exc
    with handle:
        size = os.fstat(handle.fileno()).st_size
        end = 0
        iterator = ArchiveIterator(handle)
        records = iter(iterator)
        try:
            while (record := _next_record(records, f"{file} after offset {end}")) is not None:
                capture = None
                if record.rec_type == "response":
                    capture = _read_payload(record, f"{file} after offset {end}")
                offset = iterator.get_record_offset()
                end = offset + iterator.get_record_length()
                if capture is not None:
                    yield offset, capture
        finally:
            iterator.close()
        # warcio ends quietly on a gzip member cut short: what is left over tells.
        if end < size:
            raise CaptureDamaged(
                f"{file}: {size - end} bytes after offset {end} are no complete record; "
                "the file is truncated (or was still being written)"
            )
