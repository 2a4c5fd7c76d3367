"""Content-Encoding decoding, incremental and capped, so a compression bomb stops at the cap.

httpx would inflate each network chunk in full before we could count it: 100 KB of gzip can
hold 100 MB of zeros. Here every decompressor is asked for at most "what is left under the cap,
plus one byte", so memory stays bounded by the cap however the input is built.

Supported: gzip (and x-gzip, several members), deflate (zlib-wrapped as the RFC says, or raw as
some servers send it), br (brotli), identity. Exceptions::

    DecodingError
    ├── BodyTooLarge          the decoded body would exceed the cap   -> error class "too_large"
    └── UnsupportedEncoding   a compression we did not ask for        -> error class "protocol"
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli

__all__ = [
    "ACCEPT_ENCODING",
    "BodyTooLarge",
    "Decoder",
    "DecodingError",
    "UnsupportedEncoding",
    "make_decoder",
]

# What we advertise; the response may only use these (or nothing).
ACCEPT_ENCODING = "gzip, deflate, br"
# Compressions we cannot undo. Any other unknown token ("none", "utf-8", "binary" are seen in
# the wild) is treated as identity, as browsers do.
_UNDECODABLE = frozenset({"compress", "x-compress", "zstd", "dcb", "dcz", "pack200-gzip"})


class DecodingError(Exception):
    """The body could not be decoded."""


class BodyTooLarge(DecodingError):
    """Decoding would produce more than the cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"decoded body exceeds {limit} bytes; stopped decoding")


class UnsupportedEncoding(DecodingError):
    """The server used a Content-Encoding we did not offer and cannot decode."""


class Decoder(Protocol):
    """Feed raw chunks in order, then call :meth:`flush` once; both return decoded bytes."""

    def feed(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Budget:
    """Counts decoded bytes against the cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.produced = 0

    @property
    def room(self) -> int:
        # One byte beyond the cap is enough to know the cap is exceeded; never 0, which zlib
        # reads as "unlimited".
        return self.limit - self.produced + 1

    def take(self, out: bytes) -> bytes:
        self.produced += len(out)
        if self.produced > self.limit:
            raise BodyTooLarge(self.limit)
        return out


class _Identity:
    def __init__(self, limit: int) -> None:
        self._budget = _Budget(limit)

    def feed(self, data: bytes) -> bytes:
        return self._budget.take(data)

    def flush(self) -> bytes:
        return b""


def _looks_like_zlib(head: bytes) -> bool:
    """RFC 1950 header: method 8 (deflate), window <= 32 KiB, header checksum divisible by 31."""
    return (
        len(head) >= 2
        and head[0] & 0x0F == 8
        and head[0] >> 4 <= 7
        and (head[0] << 8 | head[1]) % 31 == 0
    )


class _Zlib:
    def __init__(self, limit: int, gzip: bool) -> None:
        self._budget = _Budget(limit)
        self._gzip = gzip
        self._head = b""  # deflate only: held until we can tell zlib-wrapped from raw
        self._obj: zlib._Decompress | None = None

    def _start(self, data: bytes) -> zlib._Decompress:
        if self._gzip:
            # 32 + 15: accept gzip or zlib framing; some servers label zlib data "gzip".
            return zlib.decompressobj(32 + zlib.MAX_WBITS)
        wbits = zlib.MAX_WBITS if _looks_like_zlib(data) else -zlib.MAX_WBITS
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> bytes:
        if self._obj is None:
            self._head += data
            if not self._gzip and len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            self._obj = self._start(data)
        return self._inflate(self._obj, data)

    def _inflate(self, obj: zlib._Decompress, data: bytes) -> bytes:
        out = []
        while data:
            try:
                chunk = obj.decompress(data, self._budget.room)
            except zlib.error as exc:
                kind = "gzip" if self._gzip else "deflate"
                raise DecodingError(f"bad {kind} data: {exc}") from exc
            # take() raises when the output was cut short, so past it all input was consumed.
            out.append(self._budget.take(chunk))
            data = b""
            if obj.eof and obj.unused_data and self._gzip:
                data = obj.unused_data  # another gzip member follows
                obj = self._obj = self._start(data)
            # Bytes after the end of a deflate stream are ignored, as browsers do.
        return b"".join(out)

    def flush(self) -> bytes:
        head = b""
        if self._obj is None:
            if not self._head:
                return b""
            head, self._head = self._head, b""  # a one-byte deflate body
            self._obj = self._start(head)
        out = self._inflate(self._obj, head)
        # A truncated stream yields what arrived; the parsers downstream cope with partial XML.
        return out + self._budget.take(self._obj.flush())


class _Brotli:
    def __init__(self, limit: int) -> None:
        self._budget = _Budget(limit)
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> bytes:
        out = []
        try:
            first = self._obj.process(data, output_buffer_limit=self._budget.room)
            out.append(self._budget.take(first))
            # With the output buffer full, brotli keeps input back until asked again.
            while not self._obj.can_accept_more_data():
                more = self._obj.process(b"", output_buffer_limit=self._budget.room)
                out.append(self._budget.take(more))
        except brotli.error as exc:
            raise DecodingError(f"bad brotli data: {exc}") from exc
        return b"".join(out)

    def flush(self) -> bytes:
        return b""


class _Chain:
    """``Content-Encoding: gzip, br`` means gzip was applied first, so br is undone first."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def feed(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.feed(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = (decoder.feed(data) if data else b"") + decoder.flush()
        return data


def _one(token: str, limit: int) -> Decoder | None:
    if token in ("gzip", "x-gzip"):
        return _Zlib(limit, gzip=True)
    if token == "deflate":
        return _Zlib(limit, gzip=False)
    if token == "br":
        return _Brotli(limit)
    if token in _UNDECODABLE:
        raise UnsupportedEncoding(f"cannot decode Content-Encoding {token!r}")
    return None  # identity, or a label that is not a compression


def make_decoder(content_encoding: str | None, limit: int) -> Decoder:
    """A decoder for the ``Content-Encoding`` header value that refuses to produce more than
    ``limit`` bytes (every stage of a chain is held to it)."""
    tokens = [t.strip().lower() for t in (content_encoding or "").split(",") if t.strip()]
    decoders = [d for t in reversed(tokens) if (d := _one(t, limit)) is not None]
    if not decoders:
        return _Identity(limit)
    if len(decoders) == 1:
        return decoders[0]
    return _Chain(decoders)
