-- Several articles under one url_key.
-- The articles table has no unique key (an index DuckDB rewrites at every checkpoint):
-- warehouse.load keeps url_key unique, and this check looks.
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
