-- Articles without a known publisher.
-- Every article comes from a configured publisher's feed, so its publisher_id must name a
-- row of publishers.
-- severity: error
with final as (
    select a.article_id, a.url, a.publisher_id, a.feed_id
    from articles as a
    left join publishers as p using (publisher_id)
    where p.publisher_id is null
    order by a.article_id
)

select * from final
