-- Story clusters: near-duplicate signatures, LSH band keys, verified pairs and cluster summaries.
-- Every article belongs to a cluster (a singleton at least); articles.cluster_id is the
-- article_id of the cluster's earliest article.

create table article_signatures (
    article_id bigint primary key,              -- articles.article_id
    scheme varchar not null,                    -- transforms.dedup.SCHEME: hashing constants
    content_hash varchar not null,              -- the articles.content_hash it was computed from
    n_shingles integer not null,
    signature blob,                             -- 128 x uint32 MinHash; null: too short to match
    boilerplate boolean not null default false, -- bridged unrelated stories: never matched again
    computed_at timestamptz not null
);

create table article_bands (
    band_key bigint not null,                   -- LSH band key (transforms.dedup.band_keys)
    article_id bigint not null
);

create table cluster_matches (
    article_id bigint not null,                 -- the newer article of the pair
    other_article_id bigint not null,
    jaccard double not null,                    -- on word 5-gram shingles
    containment double not null,                -- |A ∩ B| / min(|A|, |B|)
    exact boolean not null,                     -- false: estimated from signatures
    matched_at timestamptz not null,
    primary key (article_id, other_article_id)
);

create table clusters (
    cluster_id bigint primary key,              -- = the representative's article_id
    size integer not null,                      -- articles in the cluster (copies + 1)
    publishers integer not null,                -- distinct publishers carrying it
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    first_published_at timestamptz,
    last_published_at timestamptz
);

alter table runs add column articles_copies integer default 0;   -- new articles that joined a story
