"""Feed bytes to :class:`ParsedFeed`: RSS 0.9x/1.0/2.0 and Atom through feedparser.

Untrusted bodies are vetted before feedparser parses them, because feedparser (6.0.x) is safe from
external entities but not from everything else a hostile server can send:

* Encoding first. The body is converted to UTF-8 with feedparser's own converter, so every check
  below sees exactly the characters feedparser will (a UTF-16, UTF-32 or UTF-7 body hides
  ``<!ENTITY`` from a byte-level search), and feedparser then parses that converted text.
* Entity declarations are refused (``unsafe_xml``). feedparser's loose parser expands the
  "safe" entities of the prolog with no limit (one 50 kB entity referenced 50,000 times is 2.5 GB),
  and its strict parser (expat) expands what the DOCTYPE declares, up to 100x the input. The
  checks mirror both: the entities feedparser keeps for its loose parser, a text search of the
  prolog, and an expat pass configured like feedparser's SAX parser.
* Elements with more than :data:`MAX_ATTRIBUTES` attributes are refused (``unsafe_xml``):
  the SAX attribute lookup feedparser uses is quadratic (100,000 attributes: minutes).
* A parse budget bounds time and memory. feedparser's cost follows the markup (``<``, ``&``,
  ``=``): at most :data:`MAX_MARKUP` of it. A well-formed body may be up to :data:`MAX_FEED_BYTES`;
  an ill-formed one goes to feedparser's loose (sgmllib) parser, whose tag regex needs ~155 bytes
  of memory per byte of an unclosed tag, so it gets at most :data:`MAX_LOOSE_BYTES`. A body over
  budget is cut after its last whole item inside it and that part is parsed, so the first
  (usually newest) items are kept; the result says so (``too_large``).
* Two regular expressions feedparser runs before parsing backtrack badly, so their input is
  shaped first (without changing what the document means). The XML-declaration sniffer reads
  the whole first line (1,000 ``encoding="`` on a 1 MB line: 90 s), so a long first line gets a
  line break after the declaration. The prolog's DOCTYPE regex (blank space at a line start, then
  ``<!DOCTYPE``) is quadratic in a run of blank lines (40 kB of newlines before the root: 4 s,
  each pass), so those runs are collapsed to one line break.
* The body is handed to feedparser as a stream, never as ``bytes``: given bytes, feedparser tries
  them as a file name first, so a body of ``/dev/zero`` or ``/etc/passwd`` would be read from
  the local disk.
"""

from __future__ import annotations

import calendar
import codecs
import io
import itertools
import re
import time
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from xml.parsers import expat

import feedparser
from feedparser.encodings import (
    EBCDIC_MARKER,
    UTF16BE_MARKER,
    UTF16LE_MARKER,
    UTF32BE_MARKER,
    UTF32LE_MARKER,
    ZERO_BYTES,
    convert_to_utf8,
)
from feedparser.sanitizer import replace_doctype

from transforms.jsonfeed import looks_like_json_feed, parse_json_feed
from transforms.records import FeedEntry, ParsedFeed
from transforms.urls import resolve, url_key

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_DECLARATION_CHARS",
    "MAX_FEED_BYTES",
    "MAX_LOOSE_BYTES",
    "MAX_MARKUP",
    "parse_feed",
]

# The parse budget. feedparser takes 10-60 µs per markup character here, twice that when the
# strict parse fails and the loose parser starts over. An item costs ~10; the largest real feed
# in the test corpus (TechCrunch, 20 items of full HTML) has 6,500. 50,000 keeps the worst body
# to ~2 s here.
MAX_MARKUP = 50_000
# Well-formed: feedparser holds ~18 copies of a long text (a 10 MB description costs 180 MB), so
# 4 MB, ~70 MB at worst. Real news feeds are well under 1 MB.
MAX_FEED_BYTES = 4_000_000
# Ill-formed: ~80 MB at worst in the loose parser's tag regex. Real feeds are far smaller (the
# corpus's largest, TechCrunch, is ill-formed and 207 kB).
MAX_LOOSE_BYTES = 512_000
# 256 attributes cost ~1.5 ms in the quadratic SAX lookup; real feed elements have a handful.
MAX_ATTRIBUTES = 256

