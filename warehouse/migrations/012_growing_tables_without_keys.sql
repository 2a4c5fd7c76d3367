-- The tables that grow with every run lose their keys, and with them their ART indexes.
--
-- DuckDB 1.5 writes a table's whole ART index again at every checkpoint (duckdb/duckdb#24848),
-- and a load commits at least one checkpoint: with keys here, committing 5,000 new articles
-- cost 0.2 s into an empty warehouse and 1.4 s at 60,000 articles, growing without bound
-- (benchmarks/load.py). Inserting the links (112 per article on the corpus) into their keyed
-- table also took twice the rows' own insert. DuckDB itself advises against keys on
-- bulk-loaded tables.
--
-- Their rows stay unique by the writers, as on a DuckLake (which has no keys at all): a
-- DuckDB file has one writer process, that process writes from one thread, every batch is
-- deduplicated before it is loaded, and warehouse.db.upsert reaches these tables by an
-- UPDATE ... FROM and an anti-joined INSERT instead of ON CONFLICT. `newsdesk check` looks
-- for duplicates (duplicate_url_key, duplicate_child_rows). Ids still come from the same counters.
-- The small tables (publishers, feeds, feed_state, authors, tags, runs, leases ...) keep their
-- keys. DuckDB cannot drop a key in place: each table is copied into a keyless one.

create table fetches_keyless (
    fetch_id bigint not null default nextval('fetch_id_seq'),
    run_id varchar,                             -- runs.run_id
    feed_id integer,                            -- feeds.feed_id for feed fetches and their pages
    url varchar not null,                       -- as requested
    url_key varchar,                            -- canonical key of url (pages)
    final_url varchar,                          -- after redirects
    kind varchar not null,                      -- feed | page | robots | sitemap
    requested_at timestamptz not null,
    status integer,                             -- HTTP status; null when no response came
    bytes bigint,                               -- body bytes received (decompressed)
    elapsed_ms integer,
    content_type varchar,
    charset varchar,
    charset_source varchar,                     -- http | bom | declaration | detected | fallback
    error_class varchar,                        -- null on success; see README "Error classes"
    error varchar,
    drop_reason varchar,                        -- page fetched but no article kept: why
    warc_path varchar,
    warc_offset bigint,
    robots_decision varchar,                    -- allowed | disallowed: <rule> | unavailable
    redirects varchar,                          -- "301 https://…; 308 https://…"
    retry_after_s double,
    discovered_via varchar,                     -- feed | sitemap | wayback | commoncrawl | warc
    captured_at timestamptz                     -- archives: when the archive took it
);
insert into fetches_keyless select * from fetches order by fetch_id;
drop table fetches;
alter table fetches_keyless rename to fetches;

create table entries_keyless (
    feed_id integer not null,                   -- feeds.feed_id; unique with guid
    guid varchar not null,
    url varchar not null,
    url_key varchar not null,                   -- articles.url_key once the page is loaded
    title varchar,
    summary varchar,
    published_at timestamptz,
    updated_at timestamptz,
    authors varchar[],
    tags varchar[],
    first_seen_run varchar,
    last_seen_run varchar,
    discovered_via varchar default 'feed',      -- feed | sitemap
    language varchar                            -- sitemaps: news:language as written
);
insert into entries_keyless select * from entries order by feed_id, guid;
drop table entries;
alter table entries_keyless rename to entries;

create table articles_keyless (
    article_id bigint not null default nextval('article_id_seq'),
    url_key varchar not null,                   -- unique
    canonical_url varchar not null,
    url varchar not null,                       -- the URL the page was fetched from
    publisher_id integer,                       -- publishers.publisher_id
    feed_id integer,                            -- the feed that first listed it
    title varchar,
    text varchar not null,
    description varchar,
    language varchar,                           -- ISO 639-1
    published_at timestamptz,
    modified_at timestamptz,
    date_source varchar,                        -- jsonld | meta | feed | url | extractor
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    word_count integer,
    content_hash varchar not null,
    cluster_id bigint,
    version integer not null default 1,
    extractor_version varchar,
    fetch_id bigint,                            -- fetches.fetch_id of the current version
    is_paywalled boolean,
    charset varchar,
    charset_source varchar,
    language_source varchar,                    -- html_lang | extractor | source
    html_lang varchar,                          -- the page's <html lang>, as written
    discovered_via varchar,                     -- how the article's first version came
    captured_at timestamptz                     -- archived pages: the capture time
);
insert into articles_keyless select * from articles order by article_id;
drop table articles;
alter table articles_keyless rename to articles;

