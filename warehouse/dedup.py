"""Story clustering on the warehouse: :mod:`transforms.dedup` with DuckDB as its index.

Articles without a current signature (new ones, or edited ones whose content hash moved) are
picked up by :func:`dedup_pending`, so clustering is idempotent and catches up after a crash. A
new article is matched against stored articles within ``window_days`` of its date, across all
sources. An edited article gets a fresh signature but keeps its cluster: a version is not a
new member.

Each chunk of pending articles is read, clustered and written in one transaction
(:func:`warehouse.db.retry_conflicts`): on a DuckLake with several workers, a chunk another
worker clustered meanwhile conflicts, and the retry finds those articles done.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import polars as pl

from transforms import dedup
from warehouse.db import retry_conflicts, upsert

__all__ = ["DedupCounts", "WarehouseIndex", "dedup_pending"]

DEFAULT_WINDOW_DAYS = 14
CHUNK = 1000
_NO_SHINGLES = np.empty(0, dtype=np.uint64)


@contextmanager
def _id_table(con: duckdb.DuckDBPyConnection, name: str, ids: Iterable[int]) -> Iterator[str]:
    """``ids`` as a registered one-column table: big Python lists bound as query parameters
    cost DuckDB a failed import per element, which dominated large batches."""
    con.register(name, pl.DataFrame({"id": list(ids)}, schema={"id": pl.Int64()}))
    try:
        yield name
    finally:
        con.unregister(name)


def _shift(when: datetime, by: timedelta) -> datetime:
    """``when + by``, clamped to datetime's range (a page may claim the year 1 or 9999)."""
    try:
        return when + by
    except OverflowError:
        return (
            datetime.min.replace(tzinfo=UTC)
            if by < timedelta(0)
            else datetime.max.replace(tzinfo=UTC)
        )


def _from_epoch_us(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1_000_000, tz=UTC)


