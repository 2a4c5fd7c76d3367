-- Full-text search (warehouse/search.py). DuckDB's FTS index is a snapshot, not updated by
-- loads: this one-row record says what the index was built from, so a search can tell whether
-- it is current and the ingest side knows when to rebuild it (search.refresh_search_index).
create table search_index_state (
    scheme varchar not null,                    -- tokenizer/stemmer scheme (search.SCHEME)
    built_at timestamptz not null,              -- UTC
    articles bigint not null,                   -- count(*) of articles at build time
    max_article_id bigint not null,             -- max(article_id) at build time (0: none)
    fingerprint ubigint not null,               -- bit_xor of hash(article_id, content_hash, title, language)
    build_ms integer not null                   -- how long the build took, in milliseconds
);
