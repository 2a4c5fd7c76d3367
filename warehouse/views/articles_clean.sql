-- One row per story: the cluster's representative (its earliest article) with how many copies
-- other outlets printed. Times are UTC.
create or replace view articles_clean as
with representatives as (
    select a.*
    from articles as a
    where a.cluster_id = a.article_id or a.cluster_id is null
),

final as (
    select
        r.article_id,
        r.cluster_id,
        r.title,
        r.text,
        r.language,
        r.published_at,                     -- UTC
        r.first_seen_at,                    -- UTC, when newsdesk first loaded it
        r.canonical_url,
        r.word_count,
        p.name as publisher,
        coalesce(c.size, 1) as copies_total,        -- articles in the story, this one included
        coalesce(c.size, 1) - 1 as copies,          -- other articles carrying the story
        coalesce(c.publishers, 1) as publishers
    from representatives as r
    left join clusters as c on c.cluster_id = r.cluster_id
    left join publishers as p on p.publisher_id = r.publisher_id
)

select * from final
;

comment on view articles_clean is
    'One row per story: the earliest article of each cluster, with how many copies exist.';
comment on column articles_clean.published_at is 'publication time, UTC';
comment on column articles_clean.first_seen_at is 'when newsdesk first loaded the article, UTC';
comment on column articles_clean.word_count is 'words of clean text';
comment on column articles_clean.copies_total is 'articles in the story, this one included';
comment on column articles_clean.copies is 'other articles carrying the story';
comment on column articles_clean.publishers is 'distinct publishers carrying the story';
