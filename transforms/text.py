"""Text normalisation and content hashing shared by extraction and deduplication."""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["content_hash", "normalise_for_hash", "tidy_text", "word_count"]

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{2,}")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def tidy_text(text: str) -> str:
    """Collapse runs of spaces, trim each line and drop empty lines (one paragraph per line)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalise_for_hash(text: str) -> str:
    """Case-, accent-width- and punctuation-insensitive form: equal for texts that read the same."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", folded).split())


def content_hash(text: str) -> str:
    """Stable hash of the normalised text (hex SHA-256, first 32 chars)."""
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()[:32]


# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
_WORDS = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+", re.UNICODE)


def word_count(text: str) -> int:
    """Words, counting each Chinese/Japanese/Thai character as one (they have no spaces)."""
    return len(_WORDS.findall(text))
