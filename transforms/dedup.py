"""Near-duplicate detection for news articles: syndicated wire copies across outlets.

Everything here is pure and deterministic (no I/O, no clock, no environment); signatures are
stable across releases, machines and Python/numpy versions, so stored ones stay comparable.

1. **Tokens.** Short lines of known syndication boilerplate ("This story was provided by …",
   "Follow us on …", credit lines) are dropped, then the text is NFKC-normalised and casefolded,
   and its tokens are the runs of word characters, exactly the words of
   :func:`transforms.text.normalise_for_hash`. Texts in scripts written without spaces
   (Chinese, Japanese, Thai, …; see :func:`is_unspaced`) use each word character as a token.
   At most :data:`MAX_TOKENS` tokens from the start count (the first 400,000 characters are
   all that is even normalised), so a 5 MB page costs what a long article does.
2. **Shingles** are runs of :data:`SHINGLE_WORDS` word tokens or :data:`SHINGLE_CHARS`
   characters, hashed to 64 bits (all arithmetic mod 2**64, ``fmix64`` = MurmurHash3's
   finaliser, ``xxh(b)`` = ``xxh64(b, seed=SEED)``)::

       token   = fmix64(sum(ord(c_m) * POLY**m for each character c_m) + SEED)
       shingle = fmix64(sum(token_{i+j} * MIX[j] for j < k))
       POLY    = xxh(b"poly") | 1,    MIX[j] = xxh(b"mix" + j.to_bytes(4, "little")) | 1

   The polynomial form lets numpy hash every token of a batch at once from prefix sums.
3. **MinHash**: :data:`NUM_PERM` permutations ``h_i(x) = (A_i * x + B_i) mod P`` of
   ``x = shingle mod P``, ``P = 2**31 - 1`` (a Mersenne prime), ``A_i = xxh(b"perm-a" + i as 4
   bytes LE) mod (P - 1) + 1``, ``B_i = xxh(b"perm-b" + …) mod P``. The signature is the
   minimum per permutation: 128 uint32 values, 512 bytes. Computed exactly in uint64 for the
   whole batch as one matrix (see :func:`_minhash_rows`).
4. **LSH**: :data:`BANDS` bands of :data:`ROWS` values; band ``b`` has the signed 64-bit key
   ``fmix64((b + 1) * MIX[0] + v[2b] * MIX[1] + v[2b + 1] * MIX[2])``. Documents sharing a key
   are candidates. 64 x 2 finds pairs down to Jaccard ~0.15 (P = 1 - (1 - J^2)^64: 0.76 at
   0.15, 0.98 at 0.25), which copies cut in half need.
5. **Verification** on the shingle sets: Jaccard and containment ``|A∩B| / min(|A|, |B|)``.
   A pair matches when containment ≥ :data:`MIN_CONTAINMENT`, Jaccard ≥ :data:`MIN_JACCARD`
   and at least :data:`MIN_SHARED` shingles are shared. Without the stored side's shingle
   set, the signature estimates both (:func:`estimate`; stricter: :data:`ESTIMATE_MIN_JACCARD`).
6. **Clusters** are connected components of matches over the batch and the stored clusters
   it touches; the cluster id is the earliest document's id (``published_at``, unknown last,
   then id). A document whose matches fall into several unrelated groups is boilerplate
   (:func:`_hubs`): its matches are dropped and it is flagged so it is never matched again.

Constants were chosen with ``benchmarks/dedup.py`` (syndicated copies of the article corpus
with hard negatives); see its results. Stored signatures carry :data:`SCHEME`: changing any
hashing constant means a new scheme and recomputing them.

Public API::

    signature(text) -> Signature | None            # None: too short, empty or boilerplate only
    signatures(texts) -> list[Signature | None]    # a batch at once (vectorised)
    band_keys(sig) -> list[int]                    # BANDS signed 64-bit keys
    shingle_set(text) -> NDArray[uint64]           # sorted unique shingle hashes
    similarity(a_text, b_text) -> (jaccard, containment)
    estimate(sig_a, sig_b) -> (jaccard, containment)
    cluster(docs, index) -> Clustering             # assignments, matches, relabels, boilerplate

:class:`DedupIndex` is what :func:`cluster` reads from storage; :class:`MemoryIndex` implements
it in memory. A database persists per article: the signature (:meth:`Signature.to_bytes`, 512
bytes) with ``n_shingles`` and :data:`SCHEME`, its band keys (one row each in a table indexed
on the key), its cluster id, ``published_at`` and the boilerplate flag; optionally the shingle
set (8 bytes per shingle) for exact verification, or recompute it from the stored text
(:func:`shingle_set`) for the few candidates that pass the signature prefilter.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt
import xxhash

__all__ = [
    "BANDS",
    "ESTIMATE_MIN_JACCARD",
    "MAX_BRIDGED",
    "MAX_CANDIDATES",
    "MAX_TOKENS",
    "MIN_CONTAINMENT",
    "MIN_JACCARD",
    "MIN_SHARED",
    "MIN_TOKENS_CHARS",
    "MIN_TOKENS_WORDS",
    "NUM_PERM",
    "ROWS",
    "SCHEME",
    "SEED",
    "SHINGLE_CHARS",
    "SHINGLE_WORDS",
    "Assignment",
    "Clustering",
    "DedupIndex",
    "Doc",
    "DocumentCluster",
    "Fingerprint",
    "FingerprintCache",
    "Match",
    "MemoryIndex",
    "Signature",
    "StoredDoc",
    "band_keys",
    "cluster",
    "cluster_documents",
    "estimate",
    "fingerprint",
    "fingerprints",
    "is_match",
    "is_unspaced",
    "shingle_set",
    "shingle_sets",
    "signature",
    "signatures",
    "similarity",
    "strip_boilerplate",
]

SCHEME = "newsdesk-minhash-v1"  # persisted next to signatures: bump when anything below changes
SEED = 0x6E6577736465736B  # b"newsdesk" as a big-endian integer
SHINGLE_WORDS = 5
SHINGLE_CHARS = 4
NUM_PERM = 128
BANDS = 64
ROWS = 2
# Guards: fewer tokens than this (after boilerplate removal) get no signature. 30 words is about
# two sentences; 60 characters of Chinese/Japanese carry about as much.
MIN_TOKENS_WORDS = 30
MIN_TOKENS_CHARS = 60
# Only the start of a text is shingled: news articles are far shorter, and a 5 MB dump (a
# mis-extracted page, a live blog) must not cost more than a long article.
MAX_TOKENS = 20_000
_MAX_TEXT_CHARS = 400_000  # cut before normalisation, which touches every character
# Verification thresholds (see module docstring and benchmarks/dedup.py).
MIN_CONTAINMENT = 0.5
MIN_JACCARD = 0.1
# A match also needs this many shared shingles (about 25 words in sequence): a shared
# sign-off paragraph or quote is not an article.
MIN_SHARED = 20
# Without shingle sets the signature estimate decides, and it is noisy for small Jaccard
# (standard error ~0.03 at J = 0.1), which the containment estimate multiplies by the size ratio.
ESTIMATE_MIN_JACCARD = 0.2
# A document (or stored cluster) whose matches fall into more than this many mutually unrelated
# groups is taken for boilerplate and its matches are dropped (see _hubs).
MAX_BRIDGED = 2
# At most this many candidates per document are verified, the ones sharing most bands first:
# bounds the work when a band key is shared by a crowd (boilerplate, a very common story).
MAX_CANDIDATES = 64
# Candidates whose signature agreement is clearly too low are dropped before exact verification.
# At 128 permutations the agreement of a pair at the MIN_JACCARD floor (0.1) has a standard
# error of 0.027, so this drops ~3% of pairs at the floor and practically none above 0.15
# (benchmarks/dedup.py: recall unchanged from 0.03), while it spares loading the shingles of
# most chance candidates when matching against the warehouse (benchmarks/dedup_warehouse.py).
_PREFILTER_AGREEMENT = 0.05

_P = np.uint64((1 << 31) - 1)
_P_INT = (1 << 31) - 1
_SHIFT = np.uint64(31)
_M64 = (1 << 64) - 1
_UNSPACED_SHARE = 0.3  # share of letters in unspaced scripts that switches to character shingles
_CHUNK = 8192  # shingles per hashing block (two 8 MB buffers); fastest here among 1k-16k
_BUCKET_SPAN = 16  # pairs per band bucket entry within a batch (see _batch_pairs)
_GROUP_CHARS = 2_000_000  # characters tokenised at once: bounds temporaries to ~100 MB

UInt64Array = npt.NDArray[np.uint64]
UInt32Array = npt.NDArray[np.uint32]


def _xxh(data: bytes) -> int:
    return xxhash.xxh64_intdigest(data, SEED)


def _permutation(i: int) -> tuple[int, int]:
    """Parameters ``(A_i, B_i)`` of permutation ``i``: ``A`` in [1, P), ``B`` in [0, P)."""
    a = _xxh(b"perm-a" + i.to_bytes(4, "little")) % (_P_INT - 1) + 1
    b = _xxh(b"perm-b" + i.to_bytes(4, "little")) % _P_INT
    return a, b


_PERMS = [_permutation(i) for i in range(NUM_PERM)]
_A = np.array([a for a, _ in _PERMS], dtype=np.uint64)[:, None]
_B = np.array([b for _, b in _PERMS], dtype=np.uint64)[:, None]
_MIX_INT = [_xxh(b"mix" + j.to_bytes(4, "little")) | 1 for j in range(max(SHINGLE_WORDS, 8))]
_MIX = np.array(_MIX_INT, dtype=np.uint64)
_FMIX_C1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def _fmix64(h: UInt64Array) -> UInt64Array:
    """MurmurHash3's 64-bit finaliser, in place (uint64 arithmetic wraps mod 2**64)."""
    h ^= h >> _S33
    h *= _FMIX_C1
    h ^= h >> _S33
    h *= _FMIX_C2
    h ^= h >> _S33
    return h


