"""Web archives as a backfill source: index answers, query URLs, time windows, archived records.

Pure functions over bytes and strings; the fetching is left to the backfill flow. Two indexes:

* the Internet Archive's Wayback CDX server (:func:`wayback_cdx_query`, :func:`parse_wayback_cdx`;
  a capture's bytes come from :func:`wayback_capture_url`), and
* Common Crawl's index server (:func:`parse_collinfo` lists the crawls, :func:`crawls_for_window`
  picks those worth asking, :func:`cc_index_query` / :func:`parse_cc_index` list captures, and a
  ``Range: cc_range(offset, length)`` request on the data server returns one gzip member that
  :func:`parse_warc_member` reads).

Wire formats are described in corpus ``backfill/FORMATS.md``. The index parsers never raise: a
:class:`CdxPage` carries either snapshots or an ``error_class`` the caller records --
``archive_error`` (the server said no: non-2xx) or ``parse_error`` (the answer is not an index
page: HTML error pages served with 200, cut-off JSON ...). "No captures" answers are an empty
page, not an error: most URLs of a window were never archived, and that is not a failure.

Unreadable rows are skipped and counted (``CdxPage.unreadable``). When at least one row was read
the page stands (``error_class`` None, ``error`` says how many rows were lost and why): an index
is a best effort anyway. When every row was unreadable the page is a ``parse_error``.

All datetimes are UTC; a naive datetime passed in is taken as UTC (as elsewhere in newsdesk).
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, urlencode

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

__all__ = [
    "DEFAULT_CDX_FIELDS",
    "MAX_PAYLOAD_BYTES",
    "ArchivedResponse",
    "CdxPage",
    "Chunk",
    "Crawl",
    "Snapshot",
    "cc_index_query",
    "cc_range",
    "chunk_window",
    "crawls_for_window",
    "from_cdx_timestamp",
    "is_html_payload",
    "parse_cc_index",
    "parse_collinfo",
    "parse_warc_member",
    "parse_wayback_cdx",
    "response_from_record",
    "to_cdx_timestamp",
    "wayback_capture_url",
    "wayback_cdx_query",
]

# The Wayback CDX server's fields, in order, when the query names none (``fl=``).
DEFAULT_CDX_FIELDS = (
    "urlkey",
    "timestamp",
    "original",
    "mimetype",
    "statuscode",
    "digest",
    "length",
)
# Cap on the payload kept from one record (raw, and again after Content-Encoding is undone): an
# archive may hold videos and compression bombs; no article page comes near this.
MAX_PAYLOAD_BYTES = 20_000_000
# Cap on a decompressed Common Crawl member: CC truncates payloads far below this.
_MAX_MEMBER_BYTES = 2 * MAX_PAYLOAD_BYTES + 1_000_000

# Index field names of both servers (IA: original, mimetype, statuscode; pywb: url, mime, status)
# to Snapshot attributes.
_FIELD_NAMES = {
    "urlkey": "urlkey",
    "timestamp": "timestamp",
    "original": "url",
    "url": "url",
    "mimetype": "mimetype",
    "mime": "mimetype",
    "mime-detected": "mime_detected",
    "statuscode": "status",
    "status": "status",
    "digest": "digest",
    "length": "length",
    "offset": "offset",
    "filename": "filename",
    "languages": "languages",
    "encoding": "encoding",
    "redirect": "redirect",
}
_MATCH_TYPES = ("exact", "prefix", "host", "domain")
_TIMESTAMP = re.compile(r"\d{4}(?:\d{2}){0,5}")
# The timestamp digits a short CDX timestamp is padded with: month and day 01, time 00:00:00.
_TIMESTAMP_PAD = "00000101000000"
_MESSAGE_CHARS = 200
_NO_CAPTURES = re.compile(r"no captures", re.I)
_PAGE_INVALID = re.compile(r"page \d+ invalid", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_CC_WEEKLY = re.compile(r"CC-MAIN-(\d{4})-(\d{2})")
_CC_YEARS = re.compile(r"CC-MAIN-(\d{4})(?:-(\d{4}))?")
# A weekly crawl id names a week near the crawl, not its dates: in collinfo.json (115 crawls,
# 2008-2025) crawls ran from 21 days before to 61 days after that week's Monday. A crawl without
# dates is assumed to lie in this (wider) range around it.
_ID_WEEK_BEFORE = timedelta(weeks=5)
_ID_WEEK_AFTER = timedelta(weeks=9)

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Content-Types that say nothing about the payload: sniff instead.
_UNCLEAR_TYPES = frozenset(
    {
        "",
        "application/octet-stream",
        "binary/octet-stream",
        "application/unknown",
        "application/x-unknown-content-type",
        "text/plain",
        "text/unknown",
        "unknown",
        "unk",
        "none",
        "no-type",
        "*/*",
    }
)
_SNIFF_BYTES = 1024
_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n\f"
_NO_BODY_STATUSES = (204, 304)
_READ_BLOCK = 65536


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One capture listed by a Wayback CDX server or the Common Crawl index."""

    url: str  # the original URL
    timestamp: str  # yyyyMMddhhmmss exactly as the server gave it (14 digits from both servers)
    captured_at: datetime  # UTC, from timestamp
    mimetype: str | None  # as the archived server declared it
    status: int | None  # None when '-' (revisits, warc records) or missing
    digest: str | None
    length: int | None  # of the archived record (compressed), not of the page
    filename: str | None = None  # Common Crawl: WARC file path under the data server
    offset: int | None = None  # Common Crawl: byte offset of the record's gzip member
    languages: str | None = None
    redirect: str | None = None
    urlkey: str | None = None  # SURT form of the URL: the index's sort key
    mime_detected: str | None = None  # Common Crawl: the type sniffed from the payload
    encoding: str | None = None  # Common Crawl: the charset it detected


