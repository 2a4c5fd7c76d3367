-- Polite fetching: the feed polling state machine, feed moves, robots.txt cache, fetch details.

alter table feed_state add column interval_s double;                 -- the last chosen interval
alter table feed_state add column next_check_reason varchar;         -- policy | ttl | max-age | expires | rate | backoff | retry-after | cap | retired
alter table feed_state add column checks_since_unconditional integer default 0;
alter table feed_state add column last_unconditional_at timestamptz;
alter table feed_state add column not_modified_count integer default 0;   -- 304 answers so far
alter table feed_state add column fetch_count integer default 0;          -- fetches so far

-- 301/308 moves of a feed: feeds.url holds the new address, the old one is kept here so a
-- sources file that still lists it maps to the same feed.
create table feed_moves (
    feed_id integer not null,
    old_url varchar not null,
    new_url varchar not null,
    status integer not null,                    -- 301 | 308
    moved_at timestamptz not null,
    primary key (feed_id, old_url)
);

-- robots.txt per origin (scheme://host[:port]), trusted for NEWSDESK_ROBOTS_TTL_S.
create table robots_cache (
    origin varchar primary key,
    body varchar,                               -- null when there was no usable answer
    status integer,                             -- HTTP status; null when no answer came
    fetched_at timestamptz not null
);

alter table fetches add column robots_decision varchar;   -- allowed | disallowed: <rule> | unavailable
alter table fetches add column redirects varchar;         -- "301 https://…; 308 https://…"
alter table fetches add column retry_after_s double;
