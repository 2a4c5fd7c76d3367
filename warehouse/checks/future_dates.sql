-- Articles published or modified in the future.
-- Later than the instant the checks ran for ($now). Extraction caps dates at the fetch
-- time, so any such row comes from a bug or from a copy loaded without that rule.
-- severity: error
with final as (
    select article_id, url, published_at, modified_at, date_source, first_seen_at
    from articles
    where published_at > $now or modified_at > $now
    order by article_id
)

select * from final