# --- tokens ---------------------------------------------------------------------------------

# Paragraphs that outlets add to or drop from a wire story. Only short lines (below
# _BOILERPLATE_MAX_WORDS) that start with one of these are dropped, so an article sentence that
# merely mentions "subscribe" stays.
_BOILERPLATE = re.compile(
    r"^\W*(this (story|article|report) (was|is|has been|originally|first)"
    r"|(this|the) (story|article) (originally )?appeared"
    r"|follow (us|\w+ \w+|\w+) on\b|follow @|sign up\b|subscribe\b|click here|read more\b"
    r"|related( stories| articles| coverage)?:|more from\b|see also\b|watch:|listen:"
    r"|copyright\b|©|\(c\)\s|all rights reserved"
    r"|\(?(additional )?reporting by\b|\(?writing by\b|\(?editing by\b|\(?compiled by\b"
    r"|(photo|image|picture|video|foto|bild|fotos) ?(credit)?:|\(image credit"
    r"|share (this|on)\b|download (the|our) app|contact us\b|got a (news )?tip"
    r"|folgen sie uns|mehr zum thema|lesen sie (auch|mehr)|dieser (artikel|beitrag) (ist|wurde)"
    r"|mit material von|abonnieren sie|\(dpa|\(afp|\(apa"
    r"|suivez-nous|lire aussi|à lire aussi|abonnez-vous|síguenos|lee también|suscríbete"
    r"|leggi anche|seguici|leia também|siga-nos|volg ons|lees ook|czytaj (też|także)"
    r"|читайте также|подписывайтесь)",
    re.IGNORECASE,
)
# Credit lines that end rather than start with their marker ("X in Y contributed to this report").
_CREDIT_TAIL = re.compile(
    r"contributed to this (report|story|article)|associated press writer", re.I
)
_BOILERPLATE_MAX_WORDS = 40
_BOILERPLATE_MAX_CHARS = 400  # longer lines are never boilerplate: skip the regex
_LETTER = re.compile(r"[^\W_]")


