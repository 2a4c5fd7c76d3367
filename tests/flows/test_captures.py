"""Raw WARC captures: written from many threads, rotated, read back by offset, damage detected,
and shown by ``newsdesk capture``."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.capture_cli import show_capture
from flows.captures import (
    CaptureDamaged,
    CaptureMissing,
    CaptureRef,
    CaptureWriteError,
    CaptureWriter,
    captures_root,
    iter_captures,
    read_capture,
)
from flows.http import HttpResult
from flows.settings import Settings
from warehouse.migrate import migrate

T0 = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
NAME = re.compile(r"^newsdesk-\d{8}T\d{6}Z-\d{5}-\d+\.warc\.gz$")


def _result(i: int) -> HttpResult:
    """A varied mix: HTML with a Content-Encoding, feeds, binary, errors with bodies, 304s."""
    at = T0 + timedelta(seconds=i)
    url = f"https://news.example/{i}"
    match i % 5:
        case 0:
            body = f"<html><body><p>Artikel {i}: Grüße aus Köln.</p></body></html>".encode()
            headers = {
                "content-type": "text/html; charset=utf-8",
                "content-encoding": "gzip",
                "etag": f'W/"{i}"',
                "cache-control": "max-age=60",
            }
            return HttpResult(
                url,
                at,
                url + "?moved",
                200,
                body * (1 + i),
                12,
                headers,
                redirects=((301, url + "?moved"),),
            )
        case 1:
            body = f'<?xml version="1.0"?><rss><channel><title>F{i}</title></channel></rss>'
            headers = {"content-type": "application/rss+xml", "last-modified": "Sat, 01 Mar 2025"}
            return HttpResult(url, at, url, 200, body.encode(), 3, headers)
        case 2:
            return HttpResult(
                url, at, url, 200, bytes(range(256)) * (i + 1), 7, {"content-type": "image/png"}
            )
        case 3:
            return HttpResult(
                url,
                at,
                url,
                404,
                b"not here",
                1,
                {"content-type": "text/plain"},
                error_class="http_4xx",
                error="404 Not Found",
            )
        case _:
            return HttpResult(url, at, url, 304, b"", 1, {"etag": '"abc"'})


def _expected_headers(result: HttpResult) -> dict[str, str]:
    return dict(result.headers)


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, list[tuple[HttpResult, CaptureRef]]]:
    """40 results written by 8 threads through one writer that rotates every ~2 kB."""
    root = tmp_path / "captures"
    results = [_result(i) for i in range(40)]
    with CaptureWriter(root, rotate_bytes=2_000) as writer, ThreadPoolExecutor(8) as pool:
        refs = list(pool.map(lambda r: writer.write(r, "page"), results))
    pairs = []
    for result, ref in zip(results, refs, strict=True):
        assert ref is not None
        pairs.append((result, ref))
    return root, pairs


def test_round_trip_by_offset(written: tuple[Path, list[tuple[HttpResult, CaptureRef]]]) -> None:
    root, pairs = written
    for result, ref in pairs:
        assert not Path(ref.path).is_absolute() and NAME.match(ref.path), ref.path
        capture = read_capture(root, ref.path, ref.offset)
        assert capture.url == result.final_url
        assert capture.requested_url == result.url
        assert capture.status == result.status
        assert capture.headers == _expected_headers(result)
        assert capture.body == result.body
        assert capture.date == result.requested_at
        assert capture.kind == "page"
        assert capture.truncated is None
    # Offsets are unique per file, and records do not overlap.
    by_file: dict[str, list[CaptureRef]] = {}
    for _, ref in pairs:
        by_file.setdefault(ref.path, []).append(ref)
    for refs in by_file.values():
        refs.sort(key=lambda r: r.offset)
        for before, after in pairwise(refs):
            assert before.offset + before.length <= after.offset


def test_rotation_and_independent_warcio_read(
    written: tuple[Path, list[tuple[HttpResult, CaptureRef]]],
) -> None:
    root, pairs = written
    files = sorted(p.name for p in root.iterdir())
    assert len(files) > 3, "a 2 kB rotate size must give several files"
    assert all(NAME.match(name) for name in files)
    expected = Counter(ref.path for _, ref in pairs)
    assert set(expected) == set(files)
    for name in files:
        # Rotation happens after the record that crosses the limit: one record over at most.
        largest = max(ref.length for _, ref in pairs if ref.path == name)
        assert (root / name).stat().st_size < 2_000 + largest
        types = []
        with (root / name).open("rb") as handle:
            # check_digests="raise": warcio recomputes block and payload digests itself.
            for record in ArchiveIterator(handle, check_digests="raise"):
                types.append(record.rec_type)
                if record.rec_type == "response":
                    record.content_stream().read()
        assert types[0] == "warcinfo"
        assert types.count("response") == expected[name]
        # The whole file is valid gzip (one member per record), so zcat and friends work.
        assert gzip.decompress((root / name).read_bytes()).startswith(b"WARC/1.1\r\n")


def test_iter_captures_matches_refs(
    written: tuple[Path, list[tuple[HttpResult, CaptureRef]]],
) -> None:
    root, pairs = written
    seen = {}
    for file in root.iterdir():
        for offset, capture in iter_captures(file):
            seen[(file.name, offset)] = capture.url
    assert seen == {(ref.path, ref.offset): result.final_url for result, ref in pairs}


def test_stored_record_fields(tmp_path: Path) -> None:
    result = _result(0)
    with CaptureWriter(tmp_path) as writer:
        ref = writer.write(result, "feed")
    assert ref is not None
    with (tmp_path / ref.path).open("rb") as handle:
        handle.seek(ref.offset)
        record = next(iter(ArchiveIterator(handle)))
        rec = record.rec_headers
        assert rec.get_header("WARC-Type") == "response"
        assert rec.get_header("WARC-Target-URI") == result.final_url
        assert rec.get_header("WARC-Date") == "2025-03-01T08:30:15.123456Z"
        assert rec.get_header("WARC-Payload-Digest").startswith("sha1:")
        assert rec.get_header("WARC-Newsdesk-Payload") == "decoded"
        assert rec.get_header("WARC-Newsdesk-Content-Encoding") == "gzip"
        assert rec.get_header("WARC-Newsdesk-Redirects") == f"301 {result.final_url}"
        assert rec.get_header("WARC-Newsdesk-Kind") == "feed"
        http = record.http_headers
        assert http.protocol == "HTTP/1.1" and http.statusline == "200 OK"
        # Decoded body: no Content-Encoding, Content-Length of the stored bytes.
        assert http.get_header("Content-Encoding") is None
        assert http.get_header("Content-Length") == str(len(result.body))
        assert record.content_stream().read() == result.body


def test_no_response_is_not_written(tmp_path: Path) -> None:
    root = tmp_path / "captures"
    failures = [
        HttpResult(
            "https://x.example/",
            T0,
            "https://x.example/",
            error_class="connect",
            error="ConnectError: refused",
        ),
        HttpResult("https://x.example/a", T0, error_class="dns", error="no such host"),
        HttpResult("https://x.example/b", T0, error_class="robots_disallowed", error="/b"),
    ]
    with CaptureWriter(root) as writer:
        assert [writer.write(r, "page") for r in failures] == [None, None, None]
        assert writer.files == []
    assert not root.exists(), "no response, no file"


def test_incomplete_body_is_marked_truncated(tmp_path: Path) -> None:
    result = HttpResult(
        "https://x.example/big",
        T0,
        "https://x.example/big",
        200,
        b"",
        9000,
        {"content-type": "text/html"},
        "too_large",
        "body exceeds 10 bytes; stopped reading",
    )
    with CaptureWriter(tmp_path) as writer:
        ref = writer.write(result, "page")
    assert ref is not None
    capture = read_capture(tmp_path, ref.path, ref.offset)
    assert capture.truncated == "length"
    assert capture.error_class == "too_large"
    assert capture.body == b""


def test_truncated_file_raises(tmp_path: Path) -> None:
    with CaptureWriter(tmp_path) as writer:
        refs = [writer.write(_result(i), "page") for i in (0, 5, 10)]
    assert all(refs) and len({r.path for r in refs if r}) == 1
    first, _, last = refs
    assert first is not None and last is not None
    file = tmp_path / last.path
    file.write_bytes(file.read_bytes()[: last.offset + last.length // 2])
    with pytest.raises(CaptureDamaged, match="truncated"):
        read_capture(tmp_path, last.path, last.offset)
    # Earlier records are intact and still readable by offset.
    assert read_capture(tmp_path, first.path, first.offset).body == _result(0).body
    # Iterating yields the complete records, then reports the cut-off tail.
    offsets = []
    with pytest.raises(CaptureDamaged, match="truncated"):
        for offset, _ in iter_captures(file):
            offsets.append(offset)
    assert offsets == [r.offset for r in refs[:2] if r]
    # Cut inside the gzip member's header too.
    file.write_bytes(file.read_bytes()[: last.offset + 5])
    with pytest.raises(CaptureDamaged):
        read_capture(tmp_path, last.path, last.offset)


def test_wrong_offset_and_missing_file(tmp_path: Path) -> None:
    with CaptureWriter(tmp_path) as writer:
        ref = writer.write(_result(1), "feed")
    assert ref is not None
    with pytest.raises(CaptureDamaged, match="wrong offset"):
        read_capture(tmp_path, ref.path, ref.offset + 7)
    with pytest.raises(CaptureDamaged, match="only"):
        read_capture(tmp_path, ref.path, 10**9)
    with pytest.raises(CaptureDamaged, match="not a response"):
        read_capture(tmp_path, ref.path, 0)  # the warcinfo record
    with pytest.raises(CaptureMissing, match="does not exist"):
        read_capture(tmp_path / "elsewhere", ref.path, ref.offset)
    with pytest.raises(CaptureMissing):
        list(iter_captures(tmp_path / "nope.warc.gz"))
    # An absolute path is used as it is, whatever the root.
    absolute = str(tmp_path / ref.path)
    assert read_capture("/nonexistent", absolute, ref.offset).status == 200


def test_write_failure_raises_and_recovers(tmp_path: Path) -> None:
    blocker = tmp_path / "captures"
    blocker.write_text("a file where the folder should be")
    writer = CaptureWriter(blocker)
    with pytest.raises(CaptureWriteError, match="cannot write"):
        writer.write(_result(1), "feed")
    blocker.unlink()
    ref = writer.write(_result(1), "feed")
    writer.close()
    assert ref is not None and read_capture(blocker, ref.path, ref.offset).status == 200


def test_settings_and_root(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.captures_dir is None
    assert settings.capture_rotate_bytes == 100_000_000
    db = tmp_path / "wh" / "news.duckdb"
    assert captures_root(db) == tmp_path / "wh" / "captures"
    assert captures_root(db, tmp_path / "elsewhere") == tmp_path / "elsewhere"
    writer = CaptureWriter.for_warehouse(db, Settings(capture_rotate_bytes=5_000))
    assert writer.root == tmp_path / "wh" / "captures" and writer.rotate_bytes == 5_000
    with pytest.raises(ValueError):
        CaptureWriter(tmp_path, rotate_bytes=0)


# --- newsdesk capture FETCH_ID -----------------------------------------------------------


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A migrated warehouse with captured fetches 1 (page), 2 (image), 4 (latin-1 page), an
    uncaptured connection error 3, and fetch 5 whose WARC file is gone."""
    db = tmp_path / "data" / "newsdesk.duckdb"
    db.parent.mkdir()
    page = HttpResult(
        "https://news.example/a",
        T0,
        "https://news.example/a",
        200,
        b"<html><body><p>Hallo Welt</p></body></html>",
        5,
        {"content-type": "text/html; charset=utf-8", "content-encoding": "br"},
    )
    image = HttpResult(
        "https://news.example/i.png",
        T0,
        "https://news.example/i.png",
        200,
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        5,
        {"content-type": "image/png"},
    )
    latin = HttpResult(
        "https://news.example/l",
        T0,
        "https://news.example/l",
        200,
        "<p>Stra\u00dfe</p>".encode("latin-1"),
        5,
        {"content-type": "text/html; charset=iso-8859-1"},
    )
    with CaptureWriter(captures_root(db)) as writer:
        refs = {
            1: writer.write(page, "page"),
            2: writer.write(image, "page"),
            4: writer.write(latin, "page"),
        }
    with CaptureWriter(tmp_path / "gone") as gone_writer:
        gone = gone_writer.write(page, "page")
    assert gone is not None
    con = duckdb.connect(str(db))
    migrate(con)
    insert = (
        "insert into fetches (fetch_id, url, kind, requested_at, status, error_class, error,"
        " warc_path, warc_offset) values (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    for fetch_id, ref in refs.items():
        assert ref is not None
        con.execute(
            insert,
            [fetch_id, "https://news.example/", "page", T0, 200, None, None, ref.path, ref.offset],
        )
    con.execute(
        insert,
        [
            3,
            "https://down.example/",
            "feed",
            T0,
            None,
            "connect",
            "ConnectError: refused",
            None,
            None,
        ],
    )
    con.execute(
        insert,
        [5, "https://news.example/a", "page", T0, 200, None, None, "missing.warc.gz", gone.offset],
    )
    con.close()
    return db


def test_show_capture_text(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert show_capture(warehouse, 1, body_only=False, output="text") == 0
    out = capsys.readouterr().out
    head, _, body = out.partition("\n\n")
    assert head.splitlines()[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: text/html; charset=utf-8" in head
    assert "Content-Length: 43" in head and "Content-Encoding" not in head
    assert body == "<html><body><p>Hallo Welt</p></body></html>\n"

    assert show_capture(warehouse, 4, body_only=True, output="text") == 0
    assert capsys.readouterr().out == "<p>Straße</p>\n"

    assert show_capture(warehouse, 2, body_only=False, output="text") == 0
    out = capsys.readouterr().out
    assert "108 bytes of image/png" in out and "PNG" not in out


def test_show_capture_json(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert show_capture(warehouse, 1, body_only=False, output="json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == 200 and shown["kind"] == "page"
    assert shown["body"] == "<html><body><p>Hallo Welt</p></body></html>"
    assert shown["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert shown["requested_at"] == "2025-03-01T08:30:15.123456Z"
    assert show_capture(warehouse, 2, body_only=True, output="json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {
        "fetch_id": 2,
        "body": None,
        "body_bytes": 108,
        "charset": None,
        "charset_source": None,
    }


@pytest.mark.parametrize(
    ("fetch_id", "message"),
    [
        (99, "no fetch with id 99"),
        (3, "has no capture: no HTTP response came (connect: ConnectError: refused)"),
        (5, "missing.warc.gz does not exist"),
    ],
)
def test_show_capture_errors(
    warehouse: Path, capsys: pytest.CaptureFixture[str], fetch_id: int, message: str
) -> None:
    assert show_capture(warehouse, fetch_id, body_only=False, output="text") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and message in captured.err


def test_show_capture_without_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert show_capture(tmp_path / "none.duckdb", 1, body_only=False, output="text") == 1
    assert "no warehouse at" in capsys.readouterr().err


def test_show_capture_rejects_csv(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert show_capture(warehouse, 1, body_only=False, output="csv") == 2
    assert "--format csv is not supported" in capsys.readouterr().err
