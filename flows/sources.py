"""The sources file (``deploy/sources.toml``): publishers with their feeds and news sitemaps,
validated, and edited in place by ``newsdesk sources add/enable/disable/remove``.

[[publisher]]
name = "BBC News"
domain = "bbc.co.uk"
country = "GB"
language = "en"
feeds = ["https://feeds.bbci.co.uk/news/world/rss.xml"]

Errors name the file and line (``deploy/sources.toml:14: publisher "BBC News": feeds[0]: …``).
Neither tomllib nor tomlkit gives line numbers for values, so :func:`_scan` reads the text's
statements (headers, ``key = value``, comments) with their offsets; validation errors and edits
are located with it.

Edits are splices of that text, not a re-serialisation: people's comments and layout stay as they
wrote them. (tomlkit's own table edits attach the comment above a ``[[publisher]]`` header to the
table before it, so removing a publisher would take its neighbour's comment along.) tomlkit
renders the new TOML (strings escaped, arrays laid out), and every edit is checked by parsing the
result again: it must mean exactly the old data plus the one change, or nothing is written.
"""

from __future__ import annotations

import bisect
import copy
import difflib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import tomlkit
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from warehouse.load import SourceRow

__all__ = [
    "ExtractionHints",
    "Publisher",
    "SourcesDocument",
    "SourcesError",
    "StagedWrite",
    "adhoc_sources",
    "load_sources",
    "render_publisher",
    "source_rows",
    "staged_write",
]


class SourcesError(Exception):
    """The sources file is missing or wrong; the message says where and what to fix."""


def _http_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        usable = False
    if not usable:
        raise ValueError(f"URL must be http(s) with a host: {url!r}")
    return url


# Checked one by one, so an error points at ``feeds[2]``, not at the whole list.
WebUrl = Annotated[str, AfterValidator(_http_url)]


class ExtractionHints(BaseModel):
    """For a site the generic extractor gets wrong: used only for that publisher's pages."""

    model_config = ConfigDict(extra="forbid")

    body_selector: str | None = Field(None, min_length=1, description="CSS selector of the body.")
    prune_selectors: list[str] = Field(
        default_factory=list, description="CSS selectors of elements removed before extraction."
    )


