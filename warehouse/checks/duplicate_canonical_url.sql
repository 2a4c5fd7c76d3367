-- One canonical URL stored under several url_keys.
-- Two addresses of the same page (both naming it as rel=canonical) became two articles,
-- because URL folding did not recognise the variant.
-- severity: warning
with duplicated as (
    select canonical_url
    from articles
    group by canonical_url
    having count(distinct url_key) > 1
),

final as (
    select a.canonical_url, a.article_id, a.url_key, a.url, a.first_seen_at
    from articles as a
    join duplicated using (canonical_url)
    order by a.canonical_url, a.article_id
)

select * from final
