-- Data checks and source-health events are data too: every check run and every health event
-- sent to Prefect is a row (see warehouse/checks.py and flows/reporting.py).

create sequence check_result_id_seq start 1;
create table check_results (
    check_result_id bigint primary key default nextval('check_result_id_seq'),
    checked_at timestamptz not null,            -- the `now` the checks ran with (UTC)
    check_name varchar not null,                -- warehouse/checks/<check_name>.sql
    severity varchar not null,                  -- error | warning
    status varchar not null,                    -- pass | fail | error (the check's SQL failed)
    offending integer not null,                 -- rows the check returned
    sample json,                                -- the first offending rows, as a JSON array
    error varchar,                              -- status = error: why
    run_id varchar                              -- the maintenance run (runs.run_id); null: CLI
);

-- One row per health event sent, so each episode is announced once: a failure streak is keyed
-- by the feed's last success before it, a silence by the feed's last arrival.
create table health_events (
    feed_id integer not null,                   -- feeds.feed_id
    event varchar not null,                     -- newsdesk.source.failing | newsdesk.source.silent
    episode varchar not null,                   -- what identifies the episode (an ISO timestamp)
    emitted_at timestamptz not null,
    payload json,
    primary key (feed_id, event, episode)
);
