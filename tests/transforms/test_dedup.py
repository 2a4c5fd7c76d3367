import hashlib
import random
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import xxhash

from transforms import dedup
from transforms.dedup import (
    Doc,
    MemoryIndex,
    Signature,
    StoredDoc,
    band_keys,
    cluster,
    is_unspaced,
    shingle_set,
    signature,
    signatures,
    similarity,
)
from transforms.text import normalise_for_hash

# Two invented articles on the same topic (a port strike), written for these tests: same names,
# places and vocabulary, different reporting.
STRIKE = """\
ROTTERDAM (Wire) — Dock workers at the port of Rotterdam walked off the job on Monday, halting \
container traffic at Europe's largest port for the first time in more than a decade.
The strike was called by the FNV union after talks with terminal operators over pay and \
automation broke down late on Sunday night. Union officials said about 4,000 workers had joined \
the walkout and that pickets were in place at all of the major container terminals.
"Our members have watched the terminals replace people with cranes that drive themselves, and \
they have had enough," union negotiator Marieke de Vries told reporters outside the gates of the \
Maasvlakte terminal. "We are not against the future, but we want a say in how it arrives."
The port authority said that dozens of ships were waiting at anchor in the North Sea and that \
the backlog would take several days to clear even if the strike ended quickly. Shipping lines \
began diverting vessels to Antwerp and Hamburg within hours of the walkout.
Terminal operators said their latest offer included a pay rise of 6 percent over two years and \
a guarantee that no worker would be laid off because of automation before 2030. The union wants \
a shorter working week and a veto over new automated equipment.
Economists warned that a long strike could disrupt supply chains across northern Europe, where \
retailers are already building stocks ahead of the holiday season. Dutch economy minister Pieter \
Janssen urged both sides to return to the table and said the government was ready to mediate.
The last major strike at the port, in 2013, lasted nine days and cost the Dutch economy an \
estimated 200 million euros, according to the central bank.
"""

STRIKE_FOLLOW_UP = """\
Rotterdam's dock workers will stay on strike for a second week, the FNV union said on Friday, \
after terminal operators refused to put automation on the negotiating table.
The walkout, which began on Monday, has left more than sixty ships waiting at anchor off the \
Dutch coast. Shipping lines have moved much of their cargo to Antwerp and Hamburg, where port \
officials reported record volumes and long queues of lorries.
Union negotiator Marieke de Vries said workers were prepared to hold out for weeks. "Nobody \
wants to lose wages before the holidays, but this is about whether there will be jobs here at \
all in ten years," she said at a rally attended by several thousand people in the city centre.
The operators' association said its offer of a 6 percent pay rise and job guarantees until 2030 \
was generous and accused the union of trying to block investments that keep the port \
competitive. It said it had asked the government to appoint an independent mediator.
Economy minister Pieter Janssen met both sides on Thursday evening but no date was set for new \
talks. Retailers' groups said that shortages of some imported goods could appear in Dutch shops \
within days if the strike continued, and the central bank lowered its growth forecast.
"""

JAPANESE = (
    "東京都は十五日、首都直下地震に備えた新たな被害想定を公表した。冬の夕方に大規模な地震が発生した場合、"
    "建物の倒壊や火災により最大で約六千人が死亡すると推計している。前回の想定と比べて死者数は減少したが、"
    "高齢者の割合が増えたことで避難に時間がかかる人は増えるとみられる。都は耐震化の促進や木造住宅が密集する"
    "地域の解消を進めるとともに、帰宅困難者の一時滞在施設を増やす方針だ。小池知事は記者会見で「想定を正しく"
    "理解し、家庭や職場での備えを見直してほしい」と呼びかけた。専門家は、家具の固定や水と食料の備蓄など、"
    "個人でできる対策の重要性を改めて指摘している。"
)
JAPANESE_OTHER = (
    "大阪府は二十日、南海トラフ巨大地震に備えた防災計画の見直し案をまとめた。津波の到達時間が短い沿岸部では、"
    "避難ビルの指定を増やし、夜間でも避難できるよう誘導灯の設置を進める。府によると、地震発生から最短で"
    "一時間余りで津波が到達する地域があり、迅速な避難が課題となっている。吉村知事は「一人でも多くの命を守る"
    "ため、市町村と連携して対策を急ぐ」と述べた。府は来年度予算に関連経費を盛り込む方針で、住民向けの"
    "訓練も拡充する。専門家は、日頃から避難経路を確認しておくことが重要だと話している。"
)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def wire_copy(text: str, keep: float) -> str:
    """A syndicated copy: new headline and lede sentence, the first ``keep`` of the words, and
    the outlet's boilerplate."""
    words = text.split(" ")
    cut = " ".join(words[: int(len(words) * keep)])
    body = cut.split("\n", 1)[1]  # the wire's own lede paragraph is replaced
    return (
        "Port strike paralyses Europe's busiest harbour\n"
        "Thousands of dockers stopped work in the Netherlands on Monday as a dispute over robots "
        "and wages came to a head.\n"
        f"{body}\n"
        "This story was provided by The Associated Press.\n"
        "Follow us on Twitter and Facebook for the latest updates."
    )