def _is_boilerplate(line: str) -> bool:
    if len(line) > _BOILERPLATE_MAX_CHARS:  # cheap tests first: most lines are article prose
        return False
    # "riter": Writer or writer, without casefolding every line of every text.
    credit = ("contributed" in line or "riter" in line) and _CREDIT_TAIL.search(line)
    marked = bool(credit) or _BOILERPLATE.match(line) is not None
    return marked and len(line.split()) <= _BOILERPLATE_MAX_WORDS


def strip_boilerplate(text: str) -> str:
    """``text`` without short lines that are syndication boilerplate (credits, follow-us, …)."""
    return "\n".join(line for line in text.splitlines() if not _is_boilerplate(line))


_UNSPACED_SCRIPTS = re.compile(
    "[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]"
)  # Thai, Lao, Tibetan, Myanmar, Khmer, kana, CJK ideographs


def is_unspaced(text: str) -> bool:
    """Whether ``text`` is in a script written without spaces between words (so it is shingled
    by characters): at least 30% of its letters are Chinese, Japanese, Thai, Lao, Khmer,
    Myanmar or Tibetan. Decided by script, not by the share of spaces: punctuation becomes
    spaces in normalisation, so a Japanese text has plenty. Korean is spaced: words."""
    if text.isascii():
        return False
    sample = text[:5000]
    if not _UNSPACED_SCRIPTS.search(sample):
        return False
    unspaced = len(_UNSPACED_SCRIPTS.findall(sample))
    return unspaced >= _UNSPACED_SHARE * len(_LETTER.findall(sample))


def _prepare(text: str) -> str:
    """Boilerplate removed, NFKC, casefolded: :func:`normalise_for_hash` but for punctuation,
    which the vectorised tokeniser treats as a separator exactly as that function does."""
    return unicodedata.normalize("NFKC", strip_boilerplate(text[:_MAX_TEXT_CHARS])).casefold()


# Whether each BMP code point is a word character, i.e. matches ``[^\W_]`` (``str.isalnum``).
_ALNUM_BMP = np.fromiter((chr(c).isalnum() for c in range(0x10000)), dtype=bool, count=0x10000)
_POLY_BASE = _xxh(b"poly") | 1
_POLY_INV = pow(_POLY_BASE, -1, 1 << 64)


def _alnum(codes: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
    mask = _ALNUM_BMP[np.minimum(codes, 0xFFFF)]
    astral = codes > 0xFFFF
    if astral.any():
        values = np.unique(codes[astral])
        ok = np.array([chr(int(c)).isalnum() for c in values], dtype=bool)
        mask[astral] = ok[np.searchsorted(values, codes[astral])]
    return mask


_POWER_CACHE: dict[int, UInt64Array] = {}


def _powers(base: int, n: int) -> UInt64Array:
    """``base**i mod 2**64`` for i < n (uint64 products wrap mod 2**64). Memoised: the running
    product is sequential, the slowest step of tokenising otherwise."""
    cached = _POWER_CACHE.get(base)
    if cached is None or len(cached) < n:
        size = max(n, 2 * len(cached) if cached is not None else 1 << 16)
        steps = np.full(size, base, dtype=np.uint64)
        steps[0] = 1
        cached = _POWER_CACHE[base] = np.multiply.accumulate(steps)
    return cached[:n]


def _token_hashes(prepared: Sequence[str], by_char: bool) -> list[UInt64Array]:
    """Hash of every token of each prepared text, vectorised over the whole batch.

    Tokens are maximal runs of word characters (``str.isalnum``, where ``normalise_for_hash``
    splits), or single word characters when ``by_char``. A token hashes to
    ``fmix64(sum(ord(c_m) * POLY_BASE**m) + SEED)`` (mod 2**64), computed from prefix sums. At
    most MAX_TOKENS tokens per text are kept, from the start."""
    joined = " ".join(prepared)  # a space never belongs to a token: no token crosses texts
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    if not len(codes):
        return [np.empty(0, dtype=np.uint64) for _ in prepared]
    word = _alnum(codes)
    if by_char:
        starts = np.flatnonzero(word)
        ends = starts + 1
    else:
        edges = np.diff(word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
    np.cumsum(codes.astype(np.uint64) * _powers(_POLY_BASE, len(codes)), out=prefix[1:])
    poly = (prefix[ends] - prefix[starts]) * _powers(_POLY_INV, len(codes))[starts]
    hashes = _fmix64(poly + np.uint64(SEED))
    text_starts = np.cumsum([0] + [len(t) + 1 for t in prepared[:-1]])
    bounds = np.searchsorted(starts, text_starts)
    pieces = np.split(hashes, bounds[1:])
    return [p[:MAX_TOKENS] for p in pieces]


def _shingle_hashes(tokens: UInt64Array, k: int) -> UInt64Array:
    """Hash of every run of ``k`` token hashes: ``fmix64(sum(t[i + j] * MIX[j]))``."""
    n = len(tokens) - k + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    acc = tokens[:n] * _MIX[0]
    for j in range(1, k):
        acc += tokens[j : j + n] * _MIX[j]
    return _fmix64(acc)


def _sorted_unique(x: UInt64Array) -> UInt64Array:
    x = np.sort(x)
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if len(x) else x


def _shingle_sets(texts: Sequence[str]) -> list[UInt64Array]:
    """Sorted unique shingle hashes of each text; empty below the length guards."""
    prepared = [_prepare(t) for t in texts]
    unspaced = [is_unspaced(p) for p in prepared]
    result: list[UInt64Array] = [np.empty(0, dtype=np.uint64)] * len(texts)
    for by_char, k, minimum in (
        (False, SHINGLE_WORDS, MIN_TOKENS_WORDS),
        (True, SHINGLE_CHARS, MIN_TOKENS_CHARS),
    ):
        which = [i for i, u in enumerate(unspaced) if u == by_char]
        # Groups of at most ~2M characters bound the temporary arrays (8 bytes per character).
        group: list[int] = []
        size = 0
        for pos, i in enumerate(which):
            group.append(i)
            size += len(prepared[i])
            if size >= _GROUP_CHARS or pos == len(which) - 1:
                tokens = _token_hashes([prepared[g] for g in group], by_char)
                for g, t in zip(group, tokens, strict=True):
                    if len(t) >= minimum:
                        result[g] = _sorted_unique(_shingle_hashes(t, k))
                group, size = [], 0
    return result


def shingle_sets(texts: Sequence[str]) -> list[UInt64Array]:
    """:func:`shingle_set` of many texts at once (vectorised over the batch)."""
    return _shingle_sets(texts)


def shingle_set(text: str) -> UInt64Array:
    """Sorted unique shingle hashes of ``text`` (empty when it is too short to fingerprint)."""
    return _shingle_sets([text])[0]


# --- signatures -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Signature:
    """MinHash signature of one text: :data:`NUM_PERM` values below 2**31, plus the number of
    distinct shingles (needed to estimate containment from signatures alone)."""

    values: UInt32Array
    n_shingles: int

    def to_bytes(self) -> bytes:
        """The values as little-endian uint32: 512 bytes, for a BLOB column."""
        return self.values.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, n_shingles: int) -> Signature:
        return cls(np.frombuffer(data, dtype="<u4").astype(np.uint32), n_shingles)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signature):
            return NotImplemented
        return self.n_shingles == other.n_shingles and bool(
            np.array_equal(self.values, other.values)
        )

    def __hash__(self) -> int:
        return hash((self.n_shingles, self.values.tobytes()))


