"""Bytes to text with a recorded decision: HTTP charset, then BOM, then the document's own
declaration (``<meta charset>``, ``http-equiv``, XML declaration), then detection.

The order follows the HTML standard's encoding sniffing, except that a BOM wins over the header
only when they disagree (a BOM is never wrong about itself, headers often are).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

__all__ = ["Decoded", "charset_from_content_type", "decode_document"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)["']""", re.I)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_.:-]+)""", re.I)
_SNIFF_BYTES = 4096
# Labels browsers treat as windows-1252; decoding them strictly as latin-1 loses the curly quotes.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    charset: str
    source: str  # http | bom | declaration | detected | fallback


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CT_CHARSET.search(content_type)
    return match.group(1).lower() if match else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = _ALIASES.get(label.lower(), label.lower())
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def decode_document(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode ``data`` and say which evidence chose the charset.

    A declared charset (header or document) that cannot decode the bytes is ignored rather than
    trusted: a page served as UTF-8 that is really Latin-1 is common.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(codec, errors="replace"), codec, "bom")
    http_codec = _codec(charset_from_content_type(content_type))
    if http_codec and _decodes(data, http_codec):
        return Decoded(data.decode(http_codec), http_codec, "http")
    head = data[:_SNIFF_BYTES]
    declared = _XML_DECL.search(head) or _META_CHARSET.search(head)
    if declared:
        declared_codec = _codec(declared.group(1).decode("ascii", "ignore"))
        if declared_codec and _decodes(data, declared_codec):
            return Decoded(data.decode(declared_codec), declared_codec, "declaration")
    if _decodes(data, "utf-8"):
        return Decoded(data.decode("utf-8"), "utf-8", "detected")
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return Decoded(data.decode(best.encoding, errors="replace"), best.encoding, "detected")
    return Decoded(data.decode("utf-8", errors="replace"), "utf-8", "fallback")