# An XML declaration (or other first processing instruction) longer than this is refused.
MAX_DECLARATION_CHARS = 1024
# A valid document has one DOCTYPE; feedparser's DOCTYPE regex rescans the prolog for each.
_MAX_DOCTYPES = 4

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_DOCTYPE_DECL = re.compile(rb"<!DOCTYPE", re.I)
# A line break and the blank space after it, in the prolog: collapsed to one line break.
_BLANK_LINES = re.compile(rb"\n\s+")
# Where the prolog ends at the latest for feedparser's DOCTYPE handling: the first element.
_FIRST_ELEMENT = re.compile(rb"<\w")
# The prolog is searched at least this far, whatever the first element looks like.
_PROLOG_WINDOW = 65_536
_MARKUP = re.compile(rb"[<&=]")
# The end of an item (RSS, RDF) or entry (Atom), with or without a namespace prefix.
_ITEM_END = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html|<head|<body)", re.I | re.S)
# SAX messages of a document that stops before its end: entries before the cut are usable.
_TRUNCATION = ("no element found", "unclosed token", "not well-formed", "unclosed CDATA section")
# Problems feedparser reports that do not make a feed wrong in practice.
_BENIGN_BOZO = ("CharacterEncodingOverride", "NonXMLContentType")
# What the converted body is served to feedparser as: its XML declaration now says utf-8.
_CONVERTED_TYPE = "application/xml; charset=utf-8"


def _utc(struct: time.struct_time | None) -> datetime | None:
    if struct is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _kind(version: str) -> str | None:
    if not version:
        return None
    if version.startswith("atom"):
        return "atom"
    if version in ("rss090", "rss10"):
        return "rdf"
    return "rss"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _entry(raw: Any, feed_url: str) -> FeedEntry | None:
    link = raw.get("link") or ""
    guid = raw.get("id") or ""
    if not link and guid.startswith(("http://", "https://")):
        link = guid
    if not link:
        return None
    url = resolve(feed_url, link)
    if not url.startswith(("http://", "https://")):
        return None
    title = _text(raw.get("title"))
    if not guid:
        # Without an id the link is the identity; title and date only when the link is missing.
        guid = url
    authors = tuple(
        dict.fromkeys(
            name
            for name in (_text(a.get("name")) for a in raw.get("authors", []) if hasattr(a, "get"))
            if name
        )
    )
    if not authors and raw.get("author"):
        authors = (str(raw["author"]).strip(),)
    tags = tuple(
        dict.fromkeys(
            term for term in (_text(t.get("term")) for t in raw.get("tags", []) or []) if term
        )
    )
    # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed, with a
    # DeprecationWarning; we want each date for what it is.
    published = _utc(dict.get(raw, "published_parsed")) or _utc(dict.get(raw, "created_parsed"))
    updated = _utc(dict.get(raw, "updated_parsed"))
    return FeedEntry(
        guid=str(guid)[:2000],
        url=url,
        title=title,
        summary=_text(raw.get("summary")),
        published_at=published or updated,
        updated_at=updated,
        authors=authors,
        tags=tags,
    )


def _sniffed_codec(body: bytes) -> tuple[int, str]:
    """(BOM length, codec) as feedparser's ``convert_to_utf8`` sniffs a body before it reads the
    XML declaration (same tests, same order); "latin-1" stands for every ASCII-compatible one."""
    if body[:4] == codecs.BOM_UTF32_BE:
        return 4, "utf-32-be"
    if body[:4] == codecs.BOM_UTF32_LE:
        return 4, "utf-32-le"
    if body[:2] == codecs.BOM_UTF16_BE and body[2:4] != ZERO_BYTES:
        return 2, "utf-16-be"
    if body[:2] == codecs.BOM_UTF16_LE and body[2:4] != ZERO_BYTES:
        return 2, "utf-16-le"
    if body[:3] == codecs.BOM_UTF8:
        return 3, "latin-1"
    markers = {
        EBCDIC_MARKER: "cp037",
        UTF16BE_MARKER: "utf-16-be",
        UTF16LE_MARKER: "utf-16-le",
        UTF32BE_MARKER: "utf-32-be",
        UTF32LE_MARKER: "utf-32-le",
    }
    return 0, markers.get(body[:4], "latin-1")


def _find_char(body: bytes, char: str, codec: str, start: int, end: int) -> int:
    """Offset of ``char`` encoded with ``codec`` in ``body[start:end]`` on a character boundary
    (a UTF-16/32 match may straddle two characters), or -1."""
    needle = char.encode(codec)
    width = len("<".encode(codec))
    at = body.find(needle, start, end)
    while at != -1 and (at - start) % width:
        at = body.find(needle, at + 1, end)
    return at


