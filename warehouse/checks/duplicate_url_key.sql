-- Several articles under one url_key.
-- The articles table's unique key forbids it, so this guards copies of the warehouse
-- (exports, rebuilt or re-imported tables).
-- severity: error
with duplicated as (
    select url_key
    from articles
    group by url_key
    having count(*) > 1
),

final as (
    select a.url_key, a.article_id, a.url, a.canonical_url, a.first_seen_at
    from articles as a
    join duplicated using (url_key)
    order by a.url_key, a.article_id
)

select * from final