class WarehouseIndex:
    """:class:`transforms.dedup.DedupIndex` over ``article_bands`` / ``article_signatures``,
    limited to articles dated within ``[since, until]``."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        since: datetime,
        until: datetime,
        cache: dedup.FingerprintCache | None = None,
    ) -> None:
        self.con = con
        self.since = since
        self.until = until
        self.cache = cache

    def candidates(self, band_keys: Collection[int]) -> Iterable[tuple[int, str]]:
        if not band_keys:
            return []
        keys = pl.DataFrame({"band_key": list(band_keys)}, schema={"band_key": pl.Int64()})
        self.con.register("wanted_bands", keys)
        rows = self.con.execute(
            """
            select b.band_key, b.article_id
            from article_bands b
            join wanted_bands w using (band_key)
            join articles a using (article_id)
            where coalesce(a.published_at, a.first_seen_at) between ? and ?
            """,
            [self.since, self.until],
        ).fetchall()
        self.con.unregister("wanted_bands")
        return [(int(key), str(article_id)) for key, article_id in rows]

    def shared_bands(self, keys_of: Mapping[int, Sequence[int]]) -> Iterable[tuple[int, str, int]]:
        """Per new document, the stored articles sharing band keys with it and how many,
        counted by DuckDB (see :class:`transforms.dedup.DedupIndex`)."""
        wanted = pl.DataFrame(
            {
                "i": [i for i, keys in keys_of.items() for _ in keys],
                "band_key": [k for keys in keys_of.values() for k in keys],
            },
            schema={"i": pl.Int64(), "band_key": pl.Int64()},
        )
        self.con.register("wanted_doc_bands", wanted)
        try:
            rows = self.con.execute(
                """
                select w.i, b.article_id, count(*)
                from wanted_doc_bands w
                join article_bands b using (band_key)
                join articles a using (article_id)
                where coalesce(a.published_at, a.first_seen_at) between ? and ?
                group by all
                """,
                [self.since, self.until],
            ).fetchall()
        finally:
            self.con.unregister("wanted_doc_bands")
        return [(int(i), str(article_id), int(shared)) for i, article_id, shared in rows]

    def fetch(self, doc_ids: Collection[str]) -> Mapping[str, dedup.StoredDoc]:
        if not doc_ids:
            return {}
        # Times as epoch microseconds: DuckDB's TIMESTAMPTZ-to-datetime conversion costs an
        # import per value, which dominated this query on large batches.
        with _id_table(self.con, "fetch_ids", (int(d) for d in doc_ids)) as ids:
            rows = self.con.execute(
                f"""
                select s.article_id, s.signature, s.n_shingles, a.cluster_id,
                       epoch_us(coalesce(a.published_at, a.first_seen_at)), s.boilerplate
                from article_signatures s join articles a using (article_id)
                where s.signature is not null and s.article_id in (select id from {ids})
                """
            ).fetchall()
        found = {}
        for article_id, blob, n_shingles, cluster_id, when_us, boilerplate in rows:
            found[str(article_id)] = dedup.StoredDoc(
                doc_id=str(article_id),
                signature=dedup.Signature.from_bytes(bytes(blob), n_shingles),
                cluster_id=str(cluster_id if cluster_id is not None else article_id),
                published_at=_from_epoch_us(when_us),
                boilerplate=boilerplate,
            )
        return found

    def shingles(self, doc_ids: Collection[str]) -> Mapping[str, dedup.UInt64Array]:
        """Shingle sets recomputed from the stored texts, for the candidates that passed the
        signature prefilter (cheaper than storing 8 bytes per shingle for every article).
        With a cache, those it holds by (article id, content hash) are not read back."""
        wanted = [int(d) for d in doc_ids]
        if self.cache is not None:
            with _id_table(self.con, "shingle_ids", wanted) as ids:
                hashes = self.con.execute(
                    f"select article_id, content_hash from articles "
                    f"where article_id in (select id from {ids})"
                ).fetchall()
            cached, missing = self.cache.stored(hashes)
            found = {
                str(article_id): fp[1] if fp else _NO_SHINGLES
                for (article_id, _), fp in zip(hashes, cached, strict=True)
            }
            wanted = [hashes[i][0] for i in missing]
            if not wanted:
                return found
        else:
            found = {}
        with _id_table(self.con, "shingle_ids", wanted) as ids:
            rows = self.con.execute(
                f"select article_id, content_hash, text from articles "
                f"where article_id in (select id from {ids})"
            ).fetchall()
        texts = [text for _, _, text in rows]
        if self.cache is None:
            sets = dedup.shingle_sets(texts)
        else:
            # Kept under their stored key only: that is how later batches ask for them (a
            # text key as well would count each one twice against the cache's bytes).
            prints = dedup.fingerprints(texts, self.cache, remember=False)
            for (article_id, content_hash, _), fp in zip(rows, prints, strict=True):
                self.cache.put_stored((article_id, content_hash), fp)
            sets = [fp[1] if fp else _NO_SHINGLES for fp in prints]
        found.update((str(article_id), s) for (article_id, _, _), s in zip(rows, sets, strict=True))
        return found


@dataclass(frozen=True, slots=True)
class DedupCounts:
    clustered: int = 0  # new articles assigned a cluster
    joined: int = 0  # copies added: new ones, and stored leaders an earlier original displaced
    refreshed: int = 0  # edited articles whose signature was recomputed
    matches: int = 0


def dedup_pending(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    window_days: int = DEFAULT_WINDOW_DAYS,
    cache: dedup.FingerprintCache | None = None,
) -> DedupCounts:
    """Cluster every article that has no signature yet; refresh edited articles' signatures.
    ``cache`` (a run's) holds fingerprints already computed: see
    :class:`transforms.dedup.FingerprintCache`."""
    counts = DedupCounts()
    while True:
        chunk = _cluster_next_chunk(con, now, window_days, cache)
        if chunk is None:
            break
        counts = _merge(counts, chunk)
    refreshed = _refresh_stale(con, now)
    return DedupCounts(counts.clustered, counts.joined, refreshed, counts.matches)


@retry_conflicts
def _cluster_next_chunk(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    window_days: int,
    cache: dedup.FingerprintCache | None,
) -> DedupCounts | None:
    """Cluster the next chunk of articles without a signature; None when there are none."""
    # Ids first, then those articles' texts: reading the text column along with the anti join
    # would bring every stored text into memory, on every batch.
    pending_rows = con.execute(
        """
        select a.article_id, epoch_us(coalesce(a.published_at, a.first_seen_at))
        from articles a anti join article_signatures s using (article_id)
        order by coalesce(a.published_at, a.first_seen_at), a.article_id
        limit ?
        """,
        [CHUNK],
    ).fetchall()
    if not pending_rows:
        return None
    with _id_table(con, "pending_text_ids", (i for i, _ in pending_rows)) as ids:
        texts = dict(
            con.execute(
                f"select article_id, text from articles where article_id in (select id from {ids})"
            ).fetchall()
        )
    pending = [
        (i, texts[i], datetime.fromtimestamp(us / 1_000_000, tz=UTC)) for i, us in pending_rows
    ]
    return _cluster_chunk(con, pending, now, window_days, cache)


@retry_conflicts
def _refresh_stale(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    # Texts only for the stale ids: a join on the whole table builds a hash table holding every
    # article's text, which grew a run's peak memory with the size of the warehouse.
    stale = con.execute(
        """
        select article_id, text, content_hash from articles
        where article_id in (
            select s.article_id from article_signatures s join articles a using (article_id)
            where s.content_hash <> a.content_hash
        )
        """
    ).fetchall()
    if stale:
        _refresh(con, stale, now)
    return len(stale)


def _merge(a: DedupCounts, b: DedupCounts) -> DedupCounts:
    return DedupCounts(
        a.clustered + b.clustered,
        a.joined + b.joined,
        a.refreshed + b.refreshed,
        a.matches + b.matches,
    )


def _cluster_chunk(
    con: duckdb.DuckDBPyConnection,
    pending: list[tuple[int, str, datetime]],
    now: datetime,
    window_days: int,
    cache: dedup.FingerprintCache | None = None,
) -> DedupCounts:
    window = timedelta(days=window_days)
    dates = [when for _, _, when in pending]
    index = WarehouseIndex(con, _shift(min(dates), -window), _shift(max(dates), window), cache)
    docs = [dedup.Doc(str(article_id), text, when) for article_id, text, when in pending]
    result = dedup.cluster(docs, index, cache=cache)
    with _id_table(con, "pending_ids", (article_id for article_id, _, _ in pending)) as ids:
        hashes = dict(
            con.execute(
                f"select article_id, content_hash from articles "
                f"where article_id in (select id from {ids})"
            ).fetchall()
        )
    if cache is not None:  # later batches find these as stored candidates without their text
        for a in result.assignments:
            fp = (a.signature, a.shingles) if a.signature and a.shingles is not None else None
            cache.put_stored((int(a.doc_id), hashes[int(a.doc_id)]), fp)
    signatures = pl.DataFrame(
        [
            {
                "article_id": int(a.doc_id),
                "content_hash": hashes[int(a.doc_id)],
                "n_shingles": a.signature.n_shingles if a.signature else 0,
                "signature": a.signature.to_bytes() if a.signature else None,
                "boilerplate": a.boilerplate,
                "cluster_id": int(a.cluster_id),
            }
            for a in result.assignments
        ],
        schema={
            "article_id": pl.Int64(),
            "content_hash": pl.String(),
            "n_shingles": pl.Int32(),
            "signature": pl.Binary(),
            "boilerplate": pl.Boolean(),
            "cluster_id": pl.Int64(),
        },
    )
    bands = pl.DataFrame(
        [
            {"band_key": key, "article_id": int(a.doc_id)}
            for a in result.assignments
            if not a.boilerplate
            for key in a.band_keys
        ],
        schema={"band_key": pl.Int64(), "article_id": pl.Int64()},
    )
    matches = pl.DataFrame(
        [
            {
                "article_id": int(m.doc_id),
                "other_article_id": int(m.other_id),
                "jaccard": m.jaccard,
                "containment": m.containment,
                "exact": m.exact,
            }
            for m in result.matches
        ],
        schema={
            "article_id": pl.Int64(),
            "other_article_id": pl.Int64(),
            "jaccard": pl.Float64(),
            "containment": pl.Float64(),
            "exact": pl.Boolean(),
        },
    )
    relabels = pl.DataFrame(
        [{"old": int(old), "new": int(new)} for old, new in result.relabels.items()],
        schema={"old": pl.Int64(), "new": pl.Int64()},
    )
    flagged = [int(c) for c in result.boilerplate_clusters]
    try:
        con.register("new_signatures", signatures)
        con.register("new_bands", bands)
        con.register("new_matches", matches)
        con.register("relabels", relabels)
        upsert(
            con,
            "article_signatures",
            ("article_id",),
            (
                "article_id",
                "scheme",
                "content_hash",
                "n_shingles",
                "signature",
                "boilerplate",
                "computed_at",
            ),
            """
            select article_id, $scheme as scheme, content_hash, n_shingles, signature,
                   boilerplate, $now as computed_at
            from new_signatures
            """,
            params={"scheme": dedup.SCHEME, "now": now},
        )
        con.execute("insert into article_bands select band_key, article_id from new_bands")
        upsert(
            con,
            "cluster_matches",
            ("article_id", "other_article_id"),
            ("article_id", "other_article_id", "jaccard", "containment", "exact", "matched_at"),
            """
            select article_id, other_article_id, jaccard, containment, exact,
                   $now as matched_at
            from new_matches
            """,
            params={"now": now},
        )
        # Merged or re-represented stored clusters first, then the new articles' own ids.
        con.execute(
            "update articles set cluster_id = r.new from relabels r "
            "where articles.cluster_id = r.old"
        )
        con.execute(
            "update articles set cluster_id = s.cluster_id from new_signatures s "
            "where articles.article_id = s.article_id"
        )
        if flagged:
            with _id_table(con, "flagged_ids", flagged) as ids:
                con.execute(
                    f"""
                    update article_signatures set boilerplate = true
                    where article_id in (select article_id from articles
                                         where cluster_id in (select id from {ids}))
                    """
                )
        affected = con.execute(
            """
            select distinct cluster_id from articles
            where article_id in (select article_id from new_signatures)
               or cluster_id in (select new from relabels)
            union select old from relabels
            """
        ).fetchall()
        _refresh_clusters(con, [row[0] for row in affected])
    finally:
        for name in ("new_signatures", "new_bands", "new_matches", "relabels"):
            con.unregister(name)
    # Copies added: articles minus stories, before and after. A new article that is a copy
    # counts, and so does a stored one that stopped leading its story because an earlier
    # original arrived (or two stories merged): the total then does not depend on the order
    # pages arrive in.
    leaders = sum(1 for a in result.assignments if a.is_representative)
    joined = len(result.assignments) - (leaders - len(result.relabels))
    return DedupCounts(len(result.assignments), joined, 0, len(result.matches))


def _refresh_clusters(con: duckdb.DuckDBPyConnection, cluster_ids: list[int]) -> None:
    with _id_table(con, "cluster_ids", cluster_ids) as ids:
        con.execute(f"delete from clusters where cluster_id in (select id from {ids})")
        con.execute(
            f"""
            insert into clusters
            select cluster_id, count(*), count(distinct publisher_id), min(first_seen_at),
                   max(first_seen_at), min(published_at), max(published_at)
            from articles where cluster_id in (select id from {ids})
            group by cluster_id
            """
        )


def _refresh(
    con: duckdb.DuckDBPyConnection, stale: list[tuple[int, str, str]], now: datetime
) -> None:
    """New signature and band keys for edited articles; their cluster stays as it is."""
    computed = dedup.signatures([text for _, text, _ in stale])
    for (article_id, _, content_hash), sig in zip(stale, computed, strict=True):
        con.execute(
            """
            update article_signatures set content_hash = ?, n_shingles = ?, signature = ?,
                computed_at = ? where article_id = ?
            """,
            [
                content_hash,
                sig.n_shingles if sig else 0,
                sig.to_bytes() if sig else None,
                now,
                article_id,
            ],
        )
        con.execute("delete from article_bands where article_id = ?", [article_id])
        if sig is not None:
            con.executemany(
                "insert into article_bands values (?, ?)",
                [(key, article_id) for key in dedup.band_keys(sig)],
            )