def new_batch(*docs: tuple[str, str], start: datetime = T0) -> list[Doc]:
    return [Doc(doc_id, text, start + timedelta(hours=i)) for i, (doc_id, text) in enumerate(docs)]


def test_identical_texts_match_and_share_band_keys() -> None:
    a, b = signature(STRIKE), signature(STRIKE)
    assert a is not None and b is not None
    assert a == b
    assert band_keys(a) == band_keys(b)
    assert len(band_keys(a)) == dedup.BANDS
    assert similarity(STRIKE, STRIKE) == (1.0, 1.0)
    result = cluster(new_batch(("a", STRIKE), ("b", STRIKE)), MemoryIndex())
    assert [x.cluster_id for x in result.assignments] == ["a", "a"]
    assert len(result.matches) == 1 and result.matches[0].jaccard == 1.0


def test_formatting_and_case_do_not_change_the_signature() -> None:
    shouted = STRIKE.upper().replace("\n", "\n\n").replace(",", " ,")
    assert signature(shouted) == signature(STRIKE)


def test_wire_copy_with_new_lede_cut_to_60_percent_matches() -> None:
    copy = wire_copy(STRIKE, 0.6)
    jaccard, containment = similarity(STRIKE, copy)
    assert jaccard < 0.6  # not a near-identical text: containment is what carries it
    assert containment >= dedup.MIN_CONTAINMENT
    result = cluster(new_batch(("wire", STRIKE), ("outlet", copy)), MemoryIndex())
    assert result.assignments[1].cluster_id == "wire"


def test_different_articles_on_the_same_topic_do_not_match() -> None:
    jaccard, containment = similarity(STRIKE, STRIKE_FOLLOW_UP)
    assert containment < 0.1 and jaccard < 0.05
    index = MemoryIndex()
    first = new_batch(("day1", STRIKE))
    index.add_clustering(first, cluster(first, index))
    second = new_batch(("day5", STRIKE_FOLLOW_UP), start=T0 + timedelta(days=4))
    result = cluster(second, index)
    assert result.assignments[0].cluster_id == "day5"
    assert result.matches == []


@pytest.mark.parametrize("text", ["", "   \n\n ", "Breaking: more soon.", "word " * 20])
def test_empty_and_short_texts_get_no_signature_and_never_cluster(text: str) -> None:
    assert signature(text) is None
    assert similarity(text, text) == (0.0, 0.0)
    result = cluster(new_batch(("a", text), ("b", text)), MemoryIndex())
    assert [(x.cluster_id, x.signature, x.band_keys) for x in result.assignments] == [
        ("a", None, ()),
        ("b", None, ()),
    ]


def test_boilerplate_only_texts_get_no_signature() -> None:
    stub = (
        "This story was provided by The Associated Press.\n"
        "Follow us on Twitter and Facebook for the latest updates.\n"
        "Copyright 2025 The Associated Press. All rights reserved. This material may not be "
        "published, broadcast, rewritten or redistributed.\n"
        "Sign up for our newsletter to get the top stories in your inbox every morning.\n"
        "(Reporting by Maria Lopez; Editing by John Carter)"
    )
    assert signature(stub) is None
    assert signature(stub + "\n" + STRIKE) == signature(STRIKE)


def test_unknown_boilerplate_contained_in_unrelated_articles_forms_no_cluster() -> None:
    footer = (
        "The Valley Courier is an independent newsroom that relies on the generosity of readers "
        "like you; become a member today and help us keep our local reporting free for everyone "
        "in the valley and beyond."
    )
    rng = random.Random(3)
    vocab = STRIKE.split() + STRIKE_FOLLOW_UP.split()
    articles = [" ".join(rng.choices(vocab, k=60)) + "\n" + footer for _ in range(4)]
    docs = new_batch(("stub", footer), *((f"article{i}", a) for i, a in enumerate(articles)))
    result = cluster(docs, MemoryIndex())
    assert {x.cluster_id for x in result.assignments} == {d.doc_id for d in docs}
    assert result.assignments[0].boilerplate