def _short_first_line(body: bytes) -> bytes | None:
    """``body`` with a first line feedparser's declaration sniffer can read in bounded time, or
    None when its first processing instruction is too long to be a real XML declaration.

    The sniffer (``<?``, anything, ``encoding=``, a quoted value, anything, ``?>``, all on the
    first line) backtracks over the whole first line. A body whose first line is long (a
    minified feed, or an attack) gets a line break after the declaration, where XML ignores it.
    """
    skip, codec = _sniffed_codec(body)
    width = len("<".encode(codec))
    if not body.startswith("<?".encode(codec), skip):
        return body  # the sniffer gives up at once
    window = skip + MAX_DECLARATION_CHARS * width
    if len(body) <= window or _find_char(body, "\n", codec, skip, window) != -1:
        return body  # a first line of at most MAX_DECLARATION_CHARS: cheap enough
    end = _find_char(body, "?>", codec, skip, window)
    if end == -1:
        return None
    cut = end + len("?>".encode(codec))
    return body[:cut] + "\n".encode(codec) + body[cut:]


def _collapse_prolog_blank_lines(data: bytes) -> bytes:
    """``data`` (UTF-8) with each run of blank lines before its first element made one line
    break: feedparser's prolog regexes (blank space at any line start, then ``<!DOCTYPE`` or
    ``<!ENTITY``) are quadratic in them."""
    first = _FIRST_ELEMENT.search(data)
    if first is None:
        return data  # feedparser's prolog is then empty
    head = data[: first.start()]
    if b"\n" not in head:
        return data
    return _BLANK_LINES.sub(b"\n", head) + data[first.start() :]


class _Refused(Exception):
    """Raised from inside the expat pass to stop it at the first reason to refuse."""


def _refuse_entity(name: str, is_parameter: bool, *_: Any) -> None:
    kind = "parameter entity" if is_parameter else "entity"
    raise _Refused(f"document declares XML {kind} {name!r}")


def _local_name(expat_name: str) -> str:
    # With namespaces expat names an element "uri local prefix", "uri local" or "local".
    parts = expat_name.split(" ")
    return parts[1] if len(parts) > 1 else parts[0]


def _check_attributes(name: str, attributes: dict[str, str]) -> None:
    if len(attributes) > MAX_ATTRIBUTES:
        raise _Refused(
            f"element {_local_name(name)!r} has {len(attributes)} attributes "
            f"(more than {MAX_ATTRIBUTES})"
        )


def _external_entity(*_: Any) -> int:
    # What xml.sax does for feedparser (external general entities off): skip it, fetch nothing.
    return 1


def _strict_pass(data: bytes) -> tuple[str | None, bool]:
    """(why feedparser's strict parser must not see ``data`` or None, whether it parses it whole).

    An expat parser set up like the one xml.sax builds for feedparser (namespaces, parameter
    entities unless standalone, external entities skipped), so it reads exactly the declarations
    and elements feedparser's would, and fails where it would fail.
    """
    parser = expat.ParserCreate(None, " ")
    parser.namespace_prefixes = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_UNLESS_STANDALONE)
    parser.ExternalEntityRefHandler = _external_entity
    parser.EntityDeclHandler = _refuse_entity
    parser.StartElementHandler = _check_attributes
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        return str(refused), False
    except expat.ExpatError:
        # feedparser's strict parser stops at the same error and its loose parser starts over;
        # that one expands only the entities replace_doctype keeps (checked by the caller).
        return None, False
    return None, True


def _vet(data: bytes) -> tuple[str | None, bool]:
    """(why ``data`` (UTF-8, as feedparser will get it) must not be parsed or None, whether
    feedparser's strict parser will read it whole)."""
    first = _FIRST_ELEMENT.search(data)
    prolog_end = max(_PROLOG_WINDOW, first.end() if first else len(data))
    # The text searches first: replace_doctype's own regexes rescan the prolog for each
    # declaration they find, so they run only once the count is known to be small.
    if _ENTITY_DECL.search(data, 0, prolog_end):
        return "document declares XML entities", False
    doctypes = len(_DOCTYPE_DECL.findall(data, 0, first.end() if first else len(data)))
    if doctypes > _MAX_DOCTYPES:
        return f"document has {doctypes} DOCTYPE declarations", False
    _, stripped, loose_entities = replace_doctype(data)
    if loose_entities:
        names = ", ".join(sorted(loose_entities)[:5])
        return f"document declares XML entities ({names})", False
    return _strict_pass(stripped)


def _markup(data: bytes) -> int:
    return data.count(b"<") + data.count(b"&") + data.count(b"=")


def _cut(data: bytes, limit: int) -> int:
    """Where to cut ``data`` to keep at most ``limit`` bytes and :data:`MAX_MARKUP` markup.

    The cut follows the last whole item or entry before the limit, so the parser recovers whole
    items and nothing half-read.
    """
    limit = min(len(data), limit)
    over = next(itertools.islice(_MARKUP.finditer(data, 0, limit), MAX_MARKUP, None), None)
    if over is not None:
        limit = over.start()
    last_item = deque(_ITEM_END.finditer(data, 0, limit), maxlen=1)
    return last_item[0].end() if last_item else limit