@dataclass(frozen=True, slots=True)
class CdxPage:
    """One index answer. Empty without error: nothing archived (or past the last page)."""

    snapshots: tuple[Snapshot, ...] = ()
    resume_key: str | None = None  # Wayback showResumeKey: more results pending; pass it back
    error_class: str | None = None  # None | archive_error | parse_error
    error: str | None = None
    unreadable: int = 0  # rows skipped because they could not be read


@dataclass(frozen=True, slots=True)
class Crawl:
    """One Common Crawl crawl, as ``collinfo.json`` lists it."""

    id: str  # e.g. CC-MAIN-2025-33
    name: str
    cdx_api: str  # index endpoint URL
    start: datetime | None  # collinfo "from": the first capture, UTC
    end: datetime | None  # collinfo "to": the last capture, UTC


@dataclass(frozen=True, slots=True)
class Chunk:
    """A slice of a backfill window; the chunk list is the backfill's resume point."""

    index: int
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive

    @property
    def key(self) -> str:
        """A stable text key, e.g. ``20250804000000-20250811000000``."""
        return f"{to_cdx_timestamp(self.start)}-{to_cdx_timestamp(self.end)}"


@dataclass(frozen=True, slots=True)
class ArchivedResponse:
    """One HTTP response (or resource) read out of a WARC/ARC record."""

    url: str  # WARC-Target-URI ("" when the record has none)
    captured_at: datetime | None  # WARC-Date (ARC: the archive date)
    status: int | None  # None for resource records and non-HTTP responses
    content_type: str | None  # the HTTP Content-Type (resource records: the record's)
    body: bytes  # de-chunked and content-decoded
    record_type: str  # response | resource
    # Why the payload is incomplete, else None. Starts with a token: a WARC-Truncated value
    # (length, time, disconnect, unspecified) as the crawler wrote it, "eof" (the record or
    # gzip member ends before its declared length: the file or download was cut off),
    # "content-length" (fewer payload bytes than the HTTP Content-Length says), "too_large"
    # (over MAX_PAYLOAD_BYTES; the rest was not kept).
    truncated: str | None = None
    # text/html or application/xhtml+xml by header, or sniffed when the type is missing/unclear.
    is_html: bool = False
    # Set when the Content-Encoding could not be undone: ``body`` is then the payload as stored.
    decode_error: str | None = None
    record_id: str | None = None  # WARC-Record-ID


# --- timestamps and windows ---------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_cdx_timestamp(moment: datetime) -> str:
    """``yyyyMMddhhmmss`` in UTC (fractions of a second are dropped)."""
    return _utc(moment).strftime("%Y%m%d%H%M%S")