class Publisher(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    domain: str | None = None
    country: str | None = Field(None, min_length=2, max_length=2)
    language: str | None = Field(None, min_length=2, max_length=3)
    enabled: bool = True
    feeds: list[WebUrl] = Field(default_factory=list)
    # News sitemaps (or sitemap indexes) polled like feeds.
    sitemaps: list[WebUrl] = Field(default_factory=list)
    # Per-source settings; None: the global setting.
    poll_interval_s: float | None = Field(None, gt=0, description="Floor between two polls.")
    per_host_delay_s: float | None = Field(None, ge=0, description="Politeness override.")
    per_host_concurrency: int | None = Field(None, ge=1, description="Politeness override.")
    extraction: ExtractionHints | None = None

    @model_validator(mode="after")
    def _has_a_source(self) -> Publisher:
        if not self.feeds and not self.sitemaps:
            raise ValueError("give at least one feed or sitemap")
        return self

    @property
    def urls(self) -> list[str]:
        """Feeds then sitemaps: every address polled for this publisher."""
        return [*self.feeds, *self.sitemaps]


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publisher: list[Publisher] = Field(default_factory=list)


# --- where things are in the text -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Statement:
    """One line-level TOML statement (a multi-line array is one statement)."""

    kind: str  # table | aot | key | comment | blank
    path: tuple[str, ...]  # a header's table path, or a key's (dotted) path in its table
    start: int  # offset of its first character (the start of its line)
    end: int  # offset just past its last line, newline included
    value: tuple[int, int] | None = None  # a key's value text (offsets), comment excluded


@dataclass
class _Block:
    """One ``[[publisher]]`` entry: its header, and its keys by path from the publisher
    (``("feeds",)``, ``("extraction", "body_selector")``), sub-table headers included."""

    header: _Statement
    keys: list[tuple[tuple[str, ...], _Statement]] = field(default_factory=list)
    own_keys: list[_Statement] = field(default_factory=list)  # before any sub-table header
    # Where the entry's text ends: the next header's attached comments, that header, or EOF.
    end: int = 0


@dataclass
class _Layout:
    text: str
    statements: list[_Statement]
    blocks: list[_Block]
    top: dict[str, _Statement]  # first statement naming each top-level key or table
    _line_starts: list[int]

    def line(self, offset: int) -> int:
        """1-based line number of ``offset``."""
        return bisect.bisect_right(self._line_starts, offset)

    def lead(self, index: int) -> int:
        return _lead(self.statements, index)


def _lead(statements: list[_Statement], index: int) -> int:
    """Start of the comment lines directly above statement ``index`` (no blank line between):
    they describe what follows, so they go with it when it is removed."""
    while index > 0 and statements[index - 1].kind == "comment":
        index -= 1
    return statements[index].start


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _line_end(text: str, i: int) -> int:
    newline = text.find("\n", i)
    return len(text) if newline < 0 else newline + 1


def _skip_string(text: str, i: int) -> int:
    """Offset just past the string starting at ``i`` (any of TOML's four kinds)."""
    n = len(text)
    quote = text[i]
    if text.startswith(quote * 3, i):
        j = i + 3
        while j < n:
            if quote == '"' and text[j] == "\\":
                j += 2
                continue
            if text.startswith(quote * 3, j):
                j += 3
                # Up to two more quotes just before the delimiter belong to the content.
                extra = 0
                while j < n and text[j] == quote and extra < 2:
                    j += 1
                    extra += 1
                return j
            j += 1
        return n
    j = i + 1
    while j < n:
        if quote == '"' and text[j] == "\\":
            j += 2
            continue
        if text[j] == quote or text[j] == "\n":
            return j + 1
        j += 1
    return n


def _key_path(text: str, i: int) -> tuple[tuple[str, ...], int]:
    """A (dotted) key at ``i``: its parts, and the offset of what follows (``=`` or ``]``)."""
    parts: list[str] = []
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] in "\"'":
            j = _skip_string(text, i)
            # tomllib decodes the quoted key exactly as it reads the file.
            parts.append(next(iter(tomllib.loads(f"{text[i:j]} = 0"))))
            i = j
        else:
            match = _BARE_KEY.match(text, i)
            if match is None:
                break
            parts.append(match.group())
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        break
    return tuple(parts), i


def _skip_value(text: str, i: int) -> tuple[int, int]:
    """The value starting at ``i``: (offset where its line's rest starts, offset just past its
    last character). Arrays may span lines and hold comments; strings may hold anything."""
    n = len(text)
    depth = 0
    last = i
    while i < n:
        c = text[i]
        if c in "\"'":
            i = _skip_string(text, i)
            last = i
            continue
        if c == "#":
            if depth == 0:
                break
            i = _line_end(text, i)
            continue
        if c == "\n" and depth == 0:
            break
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        if c not in " \t\r\n":
            last = i + 1
        i += 1
    return i, last


def _scan(text: str) -> list[_Statement]:
    """The statements of ``text``, which must be valid TOML (tomllib read it first)."""
    statements: list[_Statement] = []
    n = len(text)
    i = 0
    while i < n:
        start = i
        while i < n and text[i] in " \t\r":
            i += 1
        if i >= n:
            break
        c = text[i]
        if c == "\n":
            i += 1
            statements.append(_Statement("blank", (), start, i))
        elif c == "#":
            i = _line_end(text, i)
            statements.append(_Statement("comment", (), start, i))
        elif c == "[":
            aot = text.startswith("[[", i)
            path, i = _key_path(text, i + (2 if aot else 1))
            i = _line_end(text, i)
            statements.append(_Statement("aot" if aot else "table", path, start, i))
        else:
            path, i = _key_path(text, i)
            i += 1  # the "="
            while i < n and text[i] in " \t":
                i += 1
            value_start = i
            i, value_end = _skip_value(text, i)
            i = _line_end(text, i)
            statements.append(_Statement("key", path, start, i, (value_start, value_end)))
    return statements