def _refused(error_class: str, error: str, encoding: str | None = None) -> ParsedFeed:
    return ParsedFeed(None, None, (), encoding=encoding, error_class=error_class, error=error)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed body fetched from ``url``. Never raises for bad input: the error is a value.

    ``error_class``: ``not_a_feed`` (empty, HTML, no RSS/Atom), ``unsafe_xml`` (refused unparsed,
    see the module docstring), ``parse_error`` (ill-formed or cut short; the entries before the
    damage are kept), ``too_large`` (over the parse budget; the entries of the part parsed are
    kept).
    """
    if not body.strip():
        return _refused("not_a_feed", "empty body")
    if looks_like_json_feed(body, content_type):
        return parse_json_feed(body, url)
    # The headers feedparser would get: they decide the encoding (RFC 3023).
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    shaped = _short_first_line(body)
    if shaped is None:
        return _refused(
            "unsafe_xml",
            f"the first processing instruction is longer than {MAX_DECLARATION_CHARS} "
            "characters; refused before parsing (DoS)",
        )
    detected: dict[str, Any] = {}
    data: bytes = convert_to_utf8(dict(headers), shaped, detected)
    encoding = detected.get("encoding") or None
    data = _collapse_prolog_blank_lines(data)
    cut = None
    if _markup(data) > MAX_MARKUP or len(data) > MAX_FEED_BYTES:
        # A cut body is ill-formed, so it will go to the loose parser: cut to its budget.
        cut = _cut(data, MAX_LOOSE_BYTES)
        data = data[:cut]
    reason, well_formed = _vet(data)
    if reason is None and not well_formed and len(data) > MAX_LOOSE_BYTES:
        cut = _cut(data, MAX_LOOSE_BYTES)
        data = data[:cut]
        reason, _ = _vet(data)  # a prefix has a different prolog: vet what is parsed
    if reason is not None:
        return _refused(
            "unsafe_xml", f"{reason}; refused before parsing (entity expansion, DoS)", encoding
        )
    # A stream, not bytes (see the module docstring); declared as the UTF-8 it now is.
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-location": url, "content-type": _CONVERTED_TYPE},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    kind = _kind(parsed.get("version", ""))
    entries: dict[str, FeedEntry] = {}
    for raw in parsed.entries:
        entry = _entry(raw, url)
        if entry is None:
            continue
        seen = entries.get(entry.guid)
        if seen is not None and url_key(seen.url) != url_key(entry.url):
            # Two items share a GUID but link to different articles (a CMS reusing ids, or a
            # placeholder GUID): the link tells them apart, so neither is lost.
            entry = replace(entry, guid=f"{entry.guid}#{url_key(entry.url)}")
            seen = entries.get(entry.guid)
        if seen is None:
            entries[entry.guid] = entry
    feed_meta = parsed.get("feed", {})
    title = _text(feed_meta.get("title"))
    ttl = feed_meta.get("ttl")
    ttl_minutes = int(ttl) if isinstance(ttl, str) and ttl.strip().isdigit() else None
    # The parse's own problem first; else what the encoding detection found.
    exc = parsed.get("bozo_exception") or detected.get("bozo_exception")
    error_class = error = None
    if cut is not None:
        error_class = "too_large"
        error = (
            f"feed exceeds the parse budget ({MAX_MARKUP} markup characters, {MAX_FEED_BYTES} "
            f"bytes, or {MAX_LOOSE_BYTES} if ill-formed); parsed the first {cut} bytes: "
            f"{len(entries)} entries recovered"
        )
    elif kind is None and not entries:
        if _HTML_START.match(body[:4096]):
            error_class, error = "not_a_feed", "body is an HTML page, not RSS/Atom"
        else:
            error_class = "not_a_feed"
            error = f"no RSS/Atom structure found ({exc})" if exc else "no RSS/Atom structure found"
    elif parsed.get("bozo") and exc is not None:
        name = type(exc).__name__
        message = str(exc)
        if name not in _BENIGN_BOZO and any(t in message for t in _TRUNCATION):
            error_class = "parse_error"
            error = f"ill-formed XML ({message}); {len(entries)} entries recovered"
    return ParsedFeed(
        kind=kind,
        title=title,
        entries=tuple(entries.values()),
        encoding=encoding,
        ttl_minutes=ttl_minutes,
        error_class=error_class,
        error=error,
    )