def _minhash_rows(xs: Sequence[UInt64Array]) -> UInt32Array:
    """Signatures of non-empty shingle arrays (already reduced mod P), one row each.

    ``(A_i * x + B_i) mod P`` for all permutations at once, exactly: with ``A_i, B_i, x < P``
    the value ``v`` is below ``P * (P - 1) < 2**62``, so it fits in uint64, and one Mersenne fold
    ``(v & P) + (v >> 31)`` (congruent to v, since 2**31 = 1 mod P) lands in [0, 2P - 2]; then
    ``min(v, v - P)`` finishes the reduction (for v < P, v - P wraps around to a huge number).

    Documents are packed into blocks of about :data:`_CHUNK` shingles reduced per document by
    ``minimum.reduceat``; a larger one is folded block by block. The two work buffers are
    allocated once: fresh multi-megabyte temporaries per block cost more in page faults than
    the arithmetic."""
    out = np.empty((len(xs), NUM_PERM), dtype=np.uint64)
    work = np.empty((NUM_PERM, _CHUNK), dtype=np.uint64)
    spare = np.empty((NUM_PERM, _CHUNK), dtype=np.uint64)

    def permuted(x: UInt64Array) -> UInt64Array:
        v, t = work[:, : len(x)], spare[:, : len(x)]
        np.multiply.outer(_A[:, 0], x, out=v)
        v += _B
        np.right_shift(v, _SHIFT, out=t)
        v &= _P
        v += t
        np.subtract(v, _P, out=t)
        np.minimum(v, t, out=v)
        return v

    i = 0
    while i < len(xs):
        j, total = i, 0
        while j < len(xs) and (j == i or total + len(xs[j]) <= _CHUNK):
            total += len(xs[j])
            j += 1
        if total > _CHUNK:  # one large document
            x = xs[i]
            acc = permuted(x[:_CHUNK]).min(axis=1)
            for start in range(_CHUNK, len(x), _CHUNK):
                np.minimum(acc, permuted(x[start : start + _CHUNK]).min(axis=1), out=acc)
            out[i] = acc
        else:
            starts = np.cumsum([0] + [len(x) for x in xs[i : j - 1]])
            block = permuted(np.concatenate(xs[i:j]))
            out[i:j] = np.minimum.reduceat(block, starts, axis=1).T
        i = j
    return out.astype(np.uint32)


# A text's signature and sorted unique shingle set; None: too short to fingerprint.
Fingerprint = tuple[Signature, UInt64Array]


def _fingerprints(texts: Sequence[str]) -> list[Fingerprint | None]:
    sets = _shingle_sets(texts)
    present = [i for i, s in enumerate(sets) if len(s)]
    rows = _minhash_rows([sets[i] % _P for i in present])
    result: list[Fingerprint | None] = [None] * len(texts)
    for row, i in zip(rows, present, strict=True):
        result[i] = (Signature(row, len(sets[i])), sets[i])
    return result


def fingerprint(text: str) -> Fingerprint | None:
    """Signature and shingle set of one text (``None``: too short), e.g. computed where the
    text is extracted and handed to a :class:`FingerprintCache` of the process that clusters."""
    return _fingerprints([text])[0]


