-- Stories carried by more than one article: which publishers, when it first appeared, and how
-- long it took to spread (last minus first publication). Times are UTC.
create or replace view syndication as
with members as (
    select
        a.cluster_id,
        a.article_id,
        a.title,
        coalesce(a.published_at, a.first_seen_at) as appeared_at,
        p.name as publisher
    from articles as a
    left join publishers as p using (publisher_id)
    where a.cluster_id is not null
),

final as (
    select
        m.cluster_id,
        any_value(m.title order by m.appeared_at, m.article_id) as first_title,
        count(*) as articles,
        count(distinct m.publisher) as publishers,
        list(distinct m.publisher order by m.publisher) as publisher_names,
        min(m.appeared_at) as first_seen,                       -- UTC
        max(m.appeared_at) as last_seen,                        -- UTC
        max(m.appeared_at) - min(m.appeared_at) as spread_time
    from members as m
    group by m.cluster_id
    having count(*) > 1
)

select * from final
;

comment on view syndication is
    'Stories carried by more than one article: who printed them and how fast they spread.';
comment on column syndication.first_seen is 'earliest publication (else first-seen) time, UTC';
comment on column syndication.last_seen is 'latest publication (else first-seen) time, UTC';
comment on column syndication.spread_time is 'last_seen minus first_seen (an interval)';
comment on column syndication.articles is 'articles in the story';
comment on column syndication.publishers is 'distinct publishers carrying it';