def test_chinese_and_japanese_are_shingled_by_characters() -> None:
    assert is_unspaced(normalise_for_hash(JAPANESE))
    assert is_unspaced("国务院总理今天在北京主持召开常务会议，研究部署进一步稳定经济的措施。")
    assert not is_unspaced("서울시는 오늘 새로운 교통 대책을 발표했다")  # Korean is spaced
    assert not is_unspaced(STRIKE)
    assert signature(JAPANESE) is not None
    cut = JAPANESE[: int(len(JAPANESE) * 0.6)]
    copy = "【速報】首都直下地震の新想定、都が公表。" + cut + "（共同通信）"
    assert similarity(JAPANESE, copy)[1] >= dedup.MIN_CONTAINMENT
    assert similarity(JAPANESE, JAPANESE_OTHER)[1] < 0.1
    docs = new_batch(("tokyo", JAPANESE), ("copy", copy), ("osaka", JAPANESE_OTHER))
    result = cluster(docs, MemoryIndex())
    assert [x.cluster_id for x in result.assignments] == ["tokyo", "tokyo", "osaka"]
    assert signature("東京都は十五日に発表した。") is None  # one line: too short


def test_five_megabyte_text_is_bounded_in_time_and_does_not_match_an_article() -> None:
    rng = random.Random(5)
    vocab = sorted(set(normalise_for_hash(STRIKE + STRIKE_FOLLOW_UP).split()))
    huge = " ".join(rng.choices(vocab, k=800_000))
    assert len(huge) > 5_000_000
    start = time.perf_counter()
    sig = signature(huge)
    result = cluster(new_batch(("huge", huge), ("strike", STRIKE)), MemoryIndex())
    elapsed = time.perf_counter() - start
    assert sig is not None and sig.n_shingles <= dedup.MAX_TOKENS
    assert elapsed < 5  # ~20 ms here: only the first 400k characters are even normalised
    assert [x.cluster_id for x in result.assignments] == ["huge", "strike"]


def test_earliest_document_is_the_representative_even_when_it_arrives_later() -> None:
    index = MemoryIndex()
    late = [Doc("copy1", wire_copy(STRIKE, 0.8), T0 + timedelta(hours=5))]
    late.append(Doc("copy2", wire_copy(STRIKE, 0.7), T0 + timedelta(hours=3)))
    first = cluster(late, index)
    assert [x.cluster_id for x in first.assignments] == ["copy2", "copy2"]
    index.add_clustering(late, first)
    original = [Doc("wire", STRIKE, T0)]  # backfilled: published before both copies
    second = cluster(original, index)
    assert second.assignments[0].cluster_id == "wire"
    assert second.relabels == {"copy2": "wire"}
    index.add_clustering(original, second)
    assert {index.cluster_of(d) for d in ("copy1", "copy2", "wire")} == {"wire"}


def test_history_persisted_as_bytes_matches_without_shingles() -> None:
    """What a database keeps per article: signature bytes, n_shingles, band keys, cluster id.
    Without shingle sets, verification uses the signature estimate."""
    sig = signature(STRIKE)
    assert sig is not None
    blob, n, keys = sig.to_bytes(), sig.n_shingles, band_keys(sig)
    assert len(blob) == 4 * dedup.NUM_PERM
    index = MemoryIndex()
    index.add(StoredDoc("wire", Signature.from_bytes(blob, n), "wire", T0), keys)
    copy = new_batch(("outlet", wire_copy(STRIKE, 0.9)), start=T0 + timedelta(hours=2))
    result = cluster(copy, index)
    assert result.assignments[0].cluster_id == "wire"
    assert not result.matches[0].exact


def test_batch_signatures_equal_one_at_a_time() -> None:
    texts = [STRIKE, "", JAPANESE, STRIKE_FOLLOW_UP, wire_copy(STRIKE, 0.6)]
    assert signatures(texts) == [signature(t) for t in texts]


def test_duplicate_ids_in_a_batch_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        cluster(new_batch(("a", STRIKE), ("a", STRIKE)), MemoryIndex())


# --- stability: a reimplementation of the documented scheme in plain Python ------------------

M64 = (1 << 64) - 1
P = (1 << 31) - 1
SEED = 0x6E6577736465736B  # b"newsdesk", as documented


