-- Articles outside every story cluster.
-- Each article belongs to a cluster (a singleton at least) once its batch is loaded, so a
-- missing or unknown cluster_id means deduplication did not run or its tables disagree.
-- severity: error
with final as (
    select a.article_id, a.url, a.cluster_id, a.first_seen_at
    from articles as a
    left join clusters as c using (cluster_id)
    where c.cluster_id is null
    order by a.article_id
)

select * from final
