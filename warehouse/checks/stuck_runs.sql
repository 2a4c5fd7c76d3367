-- Runs still marked running six hours after they started.
-- The process was killed before it could close its runs row (a failed run is closed as
-- failed).
-- severity: warning
with final as (
    select run_id, flow, started_at, feeds_total, pages_fetched
    from runs
    where status = 'running' and started_at < $now - interval 6 hour
    order by started_at
)

select * from final