def _layout(text: str) -> _Layout:
    statements = _scan(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    blocks: list[_Block] = []
    top: dict[str, _Statement] = {}
    block: _Block | None = None
    prefix: tuple[str, ...] = ()  # the sub-table of the current publisher, or () for its own
    in_root = True
    for index, statement in enumerate(statements):
        if statement.kind in ("table", "aot"):
            in_root = False
            path = statement.path
            if path:
                top.setdefault(path[0], statement)
            if statement.kind == "aot" and path == ("publisher",):
                if block is not None:
                    block.end = _lead(statements, index)
                block = _Block(statement)
                blocks.append(block)
                prefix = ()
            elif block is not None and len(path) > 1 and path[0] == "publisher":
                prefix = path[1:]
                block.keys.append((prefix, statement))
            else:
                if block is not None:
                    block.end = _lead(statements, index)
                block = None
        elif statement.kind == "key":
            if in_root and statement.path:
                top.setdefault(statement.path[0], statement)
            if block is not None:
                block.keys.append((prefix + statement.path, statement))
                if not prefix:
                    block.own_keys.append(statement)
    if block is not None:
        block.end = len(text)
    return _Layout(text, statements, blocks, top, line_starts)


# --- validation, with the line of each problem ------------------------------------------------


def _field_path(parts: tuple[int | str, ...]) -> str:
    rendered = ""
    for part in parts:
        if isinstance(part, int):
            rendered += f"[{part}]"
        else:
            rendered += f".{part}" if rendered else part
    return rendered


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _statement_for(
    layout: _Layout, loc: tuple[int | str, ...]
) -> tuple[_Statement | None, _Block | None]:
    """The statement a pydantic error location points at (or its nearest container)."""
    if len(loc) >= 2 and loc[0] == "publisher" and isinstance(loc[1], int):
        if loc[1] >= len(layout.blocks):  # e.g. `publisher = [{...}]`, written inline
            return layout.top.get("publisher"), None
        block = layout.blocks[loc[1]]
        names = tuple(p for p in loc[2:] if isinstance(p, str))
        # The longest key path that matches: `extraction.body_selector` before `extraction`.
        for size in range(len(names), 0, -1):
            for path, statement in block.keys:
                if path[:size] == names[:size]:
                    return statement, block
        return block.header, block
    if loc and isinstance(loc[0], str):
        return layout.top.get(loc[0]), None
    return None, None


def _error_line(layout: _Layout, err: ErrorDetails) -> int:
    loc = tuple(err["loc"])
    statement, _ = _statement_for(layout, loc)
    if statement is None:
        return 1
    found = -1
    value = err.get("input")
    if loc and isinstance(loc[-1], int) and isinstance(value, str) and statement.value:
        # A bad element of a multi-line array: the line that holds it.
        found = layout.text.find(value, statement.value[0], statement.value[1])
    return layout.line(found if found >= 0 else statement.start)


def _error_message(err: ErrorDetails) -> str:
    loc = tuple(err["loc"])
    in_publisher = len(loc) >= 2 and loc[0] == "publisher" and isinstance(loc[1], int)
    rest = loc[2:] if in_publisher else loc
    where = _field_path(rest)
    kind = err["type"]
    if kind == "extra_forbidden":
        if not in_publisher:
            fields = list(SourcesFile.model_fields)
        elif len(rest) >= 2 and rest[0] == "extraction":
            fields = list(ExtractionHints.model_fields)
        else:
            fields = list(Publisher.model_fields)
        parent = _field_path(rest[:-1])
        suggestion = _suggest(where, [f"{parent}.{f}" if parent else f for f in fields])
        return f"unknown setting {where!r}{suggestion}"
    if kind == "missing":
        return f"missing required setting {where!r}"
    if kind == "list_type" and loc == ("publisher",):
        return "write each publisher as a [[publisher]] table (an array of tables)"
    if kind == "value_error":
        message = str((err.get("ctx") or {}).get("error", err["msg"]))
    else:
        message = err["msg"]
        value = err.get("input")
        if isinstance(value, str | int | float | bool):
            message += f" (got {value!r})"
    return f"{where}: {message}" if where else message


def _label(raw: dict[str, Any], index: int) -> str:
    entries = raw.get("publisher")
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    name = entry.get("name") if isinstance(entry, dict) else None
    if isinstance(name, str) and name:
        return f"publisher {json.dumps(name, ensure_ascii=False)}"
    return f"publisher #{index + 1}"


def _parse(text: str, path: Path) -> tuple[dict[str, Any], list[Publisher]]:
    """Read and validate the text of the sources file at ``path``; raise SourcesError with one
    ``path:line: what`` per problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if at is None:
            raise SourcesError(f"{path}: not valid TOML: {message}") from exc
        where = f"{path}:{at.group(1)}:{at.group(2)}"
        raise SourcesError(f"{where}: not valid TOML: {message[: at.start()]}") from exc
    layout: _Layout | None = None
    try:
        parsed = SourcesFile.model_validate(raw)
    except ValidationError as exc:
        layout = _layout(text)
        problems: list[tuple[int, str]] = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _error_line(layout, err)
            if len(loc) >= 2 and loc[0] == "publisher" and isinstance(loc[1], int):
                label = _label(raw, loc[1]) + ": "
            else:
                label = ""
            problems.append((line, f"{path}:{line}: {label}{_error_message(err)}"))
        raise SourcesError("\n".join(m for _, m in sorted(problems, key=lambda p: p[0]))) from exc
    first: dict[str, int] = {}
    for index, publisher in enumerate(parsed.publisher):
        if publisher.name in first:
            layout = layout or _layout(text)
            statement, _ = _statement_for(layout, ("publisher", index, "name"))
            line = layout.line(statement.start) if statement else 1
            before, _ = _statement_for(layout, ("publisher", first[publisher.name], "name"))
            other = layout.line(before.start) if before else "?"
            raise SourcesError(
                f"{path}:{line}: {_label(raw, index)}: name already used on line "
                f"{other}; publisher names must be unique"
            )
        first[publisher.name] = index
    return raw, parsed.publisher


def load_sources(path: Path) -> list[Publisher]:
    return SourcesDocument.read(path).publishers


# --- editing ----------------------------------------------------------------------------------


def render_publisher(publisher: Publisher, comment: str | None = None) -> str:
    """A ``[[publisher]]`` entry as TOML, with only the settings that differ from the defaults;
    ``comment`` goes on the line above the header, so it belongs to the entry."""
    table = tomlkit.table()
    for key, value in publisher.model_dump(exclude_defaults=True).items():
        if isinstance(value, list) and len(f"{key} = {value}") > 96:
            array = tomlkit.array()
            array.extend(value)
            table.add(key, array.multiline(True))
        else:
            table.add(key, value)
    entries = tomlkit.aot()
    entries.append(table)
    document = tomlkit.document()
    document.add("publisher", entries)
    lead = f"# {' '.join(comment.split())}\n" if comment else ""
    return lead + tomlkit.dumps(document)


@dataclass(frozen=True)
class SourcesDocument:
    """The sources file as read (text and validated publishers), and edits of it.

    Edits return a new document, validated, without writing: :func:`staged_write` puts one in
    place. ``on_disk`` is what the file held when read (None: it did not exist), so a write can
    refuse to overwrite a change someone made meanwhile.
    """

    path: Path
    text: str
    publishers: list[Publisher]
    raw: dict[str, Any]
    on_disk: bytes | None

    @classmethod
    def read(cls, path: Path, missing_ok: bool = False) -> SourcesDocument:
        """The file at ``path``; with ``missing_ok``, a missing file reads as an empty one."""
        try:
            data: bytes | None = path.read_bytes()
        except FileNotFoundError as exc:
            if not missing_ok:
                raise SourcesError(
                    f"sources file not found: {path} (give --sources FILE or --feed URL)"
                ) from exc
            data = None
        except OSError as exc:
            raise SourcesError(f"cannot read the sources file {path}: {exc}") from exc
        try:
            text = data.decode("utf-8") if data is not None else ""
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1 if data is not None else 1
            raise SourcesError(f"{path}:{line}: not UTF-8 text: {exc.reason}") from exc
        raw, publishers = _parse(text, path)
        return cls(path, text, publishers, raw, data)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.publishers]

    def index(self, name: str) -> int:
        """Position of the publisher called ``name`` (or, failing that, the one whose name
        differs only in case); SourcesError naming close matches otherwise."""
        names = self.names
        if name in names:
            return names.index(name)
        folded = [n for n in names if n.casefold() == name.casefold()]
        if len(folded) == 1:
            return names.index(folded[0])
        by_fold = {n.casefold(): n for n in names}
        close = difflib.get_close_matches(name.casefold(), list(by_fold), n=3, cutoff=0.6)
        similar = [by_fold[c] for c in close]
        similar += [n for n in names if name.casefold() in n.casefold() and n not in similar]
        missing = f"no publisher named {json.dumps(name, ensure_ascii=False)} in {self.path}"
        if similar:
            quoted = ", ".join(json.dumps(n, ensure_ascii=False) for n in similar[:3])
            raise SourcesError(f"{missing}; did you mean {quoted}?")
        raise SourcesError(f"{missing} (`newsdesk sources list` shows them)")

    def find(self, name: str) -> Publisher:
        return self.publishers[self.index(name)]

    def line_of(self, name: str) -> int:
        """Line of the ``[[publisher]]`` header of ``name``."""
        layout = _layout(self.text)
        index = self.index(name)
        if index >= len(layout.blocks):
            return layout.line(layout.top["publisher"].start) if "publisher" in layout.top else 1
        return layout.line(layout.blocks[index].header.start)

    def _block(self, layout: _Layout, index: int, what: str) -> _Block:
        if len(layout.blocks) != len(self.publishers):
            # `publisher = [{...}]` written inline: no [[publisher]] headers to edit around.
            raise SourcesError(
                f"{self.path}: could not {what}: publishers are not written as [[publisher]] "
                "tables; edit the file by hand"
            )
        return layout.blocks[index]

    def _edited(self, text: str, expected: dict[str, Any], what: str) -> SourcesDocument:
        """The document with ``text``, after checking that it means ``expected`` exactly: a
        splice that went wrong must fail here, not corrupt the file."""
        try:
            meaning = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            meaning = {"error": str(exc)}
        if meaning != expected:
            raise SourcesError(
                f"{self.path}: could not {what} without disturbing the rest of the file "
                "(its layout is one this editor does not handle); edit it by hand"
            )
        raw, publishers = _parse(text, self.path)
        return replace(self, text=text, publishers=publishers, raw=raw)

    def adding(self, publisher: Publisher, comment: str | None = None) -> SourcesDocument:
        """With ``publisher`` appended at the end. Refuses a name in use (also one that
        differs only in case: two such publishers are one mistake away from a mix-up)."""
        taken = [n for n in self.names if n.casefold() == publisher.name.casefold()]
        if taken:
            raise SourcesError(
                f"{self.path}:{self.line_of(taken[0])}: a publisher named "
                f"{json.dumps(taken[0], ensure_ascii=False)} is already in the file"
            )
        block = render_publisher(publisher, comment)
        # The file holds nothing but publishers (SourcesFile forbids other tables): the end of
        # the file is the end of the last one.
        text = self.text.rstrip("\n") + "\n\n" + block if self.text.strip() else block
        expected = copy.deepcopy(self.raw)
        expected.setdefault("publisher", []).append(tomllib.loads(block)["publisher"][0])
        return self._edited(text, expected, f"add {publisher.name!r}")

    def with_enabled(self, name: str, enabled: bool) -> SourcesDocument:
        """With ``enabled = true|false`` for ``name``: the existing line's value is replaced
        (its comment kept), or a line is added after ``name =``."""
        index = self.index(name)
        verb = "enable" if enabled else "disable"
        what = f"{verb} {self.publishers[index].name!r}"
        block = self._block(_layout(self.text), index, what)
        value = tomlkit.item(enabled).as_string()
        current = next((s for s in block.own_keys if s.path == ("enabled",)), None)
        if current is not None and current.value is not None:
            start, end = current.value
            text = self.text[:start] + value + self.text[end:]
        else:
            after = next((s for s in block.own_keys if s.path == ("name",)), block.header)
            line = self.text[after.start : after.end] if after is not block.header else ""
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            head = self.text[: after.end]
            newline = "" if head.endswith("\n") else "\n"
            text = f"{head}{newline}{indent}enabled = {value}\n{self.text[after.end :]}"
        expected = copy.deepcopy(self.raw)
        expected["publisher"][index]["enabled"] = enabled
        return self._edited(text, expected, what)

    def without(self, name: str) -> SourcesDocument:
        """Without ``name``'s entry, and the comment lines directly above its header; the
        comments above the next entry stay with that entry."""
        index = self.index(name)
        what = f"remove {self.publishers[index].name!r}"
        layout = _layout(self.text)
        block = self._block(layout, index, what)
        start = layout.lead(layout.statements.index(block.header))
        text = self.text[:start] + self.text[block.end :]
        if block.end >= len(self.text):
            text = text.rstrip("\n") + "\n" if text.strip() else ""
        expected = copy.deepcopy(self.raw)
        del expected["publisher"][index]
        if not expected["publisher"]:
            # An empty array of tables has no text at all: the key is gone, not [].
            del expected["publisher"]
        return self._edited(text, expected, what)


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new file beside ``path`` (same file system, so ``os.replace`` is atomic)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    return temp


class StagedWrite:
    """A document written beside its file, waiting to be put in place (see
    :func:`staged_write`)."""

    def __init__(self, document: SourcesDocument, temp: Path, mode: int) -> None:
        self.document = document
        self._temp = temp
        self._mode = mode
        self.done = False

    def put_in_place(self) -> None:
        """Replace the file (one ``os.replace``: readers see the old file or the new, never
        half of one), unless it changed since the document was read."""
        path = self.document.path
        try:
            now: bytes | None = path.read_bytes()
        except FileNotFoundError:
            now = None
        except OSError as exc:
            raise SourcesError(f"cannot read {path}: {exc}") from exc
        if now != self.document.on_disk:
            raise SourcesError(
                f"{path} changed while this command ran; nothing written: run it again"
            )
        try:
            os.replace(self._temp, path)
        except OSError as exc:
            raise SourcesError(f"cannot write {path}: {exc}") from exc
        self.done = True

    def put_back(self) -> None:
        """Undo :meth:`put_in_place` (what the file held before, or no file), for when the
        warehouse change that goes with it could not be committed."""
        if not self.done:
            return
        path = self.document.path
        if self.document.on_disk is None:
            path.unlink(missing_ok=True)
        else:
            os.replace(_write_temp(path, self.document.on_disk, self._mode), path)
        self.done = False


@contextmanager
def staged_write(document: SourcesDocument) -> Iterator[StagedWrite]:
    """Write ``document`` to a temporary file beside its path and yield it, to be put in place
    once everything else (the warehouse change) has worked: what can fail fails before the file
    changes. The temporary file is removed if it was never put in place.
    """
    path = document.path
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    except OSError as exc:
        raise SourcesError(f"cannot write {path}: {exc}") from exc
    try:
        temp = _write_temp(path, document.text.encode("utf-8"), mode)
    except OSError as exc:
        raise SourcesError(f"cannot write {path}: {exc}") from exc
    try:
        yield StagedWrite(document, temp, mode)
    finally:
        temp.unlink(missing_ok=True)


def _domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def adhoc_sources(feed_urls: list[str]) -> list[Publisher]:
    """Publishers for feeds given on the command line: one per host, named after it."""
    by_domain: dict[str, list[str]] = {}
    for url in feed_urls:
        by_domain.setdefault(_domain(url) or url, []).append(url)
    return [Publisher(name=domain, domain=domain, feeds=urls) for domain, urls in by_domain.items()]


def source_rows(publishers: list[Publisher]) -> list[SourceRow]:
    """One row per configured feed and sitemap, carrying the publisher's per-source settings
    (poll floor, extraction hints) for the warehouse."""
    rows: list[SourceRow] = []
    for p in publishers:
        hints = p.extraction
        for source_type, urls in (("feed", p.feeds), ("sitemap", p.sitemaps)):
            rows.extend(
                SourceRow(
                    publisher=p.name,
                    domain=p.domain or _domain((p.feeds or p.sitemaps)[0]),
                    country=p.country,
                    language=p.language,
                    feed_url=url,
                    enabled=p.enabled,
                    source_type=source_type,
                    poll_interval_s=p.poll_interval_s,
                    body_selector=hints.body_selector if hints else None,
                    prune_selectors=tuple(hints.prune_selectors) if hints else (),
                )
                for url in urls
            )
    return rows
