"""Local WARC/ARC files: every file of corpus/backfill/warc/ read by ``iter_archive`` and, to
compare, by warcio directly; damaged and fake archives give RecordProblems, never exceptions."""

from __future__ import annotations

import gzip
import io
import random
import re
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from flows.archive_files import (
    ArchiveFileError,
    RecordProblem,
    iter_archive,
    warc_files,
)
from transforms.archives import ArchivedResponse

HTML_TYPES = ("text/html", "application/xhtml+xml")
SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
# Files that must yield at least one page: a reader that finds nothing would pass the counts.
WITH_PAGES = {
    "cc-range-fetch-example.com-record.warc.gz",
    "resiliparse-houstonpress-clipped.warc.gz",
    "warcio-example-resource.warc.gz",
    "warcio-example-truncated.warc",
    "warcio-example.arc.gz",
    "warcio-example.warc",
    "warcio-example.warc.gz",
    "warcio-iana.org-chunked.warc",
}


def _warc_dir(corpus: Path) -> Path:
    return corpus / "backfill" / "warc"


def _warcio_html(path: Path) -> list[tuple[int, str, bytes]]:
    """(offset, url, body) of the HTML response/resource records warcio reads, until it fails."""
    found = []
    with path.open("rb") as handle:
        iterator = ArchiveIterator(handle, arc2warc=True)
        try:
            for record in iterator:
                if record.rec_type not in ("response", "resource"):
                    continue
                headers = record.http_headers if record.rec_type == "response" else None
                source = headers if headers is not None else record.rec_headers
                media = (source.get_header("Content-Type") or "").split(";")[0].strip().lower()
                if media in HTML_TYPES:
                    body = record.content_stream().read()
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    found.append((iterator.get_record_offset(), url, body))
        except Exception:  # the damaged samples: count what came before
            pass
    return found


def _gunzip(path: Path, size: int = -1) -> bytes:
    with gzip.open(path) as handle:
        return handle.read(size)


def _items(path: Path) -> list[tuple[int, ArchivedResponse | RecordProblem]]:
    return list(iter_archive(path))


def _pages(path: Path) -> list[ArchivedResponse]:
    return [item for _, item in _items(path) if isinstance(item, ArchivedResponse)]


def _problems(path: Path) -> list[RecordProblem]:
    return [item for _, item in _items(path) if isinstance(item, RecordProblem)]


@pytest.mark.corpus
def test_every_corpus_file_gives_the_html_records_warcio_finds(corpus: Path) -> None:
    files = warc_files(_warc_dir(corpus))
    listed = sorted(p.name for p in _warc_dir(corpus).iterdir() if p.name.endswith(SUFFIXES))
    assert sorted(p.name for p in files) == listed and len(files) == 9
    for path in files:
        expected = _warcio_html(path)
        items = _items(path)
        pages = [(offset, item) for offset, item in items if isinstance(item, ArchivedResponse)]
        assert all(item.is_html for _, item in pages), path.name
        assert len(pages) == len(expected), path.name
        assert [offset for offset, _ in pages] == [offset for offset, _, _ in expected], path.name
        for (_, page), (_, url, body) in zip(pages, expected, strict=True):
            assert page.url == url and page.body == body, path.name
            assert page.captured_at is not None and page.captured_at.tzinfo is not None
        if path.name in WITH_PAGES:
            assert pages, path.name
        for _, item in items:  # every problem says where and what
            if isinstance(item, RecordProblem):
                assert item.path == str(path) and item.error and item.error_class, item


@pytest.mark.corpus
def test_bad_gzip_is_one_problem_and_no_exception(corpus: Path) -> None:
    path = _warc_dir(corpus) / "warcio-example-bad-gzip.warc.gz"
    items = _items(path)
    assert [type(item) for _, item in items] == [RecordProblem]
    (problem,) = _problems(path)
    assert problem.error_class == "warc_unreadable" and "recompress" in problem.error


@pytest.mark.corpus
def test_truncated_and_clipped_files_say_so(corpus: Path) -> None:
    (page,) = _pages(_warc_dir(corpus) / "warcio-example-truncated.warc")
    # The record's HTTP Content-Length says 606 bytes of gzip; the record holds 2 fewer.
    assert page.truncated == "content-length: 604 of 606 payload bytes"
    assert page.body.startswith(b"<!doctype html>")

    clipped = _warc_dir(corpus) / "resiliparse-houstonpress-clipped.warc.gz"
    (page,) = _pages(clipped)
    header = re.search(rb"Content-Length: (\d+)", _gunzip(clipped, 2000))
    assert header is not None
    declared = int(header.group(1))
    assert page.truncated is not None and page.truncated.startswith("eof")
    assert f"of {declared} bytes" in page.truncated
    assert len(page.body) == len(_warcio_html(clipped)[0][2]) > 50_000
    assert b"Chance the Rapper" in page.body

    (page,) = _pages(_warc_dir(corpus) / "warcio-example.warc")
    assert page.truncated is None