def from_cdx_timestamp(value: str) -> datetime | None:
    """A CDX timestamp of 4 to 14 digits as UTC; missing parts are padded (month and day 01,
    time 00:00:00), as the CDX servers do for ``from=``. None when it is not a valid date, or
    has an odd number of digits (a half month or hour is ambiguous)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _TIMESTAMP.fullmatch(text):
        return None
    full = text + _TIMESTAMP_PAD[len(text) :]
    month, day, hour, minute, second = (int(full[i : i + 2]) for i in range(4, 14, 2))
    try:
        return datetime(int(full[:4]), month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None  # month 13, February 30, second 60 ...


def _require_window(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    start, end = _utc(since), _utc(until)
    if end <= start:
        raise ValueError(f"empty window: until ({end.isoformat()}) <= since ({start.isoformat()})")
    return start, end


def _last_second_before(until: datetime) -> datetime:
    """The last whole second before ``until``: CDX ``to=`` is inclusive and has 1 s resolution."""
    whole = until.replace(microsecond=0)
    return whole if whole < until else whole - timedelta(seconds=1)


def _next_boundary(moment: datetime, unit: str) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day + timedelta(days=1)
    if unit == "week":
        return day - timedelta(days=day.weekday()) + timedelta(weeks=1)  # next Monday
    if day.month == 12:
        return day.replace(year=day.year + 1, month=1, day=1)
    return day.replace(month=day.month + 1, day=1)


def chunk_window(
    since: datetime, until: datetime, unit: Literal["day", "week", "month"]
) -> list[Chunk]:
    """``[since, until)`` cut at UTC calendar days, ISO weeks (Mondays) or months.

    The first and last chunks are clipped to the window, so they may be partial. The result
    depends on the arguments only (no clock), so a resumed backfill gets the same chunks back.
    Raises ValueError for an empty window or an unknown unit.
    """
    if unit not in ("day", "week", "month"):
        raise ValueError(f"unit must be day, week or month, not {unit!r}")
    start, end = _require_window(since, until)
    chunks: list[Chunk] = []
    cursor = start
    while cursor < end:
        stop = min(_next_boundary(cursor, unit), end)
        chunks.append(Chunk(len(chunks), cursor, stop))
        cursor = stop
    return chunks


# --- query URLs ---------------------------------------------------------------------------


def _query(base: str, params: Sequence[tuple[str, str]]) -> str:
    # ':', '/' and ',' stay readable; '&', '?', '#', '+', spaces in the url value are encoded.
    return f"{base}?{urlencode(params, quote_via=quote, safe=':/,')}"


def wayback_cdx_query(
    cdx_base: str,
    url: str,
    since: datetime,
    until: datetime,
    *,
    match_type: str = "exact",
    limit: int | None = None,
    resume_key: str | None = None,
    collapse_digest: bool = True,
    only_ok: bool = True,
) -> str:
    """The Wayback CDX query for captures of ``url`` in ``[since, until)``, as JSON.

    ``to=`` is inclusive on the server, so it is the last second before ``until``. With
    ``collapse_digest`` adjacent captures of identical content come back once; ``only_ok`` keeps
    200 answers only. ``showResumeKey=true`` is always asked for: with ``limit`` set, the page's
    ``resume_key`` is then what to pass back as ``resume_key`` for the next page.
    """
    if match_type not in _MATCH_TYPES:
        raise ValueError(f"match_type must be one of {', '.join(_MATCH_TYPES)}, not {match_type!r}")
    start, end = _require_window(since, until)
    params = [("url", url)]
    if match_type != "exact":
        params.append(("matchType", match_type))
    params += [
        ("output", "json"),
        ("from", to_cdx_timestamp(start)),
        ("to", to_cdx_timestamp(_last_second_before(end))),
    ]
    if only_ok:
        params.append(("filter", "statuscode:200"))
    if collapse_digest:
        params.append(("collapse", "digest"))
    params.append(("showResumeKey", "true"))
    if limit is not None:
        params.append(("limit", str(limit)))
    if resume_key is not None:
        params.append(("resumeKey", resume_key))
    return _query(cdx_base, params)


def wayback_capture_url(web_base: str, timestamp: str, url: str) -> str:
    """The archived bytes of one capture: the ``id_`` flag turns off the Wayback toolbar and
    link rewriting. ``url`` is appended as it is, which is what the Wayback server expects."""
    if not re.fullmatch(r"\d{1,14}", timestamp):
        raise ValueError(f"a capture timestamp is 1-14 digits, not {timestamp!r}")
    return f"{web_base.rstrip('/')}/{timestamp}id_/{url}"


def cc_index_query(
    cdx_api: str,
    url_pattern: str,
    since: datetime,
    until: datetime,
    *,
    page: int | None = None,
    only_html_ok: bool = True,
) -> str:
    """A Common Crawl index query (NDJSON) for ``url_pattern`` captured in ``[since, until)``.

    ``url_pattern`` takes the pywb forms (``example.com/news/*``, ``*.example.com``). With
    ``only_html_ok``, only 200 answers whose sniffed type (``mime-detected``) contains text/html;
    pywb filters without a modifier are "contains" matches, so XHTML pages are not included.
    """
    start, end = _require_window(since, until)
    params = [
        ("url", url_pattern),
        ("output", "json"),
        ("from", to_cdx_timestamp(start)),
        ("to", to_cdx_timestamp(_last_second_before(end))),
    ]
    if only_html_ok:
        params += [("filter", "status:200"), ("filter", "mime-detected:text/html")]
    if page is not None:
        if page < 0:
            raise ValueError(f"page must be >= 0, not {page}")
        params.append(("page", str(page)))
    return _query(cdx_api, params)


def cc_range(offset: int, length: int) -> str:
    """The HTTP Range header value for one record: ``bytes=first-last`` (inclusive)."""
    if offset < 0 or length <= 0:
        raise ValueError(f"bad record position: offset {offset}, length {length}")
    return f"bytes={offset}-{offset + length - 1}"


# --- index answers ------------------------------------------------------------------------


def _brief(text: str, limit: int = _MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _server_message(body: bytes) -> str:
    """What an error answer says, short: a JSON message, an HTML title, or the text itself."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return "(empty body)"
    if text[0] in "{[":
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("message", "error", "detail"):
                if isinstance(data.get(key), str):
                    return _brief(data[key])
    if text.startswith("<"):
        title = _TITLE.search(text)
        if title and title.group(1).strip():
            return "HTML page: " + _brief(title.group(1))
        return "HTML page: " + _brief(_TAG.sub(" ", text))
    return _brief(text)


def _http_error(status: int, body: bytes) -> CdxPage:
    return CdxPage(error_class="archive_error", error=f"HTTP {status}: {_server_message(body)}")


def _value(raw: object) -> str | None:
    """An index value as text; None for '-' or empty (the servers' "unknown")."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    return None if text in ("", "-") else text


def _int(raw: object) -> int | None:
    text = _value(raw)
    return int(text) if text is not None and text.isdigit() else None


def _snapshot(fields: dict[str, object]) -> Snapshot:
    """A Snapshot from index fields (either server's names); ValueError says what is missing."""
    values: dict[str, object] = {}
    for name, raw in fields.items():
        target = _FIELD_NAMES.get(name)
        if target is not None and target not in values:
            values[target] = raw
    url = _value(values.get("url"))
    if url is None:
        raise ValueError("no URL")
    timestamp = _value(values.get("timestamp"))
    captured_at = from_cdx_timestamp(timestamp) if timestamp is not None else None
    if timestamp is None or captured_at is None:
        raise ValueError(f"bad timestamp {values.get('timestamp')!r}")
    return Snapshot(
        url=url,
        timestamp=timestamp,
        captured_at=captured_at,
        mimetype=_value(values.get("mimetype")),
        status=_int(values.get("status")),
        digest=_value(values.get("digest")),
        length=_int(values.get("length")),
        filename=_value(values.get("filename")),
        offset=_int(values.get("offset")),
        languages=_value(values.get("languages")),
        redirect=_value(values.get("redirect")),
        urlkey=_value(values.get("urlkey")),
        mime_detected=_value(values.get("mime_detected")),
        encoding=_value(values.get("encoding")),
    )


def _page(
    snapshots: list[Snapshot], problems: list[str], rows: int, resume_key: str | None = None
) -> CdxPage:
    """The page for what was read; see the module docstring for the unreadable-rows policy."""
    if not problems:
        return CdxPage(tuple(snapshots), resume_key)
    what = f"{len(problems)} of {rows} rows unreadable (first: {problems[0]})"
    if not snapshots:
        # No resume key either: one read out of an answer that is all garbage is not to be
        # followed.
        return CdxPage((), None, "parse_error", what, len(problems))
    return CdxPage(tuple(snapshots), resume_key, None, what, len(problems))


def _parse_cdx_json(text: str) -> CdxPage:
    try:
        data = json.loads(text)
    except ValueError as exc:
        return CdxPage(error_class="parse_error", error=f"invalid or cut-off JSON: {exc}")
    if not isinstance(data, list):
        detail = _server_message(text.encode()) if isinstance(data, dict) else type(data).__name__
        return CdxPage(error_class="parse_error", error=f"not a CDX JSON array: {detail}")
    if not data:
        return CdxPage()
    header = data[0]
    if not (isinstance(header, list) and all(isinstance(name, str) for name in header)):
        return CdxPage(error_class="parse_error", error=f"first row is not a header: {header!r}")
    names = [name.strip() for name in header]
    mapped = {_FIELD_NAMES.get(name) for name in names}
    if not {"url", "timestamp"} <= mapped:
        return CdxPage(
            error_class="parse_error",
            error=f"header row {names!r} has no timestamp and original/url field",
        )
    rows = data[1:]
    resume_key = None
    # showResumeKey: the data rows end with an empty row, then a one-value row with the key.
    if len(rows) >= 2 and rows[-2] == [] and isinstance(rows[-1], list) and len(rows[-1]) == 1:
        resume_key = _value(rows[-1][0])
        rows = rows[:-2]
    snapshots, problems = [], []
    for number, row in enumerate(rows, start=2):
        if row == []:
            continue
        if not isinstance(row, list) or len(row) != len(names):
            count = len(row) if isinstance(row, list) else type(row).__name__
            problems.append(f"row {number}: {count} values for {len(names)} fields")
            continue
        try:
            snapshots.append(_snapshot(dict(zip(names, row, strict=True))))
        except ValueError as exc:
            problems.append(f"row {number}: {exc}")
    return _page(snapshots, problems, len(rows), resume_key)


def _parse_cdx_text(text: str, fields: Sequence[str]) -> CdxPage:
    names = [name.strip() for name in fields]
    mapped = {_FIELD_NAMES.get(name) for name in names}
    if not {"url", "timestamp"} <= mapped:
        return CdxPage(
            error_class="parse_error",
            error=f"fields {names!r} have no timestamp and original/url field to read",
        )
    lines = text.splitlines()
    resume_key = None
    # showResumeKey: the key follows a blank line after the last capture.
    stripped = [line.strip() for line in lines]
    while stripped and not stripped[-1]:
        stripped.pop()
    if len(stripped) >= 2 and not stripped[-2] and " " not in stripped[-1]:
        resume_key = stripped[-1]
        stripped = stripped[:-2]
    snapshots, problems, rows = [], [], 0
    for number, line in enumerate(stripped, start=1):
        if not line:
            continue
        rows += 1
        values = line.split(" ")
        if len(values) != len(names):
            problems.append(f"line {number}: {len(values)} values for {len(names)} fields")
            continue
        try:
            snapshots.append(_snapshot(dict(zip(names, values, strict=True))))
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
    return _page(snapshots, problems, rows, resume_key)


def parse_wayback_cdx(
    body: bytes,
    status: int = 200,
    content_type: str | None = None,
    *,
    fields: Sequence[str] | None = None,
) -> CdxPage:
    """A Wayback CDX answer: ``output=json`` (header row first) or the plain default output
    (space-separated ``fields``, :data:`DEFAULT_CDX_FIELDS` unless the query set ``fl=``).

    The body decides the format (``[`` is JSON), ``content_type`` is only a hint for error
    messages. An empty body or array, a header-only array and a 404 saying "no captures" (or
    nothing) are an empty page. Other non-2xx answers are ``archive_error`` with the status and
    the server's message; a 200 that is not CDX data (an HTML error page) is ``parse_error``.
    Never raises.
    """
    try:
        if status == 404 and (not body.strip() or _NO_CAPTURES.search(_server_message(body))):
            return CdxPage()
        if not 200 <= status < 300:
            return _http_error(status, body)
        text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
        if not text:
            return CdxPage()
        if text[0] in "[{":
            return _parse_cdx_json(text)
        if text[0] == "<":
            kind = f" ({content_type})" if content_type else ""
            return CdxPage(
                error_class="parse_error",
                error=f"not CDX data{kind}: {_server_message(body)}",
            )
        return _parse_cdx_text(text, fields or DEFAULT_CDX_FIELDS)
    except Exception as exc:  # a last guard: the caller records the page, whatever the body
        return CdxPage(error_class="parse_error", error=f"unreadable answer: {exc!r}")


def parse_cc_index(body: bytes, status: int = 200) -> CdxPage:
    """A Common Crawl index answer (``output=json``: one JSON object per line).

    * 404 "No Captures found": an empty page (nothing archived in this crawl).
    * 400 "Page N invalid": an empty page, no error -- the query asked past the last page, which
      is how paging through ``page=0, 1, ...`` ends. Other 400s and every other non-2xx answer
      are ``archive_error`` (503 and "slow down" answers included: the caller backs off).
    * A line that is not a JSON object with url and timestamp is skipped and counted (see the
      module docstring); a 200 that is an HTML page is ``parse_error``.

    Never raises.
    """
    try:
        if status in (400, 404):
            message = _server_message(body)
            if (status == 404 and _NO_CAPTURES.search(message)) or (
                status == 400 and _PAGE_INVALID.search(message)
            ):
                return CdxPage()
        if not 200 <= status < 300:
            return _http_error(status, body)
        text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
        if text.lstrip().startswith("<"):
            return CdxPage(error_class="parse_error", error=f"not NDJSON: {_server_message(body)}")
        snapshots, problems, rows = [], [], 0
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            rows += 1
            try:
                data = json.loads(line)
            except ValueError as exc:
                problems.append(f"line {number}: invalid JSON ({exc})")
                continue
            if not isinstance(data, dict):
                problems.append(f"line {number}: a JSON {type(data).__name__}, not an object")
                continue
            try:
                snapshots.append(_snapshot(data))
            except ValueError as exc:
                problems.append(f"line {number}: {exc}")
        return _page(snapshots, problems, rows)
    except Exception as exc:  # a last guard: the caller records the page, whatever the body
        return CdxPage(error_class="parse_error", error=f"unreadable answer: {exc!r}")


# --- Common Crawl crawls ------------------------------------------------------------------


def _iso_utc(raw: object) -> datetime | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return _utc(datetime.fromisoformat(raw.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        return None


def parse_collinfo(body: bytes) -> list[Crawl]:
    """The crawls ``index.commoncrawl.org/collinfo.json`` lists, in its order (newest first).

    ``from``/``to`` become ``start``/``end`` (None when absent or unreadable). Raises ValueError
    naming the problem when the body is not such a list, or an entry lacks ``id``/``cdx-api``:
    a half-understood crawl list would silently skip crawls.
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"collinfo is not JSON ({exc}): {_server_message(body)}") from exc
    if not isinstance(data, list):
        raise ValueError(f"collinfo is a JSON {type(data).__name__}, not a list of crawls")
    if not data:
        raise ValueError("collinfo lists no crawls")
    crawls = []
    for number, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise ValueError(f"collinfo entry {number} is a {type(entry).__name__}, not an object")
        crawl_id, api = _value(entry.get("id")), _value(entry.get("cdx-api"))
        if crawl_id is None or api is None:
            raise ValueError(f"collinfo entry {number} has no id or cdx-api: {entry!r:.200}")
        crawls.append(
            Crawl(
                id=crawl_id,
                name=_value(entry.get("name")) or crawl_id,
                cdx_api=api,
                start=_iso_utc(entry.get("from")),
                end=_iso_utc(entry.get("to")),
            )
        )
    return crawls


def _range_from_id(crawl_id: str) -> tuple[datetime, datetime] | None:
    """Where a crawl without dates probably lies, from its id; None when the id does not say."""
    weekly = _CC_WEEKLY.fullmatch(crawl_id)
    if weekly and 1990 < int(weekly[1]) < 9000:
        try:
            monday = date.fromisocalendar(int(weekly[1]), int(weekly[2]), 1)
        except ValueError:
            return None  # week 00 or 54: not an ISO week
        anchor = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
        return anchor - _ID_WEEK_BEFORE, anchor + _ID_WEEK_AFTER
    years = _CC_YEARS.fullmatch(crawl_id)  # the early ARC crawls: CC-MAIN-2012, CC-MAIN-2008-2009
    if years:
        first = int(years[1])
        last = int(years[2]) if years[2] else first
        if 1990 < first <= last < 9999:
            return datetime(first, 1, 1, tzinfo=UTC), datetime(last + 1, 1, 1, tzinfo=UTC)
    return None


def crawls_for_window(crawls: Sequence[Crawl], since: datetime, until: datetime) -> list[Crawl]:
    """The crawls whose ``[start, end]`` overlaps ``[since, until)``, in the given order.

    A missing bound is inferred from the id (see ``_range_from_id``: generous on purpose, as
    asking one crawl too many costs a query while skipping one loses its captures); a crawl
    whose dates cannot be known at all is kept. Raises ValueError for an empty window.
    """
    start, end = _require_window(since, until)
    chosen = []
    for crawl in crawls:
        guess = _range_from_id(crawl.id) if crawl.start is None or crawl.end is None else None
        first = crawl.start or (guess[0] if guess else None)
        last = crawl.end or (guess[1] if guess else None)
        if (first is None or _utc(first) < end) and (last is None or _utc(last) >= start):
            chosen.append(crawl)
    return chosen


# --- archived records ---------------------------------------------------------------------


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_html_payload(content_type: str | None, body: bytes) -> bool:
    """HTML by its Content-Type; sniffed from the first bytes only when the type is missing or
    says nothing (octet-stream, text/plain ...). A declared non-HTML type is believed: an RSS
    feed starting with ``<?xml`` is not a page."""
    media = _media_type(content_type)
    if media in _HTML_TYPES:
        return True
    if media not in _UNCLEAR_TYPES:
        return False
    head = body[:_SNIFF_BYTES].lstrip(_BOM_AND_SPACE).lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return True
    return head.startswith((b"<!--", b"<?xml")) and b"<html" in head


def _read_capped(stream: Any, cap: int) -> tuple[bytes, bool]:
    """Up to ``cap`` bytes of ``stream``, and whether there was more. At most one block beyond
    the cap is read; the caller drains the rest if it must reach the end."""
    parts: list[bytes] = []
    size = 0
    while size <= cap:
        block = stream.read(_READ_BLOCK)
        if not block:
            return b"".join(parts), False
        parts.append(block)
        size += len(block)
    data = b"".join(parts)
    return data[:cap], True


def _drain(stream: Any) -> int:
    total = 0
    while block := stream.read(_READ_BLOCK):
        total += len(block)
    return total


def _decode(raw: bytes, http: Any, cap: int) -> tuple[bytes, str | None, bool]:
    """The payload with Transfer-Encoding chunked and Content-Encoding undone, by warcio's
    readers (which fall back to the stored bytes when they are not actually encoded).
    Returns (body, decode_error, over_cap)."""
    encoding = (http.get_header("Content-Encoding") or "").strip().lower()
    chunked = "chunked" in (http.get_header("Transfer-Encoding") or "").lower()
    decode_error = None
    decomp = None
    if encoding and encoding != "identity":
        if encoding in BufferedReader.get_supported_decompressors():
            decomp = encoding
        else:
            decode_error = f"Content-Encoding {encoding!r} not supported; body is as stored"
    if chunked:
        reader: Any = ChunkedDataReader(io.BytesIO(raw), decomp_type=decomp)
    elif decomp:
        reader = BufferedReader(io.BytesIO(raw), decomp_type=decomp)
    else:
        return raw, decode_error, False
    try:
        body, over = _read_capped(reader, cap)
    except Exception as exc:  # a decoder failing mid-stream: keep what was stored
        return (
            raw,
            f"cannot undo {encoding or 'chunked'} encoding ({exc!r}); body is as stored",
            False,
        )
    return body, decode_error, over


def response_from_record(
    record: Any, *, keep_non_html: bool = True, max_bytes: int = MAX_PAYLOAD_BYTES
) -> ArchivedResponse:
    """An :class:`ArchivedResponse` from a warcio ``response`` or ``resource`` record.

    Reads the record's payload to its end (nothing else: no file is opened here). With
    ``keep_non_html=False`` the payload of a record that is clearly not HTML by its type is read
    but not kept (``body`` is empty), so a video in a local WARC costs no memory. Truncation is
    reported in ``truncated`` (see :class:`ArchivedResponse`); warcio and zlib errors propagate.
    """
    rec = record.rec_headers
    http = record.http_headers
    record_type = str(record.rec_type)
    url = (rec.get_header("WARC-Target-URI") or "").strip().strip("<>")
    status: int | None = None
    if http is not None and record_type == "response":
        try:
            status = int(http.get_statuscode())
        except (TypeError, ValueError):
            status = None
        content_type = http.get_header("Content-Type")
    else:
        content_type = rec.get_header("Content-Type")
        http = None  # a resource record's block is the payload itself
    stream = record.raw_stream
    media = _media_type(content_type)
    keep = keep_non_html or media in _HTML_TYPES or media in _UNCLEAR_TYPES
    raw, over = _read_capped(stream, max_bytes) if keep else (b"", False)
    _drain(stream)  # to the record's end, so a cut-off tail shows in the reader's count
    truncated = rec.get_header("WARC-Truncated")
    if truncated is not None:
        truncated = truncated.strip() or "unspecified"
    declared_block = rec.get_header("Content-Length")
    missing = getattr(stream, "limit", 0)  # warcio's LimitReader counts what never arrived
    if truncated is None and isinstance(missing, int) and missing > 0:
        of = f" of {declared_block}" if declared_block and declared_block.isdigit() else ""
        got = int(declared_block) - missing if of else None
        truncated = (
            f"eof: the record ends after {got}{of} bytes; the file or download was cut off"
            if got is not None
            else f"eof: the record ends {missing} bytes early; the file or download was cut off"
        )
    if truncated is None and over:
        truncated = f"too_large: payload over {max_bytes} bytes; the rest was not kept"
    body, decode_error = raw, None
    if http is not None:
        declared = (http.get_header("Content-Length") or "").strip()
        chunked = "chunked" in (http.get_header("Transfer-Encoding") or "").lower()
        if (
            truncated is None
            and keep
            and declared.isdigit()
            and not chunked
            and status not in _NO_BODY_STATUSES
            and not (status is not None and 100 <= status < 200)
            and len(raw) < int(declared)
        ):
            truncated = f"content-length: {len(raw)} of {declared} payload bytes"
        if keep:
            body, decode_error, over_decoded = _decode(raw, http, max_bytes)
            if truncated is None and over_decoded:
                truncated = (
                    f"too_large: decoded payload over {max_bytes} bytes; the rest was not kept"
                )
    return ArchivedResponse(
        url=url,
        captured_at=_iso_utc(rec.get_header("WARC-Date")),
        status=status,
        content_type=content_type,
        body=body if keep else b"",
        record_type=record_type,
        truncated=truncated,
        is_html=is_html_payload(content_type, body if keep else b""),
        decode_error=decode_error,
        record_id=rec.get_header("WARC-Record-ID"),
    )


def _exc_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_brief(str(exc), 120)}"


def parse_warc_member(member: bytes) -> ArchivedResponse:
    """The record of a Common Crawl range response: ONE gzip member holding one WARC
    ``response`` (or ``resource``) record, as ``Range: cc_range(offset, length)`` returns it.

    A member that stops early (a short download) is still read: the result has ``truncated``
    set. Raises ValueError naming the problem for anything else: not gzip (often an error page),
    corrupt gzip, several members (a wrong length), no record, a request/revisit/... record,
    a record without a URL.
    """
    if not member.startswith(b"\x1f\x8b"):
        raise ValueError(
            f"not a gzip member ({len(member)} bytes starting {member[:40]!r}); "
            "an error page instead of the record?"
        )
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(member, _MAX_MEMBER_BYTES)
    except zlib.error as exc:
        raise ValueError(f"corrupt gzip member: {exc}") from exc
    if inflater.unconsumed_tail:
        raise ValueError(f"the member inflates to over {_MAX_MEMBER_BYTES} bytes; refused")
    if inflater.unused_data:
        raise ValueError(
            f"{len(inflater.unused_data)} bytes follow the first gzip member: the range holds "
            "more than one record (wrong offset or length?)"
        )
    cut = None
    if not inflater.eof:
        cut = f"eof: the gzip member ends early ({len(member)} bytes); the download was cut off"
    iterator = ArchiveIterator(io.BytesIO(data), arc2warc=True)
    records = iter(iterator)
    try:
        record = next(records, None)
        if record is None:
            raise ValueError("the gzip member holds no WARC record")
        if record.rec_type not in ("response", "resource"):
            raise ValueError(f"a {record.rec_type} record, not a response")
        response = response_from_record(record)
        # A second record means the range spanned two members that happened to decompress as
        # one: a wrong length. Bytes after the record that are no record are ignored.
        try:
            extra = next(records, None)
        except Exception:
            extra = None
        if extra is not None:
            raise ValueError("the gzip member holds more than one WARC record")
    except ValueError:
        raise
    except Exception as exc:  # warcio's own errors, zlib, EOFError ...
        raise ValueError(f"no readable WARC record in the member ({_exc_text(exc)})") from exc
    finally:
        iterator.close()
    if not response.url:
        raise ValueError("the record has no WARC-Target-URI")
    if cut is not None and response.truncated is None:
        return replace(response, truncated=cut)
    return response
