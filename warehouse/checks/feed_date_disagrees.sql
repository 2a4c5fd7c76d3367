-- Page date more than two days from the date its feed or sitemap gave.
-- The feed or sitemap that listed the article (entries.published_at) and the page disagree:
-- one of the two is wrong (a page template date, an archive's capture time taken for a date,
-- a feed that stamps fetch times).
-- Only page-sourced dates are compared; when the date came from the feed there is nothing to
-- corroborate.
-- severity: warning
with listed as (
    select url_key, min(published_at) as listed_at, any_value(discovered_via) as listed_via
    from entries
    where published_at is not null
    group by url_key
),

final as (
    select
        a.article_id,
        a.url,
        a.published_at,
        a.date_source,
        l.listed_at,
        l.listed_via
    from articles as a
    inner join listed as l using (url_key)
    where
        a.published_at is not null
        and a.date_source <> 'feed'
        and abs(epoch(a.published_at) - epoch(l.listed_at)) > 2 * 86400
    order by a.article_id
)

select * from final