create table article_versions_keyless (
    article_id bigint not null,                 -- unique with version
    version integer not null,
    content_hash varchar not null,
    title varchar,
    text varchar not null,
    seen_at timestamptz not null,
    fetch_id bigint
);
insert into article_versions_keyless select * from article_versions order by article_id, version;
drop table article_versions;
alter table article_versions_keyless rename to article_versions;

create table article_authors_keyless (
    article_id bigint not null,                 -- unique with author_id
    author_id integer not null,
    position integer not null
);
insert into article_authors_keyless select * from article_authors order by article_id, position;
drop table article_authors;
alter table article_authors_keyless rename to article_authors;

create table article_tags_keyless (
    article_id bigint not null,                 -- unique with tag_id
    tag_id integer not null
);
insert into article_tags_keyless select * from article_tags order by article_id, tag_id;
drop table article_tags;
alter table article_tags_keyless rename to article_tags;

create table images_keyless (
    article_id bigint not null,                 -- articles.article_id; unique with position
    position integer not null,                  -- order on the page, from 0
    url varchar,
    caption varchar,                            -- caption text without its credit
    credit varchar,                             -- "© Agency / Photographer", "Foto: dpa"
    alt varchar
);
insert into images_keyless select * from images order by article_id, position;
drop table images;
alter table images_keyless rename to images;

create table links_keyless (
    article_id bigint not null,                 -- unique with url and kind
    url varchar not null,
    anchor_text varchar,
    kind varchar not null                       -- related (read-more / related boxes) | inline
);
insert into links_keyless select * from links order by article_id;
drop table links;
alter table links_keyless rename to links;

create table removed_spans_keyless (
    article_id bigint not null,                 -- unique with position
    position integer not null,                  -- order of removal
    rule varchar not null,                      -- see README "Removal rules"
    text varchar not null
);
insert into removed_spans_keyless select * from removed_spans order by article_id, position;
drop table removed_spans;
alter table removed_spans_keyless rename to removed_spans;

create table raw_pages_keyless (
    fetch_id bigint not null,                   -- fetches.fetch_id; unique
    url varchar not null,
    content_type varchar,
    fetched_at timestamptz not null,
    encoding varchar not null,                  -- zlib
    body blob not null
);
insert into raw_pages_keyless select * from raw_pages order by fetch_id;
drop table raw_pages;
alter table raw_pages_keyless rename to raw_pages;

create table article_signatures_keyless (
    article_id bigint not null,                 -- articles.article_id; unique
    scheme varchar not null,                    -- transforms.dedup.SCHEME: hashing constants
    content_hash varchar not null,              -- the articles.content_hash it was computed from
    n_shingles integer not null,
    signature blob,                             -- 128 x uint32 MinHash; null: too short to match
    boilerplate boolean not null default false, -- bridged unrelated stories: never matched again
    computed_at timestamptz not null
);
insert into article_signatures_keyless select * from article_signatures order by article_id;
drop table article_signatures;
alter table article_signatures_keyless rename to article_signatures;

create table cluster_matches_keyless (
    article_id bigint not null,                 -- the newer article of the pair; unique with
    other_article_id bigint not null,           -- other_article_id
    jaccard double not null,                    -- on word 5-gram shingles
    containment double not null,                -- |A ∩ B| / min(|A|, |B|)
    exact boolean not null,                     -- false: estimated from signatures
    matched_at timestamptz not null
);
insert into cluster_matches_keyless select * from cluster_matches
order by article_id, other_article_id;
drop table cluster_matches;
alter table cluster_matches_keyless rename to cluster_matches;

create table clusters_keyless (
    cluster_id bigint not null,                 -- = the representative's article_id; unique
    size integer not null,                      -- articles in the cluster (copies + 1)
    publishers integer not null,                -- distinct publishers carrying it
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    first_published_at timestamptz,
    last_published_at timestamptz
);
insert into clusters_keyless select * from clusters order by cluster_id;
drop table clusters;
alter table clusters_keyless rename to clusters;
