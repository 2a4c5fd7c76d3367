-- Backfills (`newsdesk backfill`): history from sitemaps, the Wayback Machine, Common Crawl and
-- WARC files. A job's window is cut into chunks; a chunk's articles and its `done` mark commit in
-- one transaction, so a killed backfill resumes at the first unfinished chunk and never loads a
-- finished one twice.

create table backfill_jobs (
    job_id varchar primary key,                 -- derived from via, target, window and chunk unit:
                                                -- the same command resumes the same job
    via varchar not null,                       -- sitemap | wayback | commoncrawl | warc
    target varchar not null,                    -- publisher name, URL or path, as given
    since timestamptz,                          -- window start (inclusive); null: no lower bound
    until timestamptz,                          -- window end (exclusive); null: no upper bound
    chunk_unit varchar not null,                -- day | week | month | file
    status varchar not null,                    -- running | completed | incomplete (chunks failed)
    created_at timestamptz not null,
    updated_at timestamptz not null,
    finished_at timestamptz,
    last_run_id varchar,                        -- runs.run_id of the latest attempt
    params json                                 -- everything else the job was started with
);

create table backfill_chunks (
    job_id varchar not null,                    -- backfill_jobs.job_id
    chunk_index integer not null,               -- order within the job, from 0
    label varchar not null,                     -- 2026-11-02 | 2026-W45 | 2026-11 | a file path
    starts_at timestamptz,                      -- inclusive
    ends_at timestamptz,                        -- exclusive
    status varchar not null,                    -- pending | done | failed
    attempts integer not null default 0,
    urls_found integer not null default 0,      -- page URLs (or archive records) in the chunk
    pages_fetched integer not null default 0,
    articles_new integer not null default 0,
    articles_known integer not null default 0,  -- already in the warehouse: left as they are
    articles_dropped integer not null default 0,
    failures integer not null default 0,        -- URLs or records that could not be read
    error_class varchar,                        -- failed: the error that stopped the chunk
    error varchar,
    run_id varchar,                             -- the run that finished (or last tried) it
    finished_at timestamptz,
    primary key (job_id, chunk_index)
);

-- Where a page came from, kept apart from when it was published: an archive's capture time is
-- not a publication date.
alter table fetches add column discovered_via varchar;     -- feed | sitemap | wayback | commoncrawl | warc
alter table fetches add column captured_at timestamptz;    -- archives: when the archive took it
alter table articles add column discovered_via varchar;    -- how the article's first version came
alter table articles add column captured_at timestamptz;   -- archived pages: the capture time
alter table entries add column discovered_via varchar default 'feed';  -- feed | sitemap

update fetches set discovered_via = 'feed' where kind = 'page';
update articles set discovered_via = 'feed';
