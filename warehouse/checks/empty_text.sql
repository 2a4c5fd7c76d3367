-- Articles without text.
-- Only whitespace, or a word count of zero: pages without an article should have been
-- dropped (fetches.drop_reason), not loaded.
-- severity: error
with final as (
    select article_id, url, title, word_count, length(text) as text_length
    from articles
    where regexp_matches(text, '^\s*$') or word_count = 0
    order by article_id
)

select * from final
