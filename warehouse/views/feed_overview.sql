-- One row per configured feed or sitemap: its publisher, last fetch outcome and how many articles
-- it brought.
create or replace view feed_overview as
with article_counts as (
    select feed_id, count(*) as articles, max(first_seen_at) as last_new_article_at
    from articles
    group by feed_id
),

final as (
    select
        p.name as publisher,
        f.url as feed_url,
        f.kind,
        f.enabled,
        s.last_status,
        s.last_fetch_at,
        s.last_success_at,
        s.consecutive_failures,
        s.last_error_class,
        s.last_error,
        coalesce(c.articles, 0) as articles,
        c.last_new_article_at,
        f.feed_id,
        p.publisher_id,
        coalesce(f.source_type, 'feed') as source_type
    from feeds as f
    join publishers as p using (publisher_id)
    left join feed_state as s using (feed_id)
    left join article_counts as c using (feed_id)
)

select * from final
;

comment on view feed_overview is 'Each feed with its publisher, last fetch outcome and articles.';
comment on column feed_overview.last_fetch_at is 'UTC';
comment on column feed_overview.source_type is 'feed, or sitemap (a news sitemap or index polled like a feed)';
comment on column feed_overview.last_success_at is 'UTC';
comment on column feed_overview.last_new_article_at is 'UTC; when its newest article was loaded';