class FingerprintCache:
    """Fingerprints already computed, the most recently used kept up to ``max_bytes``.

    Clustering needs the shingle set of every stored candidate that passes the signature
    prefilter, and a stored text names no set: without this cache a story syndicated N times
    is shingled again for each of its N copies. A run keeps one: the fingerprints of its own
    new articles go in as they are computed (in extraction workers, or when clustered), and a
    later copy finds its candidates' sets here. Entries are found two ways:

    * by text (:meth:`lookup`, :meth:`put`): a 128-bit digest of the exact text, so a hit is
      what :func:`fingerprint` would compute;
    * by stored document (:meth:`stored`, :meth:`put_stored`): a key the store gives, such as
      (article id, content hash), so the store need not even read the text back.

    Safe to share between threads.
    """

    def __init__(self, max_bytes: int = 32 << 20) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[Fingerprint | None, int]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _text_key(text: str) -> bytes:
        return xxhash.xxh3_128_digest(text.encode("utf-8", "surrogatepass"))

    def __len__(self) -> int:
        return len(self._entries)

    def _put(self, key: Hashable, value: Fingerprint | None) -> None:
        size = 64 + (value[1].nbytes + value[0].values.nbytes if value is not None else 0)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._entries[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, freed) = self._entries.popitem(last=False)
                self.bytes -= freed

    def _get(self, keys: Sequence[Hashable]) -> tuple[list[Fingerprint | None], list[int]]:
        found: list[Fingerprint | None] = [None] * len(keys)
        missing = []
        with self._lock:
            for i, key in enumerate(keys):
                entry = self._entries.get(key)
                if entry is None:
                    missing.append(i)
                    continue
                self._entries.move_to_end(key)
                found[i] = entry[0]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        return found, missing

    def put(self, text: str, value: Fingerprint | None) -> None:
        self._put(self._text_key(text), value)

    def lookup(self, texts: Sequence[str]) -> tuple[list[Fingerprint | None], list[int]]:
        """The cached fingerprints of ``texts`` and the indexes of those not cached."""
        return self._get([self._text_key(t) for t in texts])

    def put_stored(self, key: Hashable, value: Fingerprint | None) -> None:
        self._put(("stored", key), value)

    def stored(self, keys: Sequence[Hashable]) -> tuple[list[Fingerprint | None], list[int]]:
        """The cached fingerprints of stored documents by their store's ``keys``, and the
        indexes of those not cached."""
        return self._get([("stored", key) for key in keys])


def fingerprints(
    texts: Sequence[str], cache: FingerprintCache | None = None, *, remember: bool = True
) -> list[Fingerprint | None]:
    """:func:`fingerprint` of each text, vectorised over those ``cache`` does not hold (which
    it then does, unless not to ``remember``: a caller that keeps them under its own keys)."""
    if cache is None:
        return _fingerprints(texts)
    found, missing = cache.lookup(texts)
    for i, value in zip(missing, _fingerprints([texts[i] for i in missing]), strict=True):
        found[i] = value
        if remember:
            cache.put(texts[i], value)
    return found


def signatures(texts: Sequence[str]) -> list[Signature | None]:
    """Signatures of many texts at once (one vectorised pass); ``None`` where a text is too
    short, empty or only boilerplate."""
    return [fp[0] if fp else None for fp in _fingerprints(texts)]


def signature(text: str) -> Signature | None:
    """Signature of one text, or ``None`` when it is too short to fingerprint."""
    return signatures([text])[0]


def _band_key_matrix(values: UInt32Array) -> npt.NDArray[np.int64]:
    """Band keys of signatures stacked as rows (shape ``(n, NUM_PERM)`` → ``(n, BANDS)``)."""
    v = values.astype(np.uint64).reshape(len(values), BANDS, ROWS)
    acc = np.broadcast_to(np.arange(1, BANDS + 1, dtype=np.uint64) * _MIX[0], v.shape[:2]).copy()
    for j in range(ROWS):
        acc += v[:, :, j] * _MIX[j + 1]
    return _fmix64(acc).view(np.int64)


def band_keys(sig: Signature) -> list[int]:
    """The :data:`BANDS` LSH keys of ``sig`` as signed 64-bit ints (a BIGINT column)."""
    return [int(k) for k in _band_key_matrix(sig.values[None, :])[0]]


# --- similarity -----------------------------------------------------------------------------


def _exact(a: UInt64Array, b: UInt64Array) -> tuple[float, float]:
    if not len(a) or not len(b):
        return 0.0, 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)  # both sorted and unique
    at = np.searchsorted(large, small)
    at[at == len(large)] = 0
    inter = int(np.count_nonzero(large[at] == small))
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))


def similarity(a_text: str, b_text: str) -> tuple[float, float]:
    """Exact ``(jaccard, containment)`` of two texts' shingle sets; ``(0, 0)`` when either is
    too short to fingerprint."""
    return _exact(shingle_set(a_text), shingle_set(b_text))


def estimate(a: Signature, b: Signature) -> tuple[float, float]:
    """``(jaccard, containment)`` estimated from signatures alone: Jaccard as the share of
    agreeing values, containment from it and the set sizes (|A∩B| = J(|A|+|B|)/(1+J))."""
    j = float(np.count_nonzero(a.values == b.values)) / NUM_PERM
    inter = j * (a.n_shingles + b.n_shingles) / (1 + j)
    return j, min(1.0, inter / max(1, min(a.n_shingles, b.n_shingles)))


def is_match(jaccard: float, containment: float) -> bool:
    """The verification rule: containment ≥ MIN_CONTAINMENT and Jaccard ≥ MIN_JACCARD."""
    return containment >= MIN_CONTAINMENT and jaccard >= MIN_JACCARD


# --- clustering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """A new document to cluster."""

    doc_id: str
    text: str
    published_at: datetime | None = None


@dataclass(frozen=True, eq=False)
class StoredDoc:
    """What the index keeps per document. ``shingles`` (from :func:`shingle_set`) is optional:
    without it, verification falls back to the signature estimate. ``boilerplate`` documents
    (found to be hubs, see :func:`_hubs`) are never matched again."""

    doc_id: str
    signature: Signature
    cluster_id: str
    published_at: datetime | None = None
    shingles: UInt64Array | None = None
    boilerplate: bool = False


