-- Full-text search as an inverted index in plain tables (warehouse/search.py). It replaces
-- DuckDB's FTS index, a snapshot that had to be rebuilt from every article whenever one
-- changed and that a DuckLake could not hold (a schema of its own, with macros). These tables
-- are kept up to date one article at a time, on both backends: search.refresh_search_index
-- indexes the articles whose (article_id, indexed_key) is not in search_documents yet and
-- drops the documents that no longer match an article.
--
-- No keys or indexes on purpose: DuckDB rewrites a table's whole ART index at every
-- checkpoint (duckdb/duckdb#24848), a cost that would grow with the whole index at every load,
-- and DuckLake has none. One article has at most one document and one posting per term
-- because the refresh, the only writer, runs in one serialized write transaction.

-- The snapshot index and the record of what it was built from (migration 005).
drop schema if exists fts_main_search_documents cascade;
drop table search_index_state;

-- One row per indexed article: what it looked like when indexed, and its length for BM25.
create table search_documents (
    article_id bigint not null,                 -- articles.article_id
    indexed_key ubigint not null,               -- hash(search.SCHEME, content_hash, title, language) when indexed
    length integer not null                     -- terms in title + text (BM25's document length)
);

-- Term frequencies: one row per (term, article) with the number of times the term occurs in
-- the article's title and text together.
create table search_postings (
    term varchar not null,                      -- a prepared term (stemmed, accents stripped)
    article_id bigint not null,                 -- articles.article_id
    tf integer not null                         -- occurrences of term in the document
);

-- One row once the index has been built: the last refresh.
create table search_index_state (
    scheme varchar not null,                    -- tokenizer/stemmer scheme (search.SCHEME)
    refreshed_at timestamptz not null,          -- UTC, when the last refresh committed
    documents bigint not null,                  -- documents in the index after it
    indexed bigint not null,                    -- articles it (re)indexed
    dropped bigint not null,                    -- documents it dropped (article gone or changed)
    full_rebuild boolean not null,              -- whether it rebuilt the whole index
    unsorted_postings bigint not null,          -- postings appended out of term order since the last sorted write
    refresh_ms integer not null                 -- how long it took, in milliseconds
);
