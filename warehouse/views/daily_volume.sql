-- Articles and words per publisher, language and UTC day. An article counts on the UTC day of
-- its publication date, or of the day newsdesk first loaded it when the page gave no date
-- (`undated_articles` says how many did). Current versions only: an edit does not count twice.
create or replace view daily_volume as
with dated as (
    select
        a.article_id,
        a.publisher_id,
        a.language,
        a.word_count,
        a.published_at is null as undated,
        cast(timezone('UTC', coalesce(a.published_at, a.first_seen_at)) as date) as day
    from articles as a
),

final as (
    select
        d.day,                                          -- UTC calendar day
        p.name as publisher,
        d.language,                                     -- ISO 639-1; null when undetected
        count(*) as articles,                           -- articles
        coalesce(sum(d.word_count), 0) as words,        -- words of clean text
        count(*) filter (where d.undated) as undated_articles,  -- counted on first_seen_at's day
        d.publisher_id
    from dated as d
    left join publishers as p on p.publisher_id = d.publisher_id
    group by d.day, p.name, d.language, d.publisher_id
)

select * from final;

comment on view daily_volume is
    'Articles and words per publisher, language and UTC day (publication day, else first-seen day).';
comment on column daily_volume.day is 'UTC calendar day of published_at (first_seen_at when undated)';
comment on column daily_volume.publisher is 'publishers.name';
comment on column daily_volume.language is 'ISO 639-1 code; null when undetected';
comment on column daily_volume.articles is 'number of articles (current versions)';
comment on column daily_volume.words is 'sum of articles.word_count (words of clean text)';
comment on column daily_volume.undated_articles is
    'articles without published_at, counted on the UTC day they were first seen';
comment on column daily_volume.publisher_id is 'publishers.publisher_id';