def fmix64(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    return h ^ (h >> 33)


def xxh(data: bytes) -> int:
    return xxhash.xxh64_intdigest(data, SEED)


def reference(text: str) -> tuple[list[int], int, list[int]]:
    """Signature values, n_shingles and band keys as the module docstring defines them."""
    base = xxh(b"poly") | 1
    mix = [xxh(b"mix" + j.to_bytes(4, "little")) | 1 for j in range(8)]
    perms = [
        (
            xxh(b"perm-a" + i.to_bytes(4, "little")) % (P - 1) + 1,
            xxh(b"perm-b" + i.to_bytes(4, "little")) % P,
        )
        for i in range(128)
    ]
    words = normalise_for_hash(dedup.strip_boilerplate(text)).split()
    tokens = [
        fmix64((sum(ord(c) * pow(base, m, 1 << 64) for m, c in enumerate(w)) + SEED) & M64)
        for w in words
    ]
    shingles = {
        fmix64(sum(tokens[i + j] * mix[j] for j in range(5)) & M64) for i in range(len(tokens) - 4)
    }
    values = [min((a * (s % P) + b) % P for s in shingles) for a, b in perms]
    keys = []
    for band in range(64):
        acc = (band + 1) * mix[0] + values[2 * band] * mix[1] + values[2 * band + 1] * mix[2]
        key = fmix64(acc & M64)
        keys.append(key - (1 << 64) if key >= 1 << 63 else key)
    return values, len(shingles), keys


def test_signature_equals_the_documented_scheme() -> None:
    assert dedup.SEED == SEED and dedup.SHINGLE_WORDS == 5 and dedup.NUM_PERM == 128
    assert (dedup.BANDS, dedup.ROWS) == (64, 2)
    for text in (STRIKE, STRIKE_FOLLOW_UP, "Ünïcode «quotes», ﬁ ligatures and ＦＵＬＬ width " * 8):
        sig = signature(text)
        assert sig is not None
        values, n, keys = reference(text)
        assert sig.values.tolist() == values
        assert sig.n_shingles == n
        assert band_keys(sig) == keys


def test_signature_bytes_are_stable_across_releases() -> None:
    # Guards cross-release stability of stored signatures (computed once, with SCHEME
    # newsdesk-minhash-v1): if this fails, stored signatures no longer compare with new ones, so
    # bump dedup.SCHEME and recompute them rather than updating the digest.
    sig = signature(STRIKE)
    assert sig is not None
    assert dedup.SCHEME == "newsdesk-minhash-v1"
    assert hashlib.sha256(sig.to_bytes()).hexdigest()[:16] == EXPECTED_STRIKE_DIGEST


EXPECTED_STRIKE_DIGEST = "f58bdc4091cf5ec7"


def test_shingle_sets_are_sorted_unique_uint64() -> None:
    shingles = shingle_set(STRIKE)
    assert shingles.dtype == np.uint64
    assert np.array_equal(shingles, np.unique(shingles))


def test_naive_and_aware_dates_order_the_same_way() -> None:
    naive = [Doc("later", STRIKE, datetime(2025, 3, 1, 9)), Doc("earlier", STRIKE, T0)]
    result = cluster(naive, MemoryIndex())
    assert {x.cluster_id for x in result.assignments} == {"earlier"}
    undated = [Doc("a", STRIKE, None), Doc("b", STRIKE, T0)]
    assert {x.cluster_id for x in cluster(undated, MemoryIndex()).assignments} == {"b"}


def test_fingerprint_cache_returns_what_would_be_computed_and_stays_within_its_bytes() -> None:
    texts = [STRIKE, STRIKE_FOLLOW_UP, JAPANESE, "too short"]
    cache = dedup.FingerprintCache()
    first = dedup.fingerprints(texts, cache)
    assert (cache.hits, cache.misses) == (0, 4)
    again = dedup.fingerprints(texts, cache)
    assert (cache.hits, cache.misses) == (4, 4)
    for cached, fresh in zip(again, [dedup.fingerprint(t) for t in texts], strict=True):
        if fresh is None:
            assert cached is None
            continue
        assert cached is not None
        assert cached[0] == fresh[0]
        assert cached[1].tolist() == fresh[1].tolist()
    assert first[3] is None
    # Bounded: room for about one fingerprint keeps only the most recent.
    one = first[0]
    assert one is not None
    small = dedup.FingerprintCache(max_bytes=one[1].nbytes + one[0].values.nbytes + 100)
    dedup.fingerprints([STRIKE, STRIKE_FOLLOW_UP], small)
    assert len(small) == 1
    assert small.bytes <= small.max_bytes
    assert small.lookup([STRIKE_FOLLOW_UP])[1] == []  # the newest stayed
    assert small.lookup([STRIKE])[1] == [0]


def test_clustering_with_a_cache_equals_clustering_without() -> None:
    copies = [("wire", STRIKE), ("a", wire_copy(STRIKE, 0.9)), ("b", wire_copy(STRIKE, 0.7))]
    batch = new_batch(*copies, ("other", STRIKE_FOLLOW_UP), ("jp", JAPANESE))
    cache = dedup.FingerprintCache()
    dedup.fingerprints([STRIKE], cache)  # as an extraction worker would have sent it
    with_cache = cluster(batch, MemoryIndex(), cache=cache)
    without = cluster(batch, MemoryIndex())
    assert [a.cluster_id for a in with_cache.assignments] == [
        a.cluster_id for a in without.assignments
    ]
    assert with_cache.matches == without.matches
    assert cache.hits == 1  # the wire text was not shingled again
