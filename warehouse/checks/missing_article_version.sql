-- Articles whose current version was not kept.
-- Every version's text is kept in article_versions, the current one included.
-- severity: error
with final as (
    select a.article_id, a.url, a.version
    from articles as a
    anti join article_versions as v
        on v.article_id = a.article_id and v.version = a.version
    order by a.article_id
)

select * from final
