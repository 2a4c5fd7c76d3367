-- The first normalised schema. Times are TIMESTAMPTZ (stored as UTC instants).
-- Relationships are documented in comments rather than declared as FOREIGN KEYs: DuckDB refuses
-- updates of rows that a foreign key references, which would block idempotent upserts.

create sequence publisher_id_seq start 1;
create table publishers (
    publisher_id integer primary key default nextval('publisher_id_seq'),
    name varchar not null unique,
    domain varchar,
    country varchar,
    language varchar,
    added_at timestamptz not null default now()
);

create sequence feed_id_seq start 1;
create table feeds (
    feed_id integer primary key default nextval('feed_id_seq'),
    publisher_id integer not null,              -- publishers.publisher_id
    url varchar not null unique,
    title varchar,                              -- as the feed names itself
    kind varchar,                               -- rss | atom | rdf, learnt from the first parse
    enabled boolean not null default true,
    added_at timestamptz not null default now()
);

create table feed_state (
    feed_id integer primary key,                -- feeds.feed_id
    etag varchar,                               -- echoed verbatim as If-None-Match
    last_modified varchar,                      -- echoed verbatim as If-Modified-Since
    last_status integer,                        -- HTTP status of the last fetch (null: no answer)
    last_fetch_at timestamptz,
    last_success_at timestamptz,
    consecutive_failures integer not null default 0,
    last_error_class varchar,
    last_error varchar,
    next_check_at timestamptz,
    retired_at timestamptz
);

create sequence fetch_id_seq start 1;
create table fetches (
    fetch_id bigint primary key default nextval('fetch_id_seq'),
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
    warc_offset bigint
);

create table entries (
    feed_id integer not null,                   -- feeds.feed_id
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
    primary key (feed_id, guid)
);

create sequence article_id_seq start 1;
create table articles (
    article_id bigint primary key default nextval('article_id_seq'),
    url_key varchar not null unique,
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
    date_source varchar,                        -- jsonld | meta | feed | extractor
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
    charset_source varchar
);

create table article_versions (
    article_id bigint not null,
    version integer not null,
    content_hash varchar not null,
    title varchar,
    text varchar not null,
    seen_at timestamptz not null,
    fetch_id bigint,
    primary key (article_id, version)
);

create sequence author_id_seq start 1;
create table authors (
    author_id integer primary key default nextval('author_id_seq'),
    name varchar not null,
    kind varchar not null,                      -- person | agency
    unique (name, kind)
);

create table article_authors (
    article_id bigint not null,
    author_id integer not null,
    position integer not null,
    primary key (article_id, author_id)
);

create sequence tag_id_seq start 1;
create table tags (
    tag_id integer primary key default nextval('tag_id_seq'),
    name varchar not null unique
);

create table article_tags (
    article_id bigint not null,
    tag_id integer not null,
    primary key (article_id, tag_id)
);

create table runs (
    run_id varchar primary key,                 -- the Prefect flow-run id
    flow varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,                    -- running | completed | failed
    error varchar,
    feeds_total integer default 0,
    feeds_fetched integer default 0,            -- answered 200 with a feed
    feeds_not_modified integer default 0,       -- answered 304
    feeds_failed integer default 0,             -- any recorded error
    entries_seen integer default 0,
    entries_new integer default 0,
    pages_fetched integer default 0,
    articles_new integer default 0,
    articles_updated integer default 0,         -- known URL, new text: a new version
    articles_unchanged integer default 0,
    articles_dropped integer default 0,         -- page fetched, no article kept (see fetches.drop_reason)
    articles_failed integer default 0           -- page not fetched (see fetches.error_class)
);
