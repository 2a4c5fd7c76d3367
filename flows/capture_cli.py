"""``newsdesk capture FETCH_ID``: print the raw response stored for one fetch.

The fetch row (``fetches.warc_path`` / ``warc_offset``) names a WARC record under the captures
root (:func:`flows.captures.captures_root`); the record is read back and printed as an HTTP
response (status line, headers, blank line, body) or as JSON. The warehouse is opened
read-only, so this works while an ingest run holds the file between its batches.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from flows.captures import Capture, CaptureError, captures_root, read_capture
from transforms.decode import decode_document
from warehouse.db import WarehouseError, connect

__all__ = ["CAPTURE_HELP", "FetchCapture", "find_fetch", "show_capture"]

CAPTURE_HELP = """Print the raw HTTP response stored for fetch FETCH_ID (see `fetches.fetch_id`).

Shows the status line, the stored headers, a blank line and the body as text (decoded with
the charset newsdesk would use), or a byte count for binary bodies. The body is stored
decoded: Content-Encoding is removed and Content-Length counts the stored bytes.
--body prints only the body; --format json prints everything as one JSON object.
Exit code 1 when the fetch is unknown, has no capture (no HTTP response came, or it predates
captures) or its WARC file is missing or damaged.
"""

WAIT_SECONDS = 60.0
# Media types that are text whatever their charset; others are text only by sniffing.
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/ecmascript",
        "application/xml",
        "application/x-www-form-urlencoded",
    }
)
_SNIFF_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_SNIFF_BYTES = 4096


@dataclass(frozen=True, slots=True)
class FetchCapture:
    """The fetches columns this command needs."""

    fetch_id: int
    url: str
    kind: str
    status: int | None
    requested_at: datetime
    error_class: str | None
    error: str | None
    warc_path: str | None
    warc_offset: int | None


def find_fetch(con: duckdb.DuckDBPyConnection, fetch_id: int) -> FetchCapture | None:
    """The fetches row ``fetch_id``, or None when there is none."""
    row = con.execute(
        """
        select fetch_id, url, kind, status, requested_at, error_class, error,
               warc_path, warc_offset
        from fetches where fetch_id = ?
        """,
        [fetch_id],
    ).fetchone()
    return FetchCapture(*row) if row else None


def _is_text(content_type: str | None, body: bytes) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media.startswith("text/") or media in _TEXT_TYPES:
        return True
    if media.endswith(("+xml", "+json")):
        return True
    if media in _SNIFF_TYPES:
        # Servers label feeds and pages octet-stream often enough; NUL bytes mean binary.
        return b"\x00" not in body[:_SNIFF_BYTES]
    return False


def _no_capture_reason(fetch: FetchCapture) -> str:
    if fetch.status is None:
        detail = f"{fetch.error_class}: {fetch.error}" if fetch.error_class else "no details"
        return f"no HTTP response came ({detail}), so there is nothing to show"
    return "it was fetched before captures were kept, or writing the capture failed"


def _body_fields(capture: Capture) -> dict[str, Any]:
    body = capture.body
    if _is_text(capture.content_type, body):
        decoded = decode_document(body, capture.content_type)
        return {
            "body": decoded.text,
            "body_bytes": len(body),
            "charset": decoded.charset,
            "charset_source": decoded.source,
        }
    return {"body": None, "body_bytes": len(body), "charset": None, "charset_source": None}


def _print_json(fetch: FetchCapture, capture: Capture, body_only: bool) -> None:
    fields: dict[str, Any] = {"fetch_id": fetch.fetch_id}
    if not body_only:
        fields |= {
            "kind": fetch.kind,
            "url": fetch.url,
            "final_url": capture.url,
            "requested_at": capture.date.isoformat().replace("+00:00", "Z"),
            "status": capture.status,
            "status_line": capture.status_line,
            "headers": dict(capture.stored_headers),
            "warc_path": fetch.warc_path,
            "warc_offset": fetch.warc_offset,
            "warc_record_id": capture.record_id,
            "truncated": capture.truncated,
        }
    fields |= _body_fields(capture)
    sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")


def _print_text(capture: Capture, body_only: bool) -> None:
    out = sys.stdout
    if not body_only:
        out.write(capture.status_line + "\n")
        for name, value in capture.stored_headers:
            out.write(f"{name}: {value}\n")
        out.write("\n")
    fields = _body_fields(capture)
    if fields["body"] is None:
        media = capture.content_type or "unknown type"
        out.write(f"[{fields['body_bytes']} bytes of {media}: not text, not shown]\n")
    elif fields["body"]:
        out.write(fields["body"] if fields["body"].endswith("\n") else fields["body"] + "\n")
    out.flush()


def _error(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 1


def show_capture(
    db_path: Path,
    fetch_id: int,
    *,
    body_only: bool = False,
    output: str = "text",
    captures_dir: Path | None = None,
) -> int:
    """Print the stored response of fetch ``fetch_id``; the command's exit code.

    ``output`` is ``"text"`` (``"table"`` is accepted as a synonym, for the CLI's shared
    ``--format`` option) or ``"json"``; anything else returns 2. ``captures_dir`` is
    ``Settings.captures_dir``: None means ``captures/`` beside ``db_path``. Messages for the
    user go to standard error; exit code 1 for an unknown fetch, no capture, or a missing or
    damaged WARC file.
    """
    if output not in ("text", "table", "json"):
        sys.stderr.write(f"error: --format {output} is not supported here; use table or json\n")
        return 2  # bad usage, as the CLI's exit codes go
    try:
        con = connect(db_path, read_only=True, wait_seconds=WAIT_SECONDS)
    except WarehouseError as exc:
        return _error(str(exc))
    try:
        fetch = find_fetch(con, fetch_id)
    finally:
        con.close()
    if fetch is None:
        return _error(f"no fetch with id {fetch_id} in {db_path}")
    if fetch.warc_path is None or fetch.warc_offset is None:
        return _error(
            f"fetch {fetch_id} ({fetch.kind} {fetch.url}) has no capture: "
            f"{_no_capture_reason(fetch)}"
        )
    root = captures_root(db_path, captures_dir)
    try:
        capture = read_capture(root, fetch.warc_path, fetch.warc_offset)
    except CaptureError as exc:
        return _error(f"fetch {fetch_id} ({fetch.kind} {fetch.url}): {exc}")
    if capture.truncated:
        sys.stderr.write(
            f"note: the body was not stored in full (WARC-Truncated: {capture.truncated})\n"
        )
    if output == "json":
        _print_json(fetch, capture, body_only)
    else:
        _print_text(capture, body_only)
    return 0
