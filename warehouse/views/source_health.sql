-- How each feed is doing: last success, failures in a row, when it is checked next and why,
-- how often it answers 304, and new articles in the last day against its usual daily rate
-- (the last 28 days). Times are UTC; ratios are fractions of fetches.
create or replace view source_health as
with article_rates as (
    select
        feed_id,
        count(*) filter (where first_seen_at >= now() - interval 1 day) as new_last_day,
        count(*) filter (where first_seen_at >= now() - interval 28 day) / 28.0 as usual_per_day
    from articles
    group by feed_id
),

final as (
    select
        p.name as publisher,
        f.url as feed_url,
        f.enabled,
        s.last_status,
        s.last_fetch_at,                                    -- UTC
        s.last_success_at,                                  -- UTC
        coalesce(s.consecutive_failures, 0) as consecutive_failures,
        s.last_error_class,
        s.last_error,
        s.next_check_at,                                    -- UTC
        s.next_check_reason,
        s.retired_at,                                       -- UTC; set after a 410
        coalesce(s.fetch_count, 0) as fetches,
        case when s.fetch_count > 0
            then round(s.not_modified_count / s.fetch_count, 3) end as not_modified_ratio,
        coalesce(r.new_last_day, 0) as new_articles_last_day,
        round(coalesce(r.usual_per_day, 0), 2) as usual_articles_per_day,
        f.feed_id,
        p.publisher_id,
        coalesce(f.source_type, 'feed') as source_type
    from feeds as f
    join publishers as p using (publisher_id)
    left join feed_state as s using (feed_id)
    left join article_rates as r using (feed_id)
)

select * from final
;

comment on view source_health is
    'Per feed: last success, failures in a row, next check, 304 ratio, recent and usual volume.';
comment on column source_health.last_fetch_at is 'UTC';
comment on column source_health.source_type is 'feed | sitemap';
comment on column source_health.last_success_at is 'UTC';
comment on column source_health.next_check_at is 'UTC; null once retired';
comment on column source_health.retired_at is 'UTC; set after the feed answered 410';
comment on column source_health.not_modified_ratio is 'fraction of fetches answered 304 (0-1)';
comment on column source_health.new_articles_last_day is 'articles first seen in the last 24 h';
comment on column source_health.usual_articles_per_day is 'articles per day over the last 28 days';