def _dechunk(data: bytes) -> bytes:
    out: list[bytes] = []
    rest = data
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(rest[:size])
        rest = rest[size + 2 :]


@pytest.mark.corpus
def test_chunked_response_is_dechunked(corpus: Path) -> None:
    path = _warc_dir(corpus) / "warcio-iana.org-chunked.warc"
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "response":
                assert record.http_headers.get_header("Transfer-Encoding") == "chunked"
                raw = record.raw_stream.read()
                break
    (page,) = _pages(path)
    assert page.body == _dechunk(raw) and page.body != raw
    assert page.body.startswith(b"<!doctype html>") and page.body.rstrip().endswith(b"</html>")
    assert page.url == "http://www.iana.org/" and page.status == 200


@pytest.mark.corpus
def test_resource_and_arc_records(corpus: Path) -> None:
    (resource,) = _pages(_warc_dir(corpus) / "warcio-example-resource.warc.gz")
    assert resource.record_type == "resource" and resource.status is None
    assert resource.content_type == "text/html; charset=utf-8"

    arc = _warc_dir(corpus) / "warcio-example.arc.gz"
    (page,) = _pages(arc)
    # The ARC record line: "<url> <ip> <yyyyMMddhhmmss> <mime> <length>".
    line = re.search(rb"\nhttp://example\.com/ \S+ (\d{14}) text/html", _gunzip(arc))
    assert line is not None
    assert page.captured_at is not None
    assert page.captured_at.strftime("%Y%m%d%H%M%S").encode() == line.group(1)
    assert (page.url, page.status, page.record_type) == ("http://example.com/", 200, "response")


def _boundaries(path: Path) -> set[int]:
    """Offsets where a cut leaves only whole records: record starts and ends (plus the blank
    lines after a record of an uncompressed file)."""
    cuts = set()
    with path.open("rb") as handle:
        iterator = ArchiveIterator(handle, arc2warc=True)
        for _ in iterator:
            iterator.read_to_end()
            start, length = iterator.get_record_offset(), iterator.get_record_length()
            cuts |= {start, *range(start + length, start + length + 5)}
    return cuts


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["warcio-example.warc", "warcio-example.warc.gz"])
def test_cut_anywhere_is_reported(corpus: Path, tmp_path: Path, name: str) -> None:
    """A copy cut at (almost) any byte: no exception, and unless the cut falls between records,
    a problem or a truncated page says the file is incomplete."""
    data = (_warc_dir(corpus) / name).read_bytes()
    whole = _boundaries(_warc_dir(corpus) / name)
    copy = tmp_path / name
    for cut in [*range(1, len(data), 7), *sorted(whole)]:
        if cut >= len(data):
            continue
        copy.write_bytes(data[:cut])
        items = [item for _, item in iter_archive(copy)]
        flagged = any(
            (isinstance(item, RecordProblem) and item.error_class != "not_html")
            or (isinstance(item, ArchivedResponse) and item.truncated)
            for item in items
        )
        assert flagged or cut in whole, f"cut at {cut}: {items}"


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.corpus
def test_fake_and_damaged_archives_never_raise(corpus: Path, tmp_path: Path) -> None:
    good_gz = (_warc_dir(corpus) / "warcio-example.warc.gz").read_bytes()
    good = (_warc_dir(corpus) / "warcio-example.warc").read_bytes()
    rng = random.Random(5)
    cases: dict[str, tuple[bytes, set[str]]] = {
        "empty.warc": (b"", {"warc_empty"}),
        "random.warc": (rng.randbytes(5000), {"warc_unreadable"}),
        "random.warc.gz": (b"\x1f\x8b" + rng.randbytes(5000), {"warc_unreadable"}),
        "text.warc.gz": (b"this is plain text, not gzip\n" * 40, {"warc_unreadable"}),
        "text-five-words.warc": (b"hello this is just text\n" * 20, {"warc_unreadable"}),
        "page.warc": (b"<html><body>404 Not Found</body></html>", {"warc_unreadable"}),
        "gzipped-text.warc.gz": (gzip.compress(b"not a warc at all\n" * 9), {"warc_unreadable"}),
        "whole-file-gzip.warc.gz": (gzip.compress(good), {"warc_unreadable"}),
        "tail-garbage.warc.gz": (good_gz + b"garbage", {"warc_unreadable"}),
        "tail-gzip-header.warc.gz": (good_gz + good_gz[:6], {"warc_truncated"}),
        "tail-garbage.warc": (good + b"garbage", {"warc_unreadable"}),
        "middle-garbage.warc.gz": (good_gz[:784] + b"X" * 50 + good_gz[784:], {"warc_unreadable"}),
    }
    for name, (data, classes) in cases.items():
        path = _write(tmp_path, name, data)
        problems = _problems(path)
        assert {p.error_class for p in problems} == classes, (name, problems)
        assert all(p.path == str(path) and p.offset is not None for p in problems)
    # Blank lines after the last record are no damage.
    path = _write(tmp_path, "newlines.warc", good + b"\r\n\r\n\n")
    assert _problems(path) == [] and len(_pages(path)) == 1
    # Pages before the damage are kept.
    assert len(_pages(tmp_path / "tail-garbage.warc.gz")) == 1


