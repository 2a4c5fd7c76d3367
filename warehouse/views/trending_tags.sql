-- Tags gaining attention: articles per tag in the 7 days before `as_of` against the 28 days
-- before those, as of now(). `trending_tags_at(TIMESTAMPTZ)` is the same query for any instant,
-- e.g. `select * from trending_tags_at(timestamptz '2026-11-28 00:00:00+00')`.
-- An article counts at its publication time (first_seen_at when undated); times are UTC.
-- ratio = (recent + 1) / (baseline / 4 + 1): the baseline is scaled to one week, and adding one
-- article to both sides keeps a tag seen once from outranking a steady, busy one.
create or replace macro trending_tags_at(as_of) as table
with tagged as (
    select
        t.name as tag,
        a.article_id,
        a.publisher_id,
        coalesce(a.published_at, a.first_seen_at) as appeared_at
    from article_tags as atg
    join tags as t using (tag_id)
    join articles as a using (article_id)
    where coalesce(a.published_at, a.first_seen_at) >= cast(as_of as timestamptz) - interval 35 day
        and coalesce(a.published_at, a.first_seen_at) < cast(as_of as timestamptz)
),

counts as (
    select
        tag,
        count(distinct article_id) filter (
            where appeared_at >= cast(as_of as timestamptz) - interval 7 day
        ) as recent_articles,
        count(distinct article_id) filter (
            where appeared_at < cast(as_of as timestamptz) - interval 7 day
        ) as baseline_articles,
        count(distinct publisher_id) filter (
            where appeared_at >= cast(as_of as timestamptz) - interval 7 day
        ) as recent_publishers
    from tagged
    group by tag
),

final as (
    select
        tag,
        recent_articles,                                -- articles in [as_of - 7 d, as_of)
        baseline_articles,                              -- articles in [as_of - 35 d, as_of - 7 d)
        round(baseline_articles / 4.0, 2) as baseline_weekly,   -- baseline per 7 days
        round((recent_articles + 1) / (baseline_articles / 4.0 + 1), 3) as ratio,  -- smoothed
        recent_publishers,                              -- publishers in the recent window
        row_number() over (
            order by (recent_articles + 1) / (baseline_articles / 4.0 + 1) desc,
                recent_articles desc, tag
        ) as rank,                                      -- 1 = most trending
        cast(as_of as timestamptz) as as_of             -- UTC; the end of the recent window
    from counts
    where recent_articles > 0
)

select * from final;

create or replace view trending_tags as
select * from trending_tags_at(now());

comment on view trending_tags is
    'Tags in the last 7 days against the 28 days before, as of now(); see trending_tags_at().';
comment on column trending_tags.tag is 'tags.name';
comment on column trending_tags.recent_articles is 'articles with the tag in [as_of - 7 days, as_of)';
comment on column trending_tags.baseline_articles is
    'articles with the tag in [as_of - 35 days, as_of - 7 days)';
comment on column trending_tags.baseline_weekly is 'baseline_articles / 4: the usual articles per 7 days';
comment on column trending_tags.ratio is
    'smoothed ratio (recent_articles + 1) / (baseline_weekly + 1); > 1: more than usual';
comment on column trending_tags.recent_publishers is 'distinct publishers in the recent window';
comment on column trending_tags.rank is '1 = highest ratio (ties: more recent articles, then name)';
comment on column trending_tags.as_of is 'UTC instant the windows end at (now() for this view)';
