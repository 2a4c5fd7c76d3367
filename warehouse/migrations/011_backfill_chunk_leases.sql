-- Backfill chunks partitioned between workers: a backfill run claims the chunks it is about to
-- take (in one transaction), and another run of the same job skips those a live run holds —
-- lease not expired and the holder's `runs` row still `running`, as for feed_leases (010). A
-- chunk keeps `claimed_by` after it is done: which run did it.

alter table backfill_chunks add column claimed_by varchar;        -- runs.run_id of the holder
alter table backfill_chunks add column lease_expires_at timestamptz;
alter table runs add column chunks_leased_elsewhere integer default 0;  -- another run held them

-- Where a run's process is, so a later run on the same host can tell a killed run (its pid is
-- gone) from a live one and take back its leases at once instead of waiting for them to expire.
alter table runs add column host varchar;
alter table runs add column pid integer;
