-- An article's image, link or removed span stored twice under one key.
-- The key: an image's or a removed span's position, a link's url and kind. These tables carry
-- no primary key (migration 012: it halved the load); warehouse.load writes each article's
-- rows as one deduplicated set.
-- severity: error
with duplicated as (
    select 'images' as child_table, article_id, position::varchar as child_key, count(*) as copies
    from images
    group by article_id, position
    having count(*) > 1
    union all
    select 'links', article_id, kind || ' ' || url, count(*)
    from links
    group by article_id, url, kind
    having count(*) > 1
    union all
    select 'removed_spans', article_id, position::varchar, count(*)
    from removed_spans
    group by article_id, position
    having count(*) > 1
),

final as (
    select child_table, article_id, child_key, copies
    from duplicated
    order by child_table, article_id, child_key
)

select * from final