class DedupIndex(Protocol):
    """Storage that :func:`cluster` reads (it never writes: persist the result yourself).

    With a table ``dedup_bands(band_key BIGINT, doc_id)`` ``shared_bands`` is one query: join
    the new documents' keys to the table and count rows per (document, stored doc_id)."""

    def shared_bands(self, keys_of: Mapping[int, Sequence[int]]) -> Iterable[tuple[int, str, int]]:
        """For each new document ``i`` of ``keys_of`` (index -> its band keys), the stored
        documents sharing keys with it and how many: ``(i, doc_id, shared)``. Counted where
        the keys are stored (a story syndicated N times would otherwise come back as N rows
        per band of every copy)."""
        ...

    def fetch(self, doc_ids: Collection[str]) -> Mapping[str, StoredDoc]:
        """The stored documents among ``doc_ids`` (unknown ids are left out)."""
        ...

    # Optional: ``shingles(doc_ids) -> Mapping[str, shingle set]`` for stored documents kept
    # without their shingles; asked only for candidates that pass the signature prefilter
    # (a database recomputes them from the stored text). Without it, those pairs are
    # verified on the signature estimate.


@dataclass(frozen=True)
class Match:
    """A verified near-duplicate pair; ``exact`` is False when estimated from signatures."""

    doc_id: str
    other_id: str
    jaccard: float
    containment: float
    exact: bool = True


@dataclass(frozen=True)
class Assignment:
    """One new document's cluster and what to persist for it (signature ``None`` and no keys
    when the text is too short: it stays a singleton and is never matched)."""

    doc_id: str
    cluster_id: str
    signature: Signature | None
    band_keys: tuple[int, ...]
    shingles: UInt64Array | None = field(default=None, repr=False)
    boilerplate: bool = False  # its matches bridged unrelated stories: store it flagged

    @property
    def is_representative(self) -> bool:
        return self.cluster_id == self.doc_id


@dataclass(frozen=True)
class Clustering:
    """Result of :func:`cluster`: one assignment per new document in input order, the verified
    pairs, and ``relabels`` (old → new cluster id) for stored clusters that were merged or got an
    earlier representative: apply ``update … set cluster_id = new where cluster_id = old``.
    ``boilerplate_clusters`` are stored clusters found to be hubs: flag their documents."""

    assignments: list[Assignment]
    matches: list[Match]
    relabels: dict[str, str]
    boilerplate_clusters: set[str] = field(default_factory=set)  # stored clusters to flag