def _member(record_type: str, payload: bytes, content_type: str) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], "HTTP/1.1")
    record = writer.create_warc_record(
        "http://news.example.com/x",
        record_type,
        payload=io.BytesIO(payload),
        length=len(payload),
        http_headers=http if record_type == "response" else None,
        warc_content_type=content_type if record_type == "resource" else None,
    )
    writer.write_record(record)
    return out.getvalue()


def test_non_html_records_are_counted_not_yielded(tmp_path: Path) -> None:
    records = [
        _member("response", b"\x89PNG\r\n" + bytes(3000), "image/png"),
        _member("response", b"<html><body>page</body></html>", "text/html"),
        _member("resource", b'{"a": 1}', "application/json"),
        _member("response", b"<!DOCTYPE html><p>sniffed", "application/octet-stream"),
        _member("response", b"<?xml version='1.0'?><rss/>", "application/rss+xml"),
    ]
    path = _write(tmp_path, "mixed.warc.gz", b"".join(records))
    items = _items(path)
    offsets = [0]
    for member in records[:-1]:
        offsets.append(offsets[-1] + len(member))
    assert [offset for offset, _ in items] == offsets
    kinds: list[Any] = [
        item.error_class if isinstance(item, RecordProblem) else "page" for _, item in items
    ]
    assert kinds == ["not_html", "page", "not_html", "page", "not_html"]
    png = items[0][1]
    assert isinstance(png, RecordProblem) and png.url == "http://news.example.com/x"
    assert "image/png" in png.error


def test_warc_files_walks_folders_in_a_stable_order(tmp_path: Path) -> None:
    for name in (
        "b/2.warc.gz",
        "b/1.ARC.GZ",
        "a.warc",
        "c/d/e.arc",
        "notes.txt",
        "x.warc.gz.bad",
        "b/10.warc",
    ):
        _write(tmp_path, name, b"x")
    (tmp_path / "folder.warc").mkdir()
    found = [p.relative_to(tmp_path).as_posix() for p in warc_files(tmp_path)]
    assert found == ["a.warc", "b/1.ARC.GZ", "b/10.warc", "b/2.warc.gz", "c/d/e.arc"]
    assert warc_files(tmp_path) == warc_files(tmp_path)
    assert warc_files(tmp_path / "notes.txt") == [tmp_path / "notes.txt"]  # named explicitly
    assert warc_files(tmp_path / "c" / "d" / "e.arc") == [tmp_path / "c" / "d" / "e.arc"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert warc_files(empty) == []


def test_missing_paths_raise_archive_file_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ArchiveFileError, match="nope"):
        warc_files(missing)
    with pytest.raises(ArchiveFileError, match="nope"):
        list(iter_archive(missing / "x.warc.gz"))
    with pytest.raises(ArchiveFileError):
        list(iter_archive(tmp_path))  # a folder is not a file


def _several_records(path: Path, gzipped: bool) -> None:
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=gzipped)
        for n in range(6):
            html = n != 3  # one image among the pages
            body = f"<html><body><p>page {n}</p></body></html>".encode() if html else b"GIF89a"
            kind = "text/html" if html else "image/gif"
            record = writer.create_warc_record(
                f"http://site.example/{n}",
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=StatusAndHeaders(
                    "200 OK", [("Content-Type", kind)], protocol="HTTP/1.1"
                ),
            )
            writer.write_record(record)


@pytest.mark.parametrize("gzipped", [True, False])
def test_reading_from_a_yielded_offset_resumes_exactly_there(tmp_path: Path, gzipped: bool) -> None:
    """A backfill resumes inside a file at the offset of the next record it had not taken:
    from there, the same records come with the same (whole-file) offsets, none twice."""
    path = tmp_path / ("crawl.warc.gz" if gzipped else "crawl.warc")
    _several_records(path, gzipped)
    whole = _items(path)
    assert len(whole) == 6
    for cut, (offset, _) in enumerate(whole):
        rest = list(iter_archive(path, offset))
        assert [o for o, _ in rest] == [o for o, _ in whole[cut:]]
        assert [type(i) for _, i in rest] == [type(i) for _, i in whole[cut:]]
    assert list(iter_archive(path, path.stat().st_size)) == []
