"""Local WARC and ARC files as a backfill source: find them, read every HTML response out of them.

Archives from elsewhere (a crawler's output, a Common Crawl download, someone's web-archive
export) are not ours: they come cut off, mis-compressed or full of non-HTML records. So
:func:`iter_archive` never raises for bad data. It yields, per record and with its byte offset,
either an :class:`~transforms.archives.ArchivedResponse` (an HTML page, possibly with
``truncated`` set) or a :class:`RecordProblem` the caller can count and report. Reading stops at
the first damage it cannot step over; what came before has been yielded by then.

``RecordProblem.error_class`` values:

* ``not_html`` -- a response/resource record whose payload is not HTML (images, scripts, feeds,
  DNS records ...); skipped, reported so that a file with no pages can be told from a broken one.
* ``no_url`` -- a response/resource record without ``WARC-Target-URI``; skipped.
* ``warc_truncated`` -- the file ends inside a record that is not an HTML response (an HTML
  response cut off is yielded with ``truncated`` set instead): in its header (no
  Content-Length), its block, or its gzip member; or bytes at the end of the file are no
  complete record. A cut-off download, or a file still being written. Nothing follows it.
* ``warc_unreadable`` -- no record can be read at this point: not a WARC/ARC file, corrupt gzip,
  a file gzipped as a whole instead of one member per record. The rest of the file is skipped.
* ``warc_empty`` -- the file has no bytes at all.

Records of other types (warcinfo, request, metadata, revisit, conversion, continuation) are
skipped silently: they hold no page of their own (a revisit points at an earlier response).
HTML responses with any HTTP status are yielded (``status`` says which): 404 pages and redirects
are for the caller to drop.

Missing files are not bad data but a wrong argument: :class:`ArchiveFileError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator

from transforms.archives import ArchivedResponse, response_from_record

__all__ = [
    "ARCHIVE_SUFFIXES",
    "ArchiveFileError",
    "RecordProblem",
    "iter_archive",
    "warc_files",
]

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_PAYLOAD_TYPES = ("response", "resource")
_READ_BLOCK = 65536
# ArchivedResponse.truncated prefixes that mean the file is damaged, not a crawler's choice.
_DAMAGE = ("eof", "content-length")
# warcio's message for a file gzipped as one stream rather than one member per record.
_WHOLE_FILE_GZIP = "non-chunked gzip"


class ArchiveFileError(Exception):
    """An archive path that does not exist or cannot be opened (not damage inside a file)."""


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """A record (or the rest of a file) that gave no HTML page; see the module docstring."""

    path: str
    offset: int | None  # where the record or the unreadable part starts
    error_class: str  # not_html | no_url | warc_truncated | warc_unreadable | warc_empty
    error: str  # what happened, and what was done about it
    url: str | None = None


def warc_files(path: Path) -> list[Path]:
    """The archive files at ``path``: the file itself, or every ``*.warc``, ``*.warc.gz``,
    ``*.arc``, ``*.arc.gz`` under the folder (recursively, symlinked folders not followed),
    sorted by their path below it so that runs and resumes see the same order.

    A file named explicitly is taken whatever its name. Raises :class:`ArchiveFileError` when
    ``path`` does not exist or is neither a file nor a folder.
    """
    root = Path(path)
    if root.is_file():
        return [root]
    if root.is_dir():
        found = []
        for folder, _subfolders, names in os.walk(root):
            for name in names:
                candidate = Path(folder) / name
                if name.lower().endswith(ARCHIVE_SUFFIXES) and candidate.is_file():
                    found.append(candidate)
        return sorted(found, key=lambda file: file.relative_to(root).parts)
    if not root.exists():
        raise ArchiveFileError(f"archive path {root} does not exist")
    raise ArchiveFileError(f"archive path {root} is neither a file nor a folder")


def _brief(exc: BaseException) -> str:
    # warcio quotes the undecodable "first line" it found: binary noise, often kilobytes of it.
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:100]}{'…' if len(text) > 100 else ''}"


def _unreadable(path: str, offset: int, exc: BaseException) -> RecordProblem:
    if _WHOLE_FILE_GZIP in str(exc):
        error = (
            f"after offset {offset} the file turns out to be gzipped as one stream, not one gzip "
            "member per record, so records cannot be told apart; recompress it (`warcio "
            "recompress`) and read it again. The rest of the file was skipped"
        )
    else:
        error = (
            f"no readable WARC/ARC record at offset {offset} ({_brief(exc)}); "
            "the rest of the file was skipped"
        )
    return RecordProblem(path, offset, "warc_unreadable", error)


def _missing_bytes(record: Any) -> int:
    """Reads the record to its end; how many of its declared bytes never came."""
    stream = record.raw_stream
    while stream.read(_READ_BLOCK):
        pass
    missing = getattr(stream, "limit", 0)  # warcio's LimitReader
    return missing if isinstance(missing, int) and missing > 0 else 0


def _payload_item(record: Any, path: str, offset: int) -> ArchivedResponse | RecordProblem:
    response = response_from_record(record, keep_non_html=False)
    kind = response.record_type
    if not response.url:
        return RecordProblem(
            path, offset, "no_url", f"a {kind} record without WARC-Target-URI; skipped"
        )
    if response.is_html:
        return response
    status = f" {response.status}" if response.status is not None else ""
    what = f"{kind}{status} {response.content_type or 'without Content-Type'}"
    if response.truncated and response.truncated.startswith(_DAMAGE):
        # The file is damaged here; that the record was not HTML (as far as it can be told from
        # what is left) matters less.
        return RecordProblem(
            path,
            offset,
            "warc_truncated",
            f"the {what} record at offset {offset} is cut off ({response.truncated}); skipped",
            response.url,
        )
    cut = f"; its payload is incomplete ({response.truncated})" if response.truncated else ""
    return RecordProblem(
        path, offset, "not_html", f"{what} is not HTML; skipped{cut}", response.url
    )


def _member_cut(iterator: Any) -> bool:
    """True when the gzip member just read stops before its end (a gzip file cut off).

    warcio reads what there is without a word; its zlib object still knows.
    """
    decompressor = getattr(getattr(iterator, "reader", None), "decompressor", None)
    return decompressor is not None and getattr(decompressor, "eof", True) is False


def _classify(
    record: Any, iterator: Any, path: str, offset: int
) -> ArchivedResponse | RecordProblem | None:
    """What one record amounts to: a page, a problem, or None (skipped silently)."""
    kind = record.rec_type
    item: ArchivedResponse | RecordProblem | None = None
    if kind in _PAYLOAD_TYPES:
        item = _payload_item(record, path, offset)
    elif missing := _missing_bytes(record):
        item = RecordProblem(
            path,
            offset,
            "warc_truncated",
            f"the {kind} record at offset {offset} is cut off ({missing} bytes missing): "
            "the file ends there",
        )
    iterator.read_to_end()  # so the gzip member (if any) is read to its end
    if not _member_cut(iterator):
        return item
    cut = f"the gzip member of the {kind} record at offset {offset} is cut off: the file ends there"
    if isinstance(item, ArchivedResponse):
        return item if item.truncated else replace(item, truncated=f"eof: {cut}")
    if item is None or item.error_class == "not_html":
        url = item.url if item is not None else None
        return RecordProblem(path, offset, "warc_truncated", cut, url)
    return item


def _no_length(path: str, offset: int, kind: str, declared: str) -> RecordProblem:
    """Content-Length is mandatory in WARC (and set by warcio for ARC): without it, where the
    next record starts is unknown, so reading stops."""
    if not declared:  # the header block ends before it: cut off
        return RecordProblem(
            path,
            offset,
            "warc_truncated",
            f"the {kind} record at offset {offset} has no Content-Length: its header is cut "
            "off; the rest of the file was skipped",
        )
    # warcio reads any five words as an ARC header line: text files end up here.
    return RecordProblem(
        path,
        offset,
        "warc_unreadable",
        f"no WARC/ARC record at offset {offset} (a Content-Length of {declared[:40]!r}); "
        "the rest of the file was skipped",
    )


def _read_records(
    handle: BinaryIO, path: str, size: int, start: int = 0
) -> Iterator[tuple[int, ArchivedResponse | RecordProblem]]:
    # warcio reports offsets from the file's start (it asks the handle), also after a seek.
    iterator = ArchiveIterator(handle, arc2warc=True)
    records = iter(iterator)
    end = start  # where the last record read in full ended
    try:
        while True:
            try:
                record = next(records, None)
            # warcio is loose with bytes that are not a record: besides its own ArchiveLoadFailed
            # it lets zlib errors, EOFError, ValueError and AttributeError escape.
            except Exception as exc:
                yield end, _unreadable(path, end, exc)
                return
            if record is None:
                break
            offset = int(iterator.offset)  # the record's start until warcio moves past it
            declared = (record.rec_headers.get_header("Content-Length") or "").strip()
            if not declared.isdigit():
                yield offset, _no_length(path, offset, record.rec_type, declared)
                return
            try:
                item = _classify(record, iterator, path, offset)
                length = int(iterator.get_record_length())
            except Exception as exc:
                yield offset, _unreadable(path, offset, exc)
                return
            # warcio reports nonsense lengths for a file gzipped as a whole; the error follows.
            end = offset + length if length > 0 else max(end, offset)
            if item is not None:
                yield offset, item
    finally:
        iterator.close()
    if end < size:
        # warcio ends quietly on a gzip member cut short: what is left over tells. Blank lines
        # after the last record of an uncompressed file are no damage.
        handle.seek(end)
        tail = handle.read(_READ_BLOCK)
        if size - end > len(tail) or tail.strip():
            yield (
                end,
                RecordProblem(
                    path,
                    end,
                    "warc_truncated",
                    f"{size - end} bytes after offset {end} are no complete record: the file "
                    "was cut off (or is still being written); they were skipped",
                ),
            )


def iter_archive(
    path: Path, start: int = 0
) -> Iterator[tuple[int, ArchivedResponse | RecordProblem]]:
    """Every record of ONE WARC or ARC file (plain or gzipped), with its byte offset, in file
    order: HTML pages as :class:`ArchivedResponse`, everything worth counting as
    :class:`RecordProblem` (see the module docstring). Never raises for bad data; raises
    :class:`ArchiveFileError` when the file cannot be opened.

    ``start``: the offset of a record to begin at (one this function yielded before: a
    backfill resuming inside a large file); offsets stay those of the whole file.
    """
    file = Path(path)
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise ArchiveFileError(f"archive file {file} does not exist") from exc
    except OSError as exc:
        raise ArchiveFileError(f"cannot open archive file {file}: {exc}") from exc
    with handle:
        try:
            size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            raise ArchiveFileError(f"cannot read archive file {file}: {exc}") from exc
        if size == 0:
            yield 0, RecordProblem(str(file), 0, "warc_empty", "the file is empty; nothing read")
            return
        if start >= size:
            return
        try:
            handle.seek(start)
            yield from _read_records(handle, str(file), size, start)
        except OSError as exc:  # the disk, not the data: still reported, not raised
            yield (
                0,
                RecordProblem(
                    str(file),
                    None,
                    "warc_unreadable",
                    f"reading failed ({_brief(exc)}); the rest of the file was skipped",
                ),
            )
