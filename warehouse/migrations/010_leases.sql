-- Work partitioned between ingest workers (processes or machines on one DuckLake, or processes
-- taking turns on one DuckDB file): a run claims the feeds and sitemaps it polls, and the pages
-- it is about to fetch, in the transaction that decides them. Another run skips what a live
-- run holds: one whose lease has not expired and whose `runs` row is still `running`.
-- Leases end when their run finishes or fails, and expire after NEWSDESK_LEASE_S (renewed at
-- each batch the run loads), so a killed worker holds nothing for long.

create table feed_leases (
    feed_id integer primary key,                -- feeds.feed_id
    run_id varchar not null,                    -- runs.run_id of the holder
    leased_at timestamptz not null,
    expires_at timestamptz not null
);

-- A page claim outlives its run only when the run ended without fetching the page (killed,
-- failed): the row then marks the page as orphaned, and the next run fetches it.
create table page_leases (
    url_key varchar primary key,                -- articles.url_key once the page is loaded
    run_id varchar not null,                    -- runs.run_id of the holder
    feed_id integer,                            -- the source that listed it for this run
    leased_at timestamptz not null,
    expires_at timestamptz not null
);

alter table runs add column feeds_leased_elsewhere integer default 0;   -- due, but another run held them
alter table runs add column pages_leased_elsewhere integer default 0;   -- new, but another run was fetching them
