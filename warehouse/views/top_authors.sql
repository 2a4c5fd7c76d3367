-- Who writes the most: people and agencies ranked separately (`kind`), with how many articles
-- and publishers carry their name and when they were first and last seen. Times are UTC.
create or replace view top_authors as
with bylines as (
    select
        au.author_id,
        au.name,
        au.kind,
        a.article_id,
        p.name as publisher,
        coalesce(a.published_at, a.first_seen_at) as appeared_at
    from article_authors as aa
    join authors as au using (author_id)
    join articles as a using (article_id)
    left join publishers as p on p.publisher_id = a.publisher_id
),

per_author as (
    select
        b.author_id,
        any_value(b.name) as author,
        any_value(b.kind) as kind,
        count(distinct b.article_id) as articles,
        count(distinct b.publisher) as publishers,
        list(distinct b.publisher order by b.publisher) as publisher_names,
        min(b.appeared_at) as first_seen,
        max(b.appeared_at) as last_seen
    from bylines as b
    group by b.author_id
),

final as (
    select
        kind,                                           -- person | agency
        row_number() over (
            partition by kind order by articles desc, publishers desc, author
        ) as rank,                                      -- 1 = most articles within its kind
        author,
        articles,                                       -- articles with this byline
        publishers,                                     -- distinct publishers among them
        publisher_names,
        first_seen,                                     -- UTC; earliest publication (or load)
        last_seen,                                      -- UTC; latest publication (or load)
        author_id
    from per_author
)

select * from final;

comment on view top_authors is
    'People and agencies (ranked separately by kind): articles, publishers, first and last seen.';
comment on column top_authors.kind is 'person | agency (Reuters, AFP, dpa… are kept apart)';
comment on column top_authors.rank is 'rank within kind by articles, then publishers, then name';
comment on column top_authors.author is 'authors.name';
comment on column top_authors.articles is 'number of articles carrying this byline';
comment on column top_authors.publishers is 'number of distinct publishers among those articles';
comment on column top_authors.publisher_names is 'those publishers, sorted by name';
comment on column top_authors.first_seen is
    'UTC; earliest published_at of those articles (first_seen_at when undated)';
comment on column top_authors.last_seen is
    'UTC; latest published_at of those articles (first_seen_at when undated)';
comment on column top_authors.author_id is 'authors.author_id';