def _order_key(published_at: datetime | None, doc_id: str) -> tuple[int, float, str]:
    # Earliest first; unknown dates after every known one; the id breaks ties deterministically.
    # A naive datetime is taken as UTC: .timestamp() would read the machine's time zone.
    if published_at is None:
        return (1, 0.0, doc_id)
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=UTC)
    return (0, published_at.timestamp(), doc_id)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = x
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _batch_pairs(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Candidate pairs within a batch as codes ``i * n + j`` (i < j row indices of ``keys``),
    one per shared band, so repeats count shared bands.

    All (key, row) entries are sorted by key; a bucket is a run of equal keys. Each entry is
    paired with the next :data:`_BUCKET_SPAN` entries of its run, which is every pair in a
    bucket of up to that size and a bounded band of pairs in a crowded one (boilerplate, a
    story with dozens of copies), still enough to connect the bucket."""
    n = keys.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), keys.shape[1])
    order = np.argsort(keys.ravel(), kind="stable")  # stable: rows ascend within a bucket
    flat, rows = keys.ravel()[order], rows[order]
    codes: list[npt.NDArray[np.int64]] = []
    for d in range(1, min(_BUCKET_SPAN, len(flat) - 1) + 1):
        same = flat[:-d] == flat[d:]
        if not same.any():
            break  # no run is longer than d
        first, second = rows[:-d][same], rows[d:][same]
        keep = first != second  # a hash collision between two bands of one document
        codes.append(first[keep] * n + second[keep])
    return np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)


def _candidates(
    docs: Sequence[Doc], keys_of: Mapping[int, tuple[int, ...]], index: DedupIndex
) -> list[tuple[str, str]]:
    """Candidate pairs (new id, new or stored id): shared band keys within the batch and with
    the index, at most MAX_CANDIDATES per new document, those sharing most bands first."""
    present = sorted(keys_of)
    scored: dict[tuple[str, str], int] = {}
    if present:
        n = len(present)
        codes = _batch_pairs(np.array([keys_of[i] for i in present], dtype=np.int64))
        uniq, counts = np.unique(codes, return_counts=True)
        for code, c in zip(uniq.tolist(), counts.tolist(), strict=True):
            a, b = divmod(code, n)
            scored[(docs[present[a]].doc_id, docs[present[b]].doc_id)] = c
    if keys_of:
        for i, stored_id, shared in index.shared_bands(keys_of):
            if stored_id != docs[i].doc_id:
                pair = (docs[i].doc_id, stored_id)
                scored[pair] = scored.get(pair, 0) + shared
    batch_ids = {d.doc_id for d in docs}
    by_doc: dict[str, list[tuple[int, str]]] = {}
    for (a, b), c in scored.items():
        by_doc.setdefault(a, []).append((c, b))
        if b in batch_ids:
            by_doc.setdefault(b, []).append((c, a))
    kept: set[tuple[str, str]] = set()
    for a, cands in by_doc.items():
        for _, b in sorted(cands, key=lambda cb: (-cb[0], cb[1]))[:MAX_CANDIDATES]:
            kept.add((a, b) if (a, b) in scored else (b, a))
    return sorted(kept)


def _hubs(edges: Iterable[tuple[str, str, bool]]) -> set[str]:
    """Nodes whose matches bridge unrelated stories: shared boilerplate, not news.

    ``edges`` are matched pairs ``(u, v, u_is_smaller)``. A node is a hub when the neighbours it
    is contained in (those at least its size), leaving out its "twins" (neighbours matched to
    at least 80% of its other neighbours: identical copies of it, such as a second page of the
    same boilerplate), fall into more than MAX_BRIDGED groups that do not match each other.
    A sign-off paragraph is contained in articles about everything; a short copy of a story is
    contained in the original and the longer copies, which match each other (one group, two
    when it joins two partial clusters). An original whose copies are each contained in it is
    not a hub however little they match each other: only the smaller side can be one."""
    adjacent: dict[str, set[str]] = {}
    containers: dict[str, set[str]] = {}
    for u, v, u_smaller in edges:
        adjacent.setdefault(u, set()).add(v)
        adjacent.setdefault(v, set()).add(u)
        small, large = (u, v) if u_smaller else (v, u)
        containers.setdefault(small, set()).add(large)
    hubs = set()
    for node, larger in containers.items():
        if len(larger) <= MAX_BRIDGED:
            continue
        neighbours = adjacent[node]
        others = len(neighbours) - 1
        rest = {y for y in larger if len(adjacent[y] & neighbours) < 0.8 * others}
        groups = _UnionFind()
        for y in rest:
            groups.find(y)
            for z in adjacent[y] & rest:
                groups.union(y, z)
        if len({groups.find(y) for y in rest}) > MAX_BRIDGED:
            hubs.add(node)
    return hubs


def cluster(
    docs: Sequence[Doc],
    index: DedupIndex,
    *,
    verify_exact: bool = True,
    cache: FingerprintCache | None = None,
) -> Clustering:
    """Cluster a batch of new documents among themselves and against ``index``.

    For each document: signature and band keys (returned for persisting); candidates from the
    batch and the index sharing a band key (:func:`_candidates`); a signature prefilter;
    verification on shingle sets (or on the signature estimate when the stored side has no
    shingles, or everywhere when ``verify_exact`` is False); matches of hubs (:func:`_hubs`)
    are dropped; clusters are the connected components, stored clusters included."""
    ids = [d.doc_id for d in docs]
    if len(set(ids)) != len(ids):
        raise ValueError("doc_id values must be unique within a batch")
    prints = fingerprints([d.text for d in docs], cache)
    present = [i for i, fp in enumerate(prints) if fp]
    keys_of: dict[int, tuple[int, ...]] = {}
    if present:
        matrix = _band_key_matrix(np.stack([fp[0].values for fp in prints if fp]))
        keys_of = {i: tuple(int(k) for k in row) for i, row in zip(present, matrix, strict=True)}
    kept = _candidates(docs, keys_of, index)

    new_fp = {docs[i].doc_id: fp for i, fp in enumerate(prints) if fp}
    stored = dict(index.fetch({b for _, b in kept if b not in new_fp})) if kept else {}
    # Signature prefilter first; only the pairs that pass need shingle sets, which a stored
    # side may have to load (see DedupIndex.shingles): most candidates never get that far.
    passing: list[tuple[str, str, float, float]] = []
    for a, b in kept:
        sig_a = new_fp[a][0]
        if b in new_fp:
            sig_b = new_fp[b][0]
        elif b in stored and not stored[b].boilerplate:
            sig_b = stored[b].signature
        else:
            continue
        est_j, est_c = estimate(sig_a, sig_b)
        if est_j >= _PREFILTER_AGREEMENT:
            passing.append((a, b, est_j, est_c))
    loaded: Mapping[str, UInt64Array] = {}
    missing = {b for _, b, _, _ in passing if b not in new_fp and stored[b].shingles is None}
    loader = getattr(index, "shingles", None)
    if verify_exact and missing and loader is not None:
        loaded = loader(missing)
    verified: list[Match] = []
    for a, b, est_j, est_c in passing:
        set_a = new_fp[a][1]
        set_b: UInt64Array | None
        if b in new_fp:
            set_b = new_fp[b][1]
        else:
            set_b = stored[b].shingles if stored[b].shingles is not None else loaded.get(b)
        if verify_exact and set_b is not None:
            jac, con = _exact(set_a, set_b)
            shared = round(con * min(len(set_a), len(set_b)))
            if is_match(jac, con) and shared >= MIN_SHARED:
                verified.append(Match(a, b, round(jac, 4), round(con, 4), True))
        elif est_j >= ESTIMATE_MIN_JACCARD and is_match(est_j, est_c):
            verified.append(Match(a, b, round(est_j, 4), round(est_c, 4), False))

    # Graph over new documents and stored *clusters* (a stored doc stands for its cluster).
    def node(doc_id: str) -> str:
        return "n:" + doc_id if doc_id in new_fp else "c:" + stored[doc_id].cluster_id

    def size(doc_id: str) -> int:
        return len(new_fp[doc_id][1]) if doc_id in new_fp else stored[doc_id].signature.n_shingles

    hubs = _hubs(
        (node(m.doc_id), node(m.other_id), size(m.doc_id) <= size(m.other_id)) for m in verified
    )
    matches = [m for m in verified if node(m.doc_id) not in hubs and node(m.other_id) not in hubs]
    uf = _UnionFind()
    for m in matches:
        uf.union(node(m.doc_id), node(m.other_id))
    stored_clusters = {n[2:] for n in uf.parent if n.startswith("c:")}
    reps = dict(index.fetch(stored_clusters - set(stored))) if stored_clusters else {}
    reps.update(stored)
    when: dict[str, datetime | None] = {d.doc_id: d.published_at for d in docs}
    for c in stored_clusters:  # a cluster's representative is the doc named by its id
        when.setdefault(c, reps[c].published_at if c in reps else None)
    best: dict[str, str] = {}
    for n in uf.parent:
        root, doc_id = uf.find(n), n[2:]
        if root not in best or _order_key(when[doc_id], doc_id) < _order_key(
            when[best[root]], best[root]
        ):
            best[root] = doc_id

    assignments = []
    for i, d in enumerate(docs):
        n = "n:" + d.doc_id
        fp = prints[i]
        assignments.append(
            Assignment(
                d.doc_id,
                best[uf.find(n)] if n in uf.parent else d.doc_id,
                fp[0] if fp else None,
                keys_of.get(i, ()),
                fp[1] if fp else None,
                "n:" + d.doc_id in hubs,
            )
        )
    relabels = {c: best[uf.find("c:" + c)] for c in stored_clusters}
    return Clustering(
        assignments,
        matches,
        {old: new for old, new in relabels.items() if old != new},
        {h[2:] for h in hubs if h.startswith("c:")},
    )


class MemoryIndex:
    """An in-memory :class:`DedupIndex`: band keys in one sorted numpy array (lookups by
    ``searchsorted``), documents in a dict. Suits tests, benchmarks and a few million keys."""

    def __init__(self) -> None:
        self._docs: dict[str, StoredDoc] = {}
        self._members: dict[str, set[str]] = {}
        self._ids: list[str] = []
        self._pending_keys: list[npt.NDArray[np.int64]] = []
        self._pending_rows: list[npt.NDArray[np.int64]] = []
        self._keys = np.empty(0, dtype=np.int64)
        self._rows = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, doc: StoredDoc, keys: Sequence[int] | None = None) -> None:
        """Store ``doc`` under its band keys (computed from its signature when not given)."""
        if doc.doc_id in self._docs:
            raise ValueError(f"{doc.doc_id!r} is already stored")
        self._docs[doc.doc_id] = doc
        self._members.setdefault(doc.cluster_id, set()).add(doc.doc_id)
        row = len(self._ids)
        self._ids.append(doc.doc_id)
        key_array = np.asarray(band_keys(doc.signature) if keys is None else keys, np.int64)
        self._pending_keys.append(key_array)
        self._pending_rows.append(np.full(len(key_array), row, dtype=np.int64))

    def add_clustering(
        self, docs: Sequence[Doc], result: Clustering, *, keep_shingles: bool = True
    ) -> None:
        """Apply ``result`` of ``cluster(docs, self)``: relabel, then store the new documents
        that have a signature (what a database-backed caller does in one transaction)."""
        for cluster_id in result.boilerplate_clusters:
            for doc_id in self._members.get(cluster_id, set()):
                self._docs[doc_id] = replace(self._docs[doc_id], boilerplate=True)
        for old, new in result.relabels.items():
            for doc_id in self._members.pop(old, set()):
                self._docs[doc_id] = replace(self._docs[doc_id], cluster_id=new)
                self._members.setdefault(new, set()).add(doc_id)
        for doc, a in zip(docs, result.assignments, strict=True):
            if a.signature is not None:
                shingles = a.shingles if keep_shingles else None
                stored = StoredDoc(
                    a.doc_id, a.signature, a.cluster_id, doc.published_at, shingles, a.boilerplate
                )
                self.add(stored, a.band_keys)

    def _merge_pending(self) -> None:
        if self._pending_keys:
            keys = np.concatenate([self._keys, *self._pending_keys])
            rows = np.concatenate([self._rows, *self._pending_rows])
            order = np.argsort(keys, kind="stable")
            self._keys, self._rows = keys[order], rows[order]
            self._pending_keys, self._pending_rows = [], []

    def candidates(self, band_keys: Collection[int]) -> list[tuple[int, str]]:
        self._merge_pending()
        query = np.unique(np.fromiter(band_keys, dtype=np.int64, count=len(band_keys)))
        lo = np.searchsorted(self._keys, query, side="left")
        hi = np.searchsorted(self._keys, query, side="right")
        hit = hi > lo
        if not hit.any():
            return []
        lo, hi, query = lo[hit], hi[hit], query[hit]
        lengths = hi - lo
        positions = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        found_keys = np.repeat(query, lengths)
        return [
            (int(k), self._ids[r])
            for k, r in zip(found_keys.tolist(), self._rows[positions].tolist(), strict=True)
        ]

    def shared_bands(self, keys_of: Mapping[int, Sequence[int]]) -> list[tuple[int, str, int]]:
        """:meth:`DedupIndex.shared_bands`, counted from :meth:`candidates`."""
        docs_of_key: dict[int, list[int]] = {}
        for i, row in keys_of.items():
            for k in row:
                docs_of_key.setdefault(k, []).append(i)
        counts: dict[tuple[int, str], int] = {}
        for key, stored_id in self.candidates(list(docs_of_key)):
            for i in docs_of_key[key]:
                counts[(i, stored_id)] = counts.get((i, stored_id), 0) + 1
        return [(i, stored_id, n) for (i, stored_id), n in counts.items()]

    def fetch(self, doc_ids: Collection[str]) -> dict[str, StoredDoc]:
        return {d: self._docs[d] for d in doc_ids if d in self._docs}

    def cluster_of(self, doc_id: str) -> str:
        return self._docs[doc_id].cluster_id


@dataclass(frozen=True)
class DocumentCluster:
    """Where one document of :func:`cluster_documents` ended up."""

    doc_id: str
    cluster_id: str
    similarity: float | None  # containment of its best verified match; None: no match


def cluster_documents(docs: Sequence[Doc], batch_size: int = 1000) -> list[DocumentCluster]:
    """Cluster a whole collection in arrival batches against an in-memory index: the same
    :func:`cluster` the ingest flow runs against the warehouse. Cluster ids are final (later
    batches may relabel earlier clusters)."""
    index = MemoryIndex()
    best: dict[str, float] = {}
    for start in range(0, len(docs), batch_size):
        batch = list(docs[start : start + batch_size])
        result = cluster(batch, index)
        index.add_clustering(batch, result)
        for match in result.matches:
            for doc_id in (match.doc_id, match.other_id):
                best[doc_id] = max(best.get(doc_id, 0.0), match.containment)
    out = []
    for doc in docs:
        try:
            cluster_id = index.cluster_of(doc.doc_id)
        except KeyError:  # too short to sign: always its own story
            cluster_id = doc.doc_id
        out.append(DocumentCluster(doc.doc_id, cluster_id, best.get(doc.doc_id)))
    return out
