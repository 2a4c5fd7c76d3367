-- Read-more and related-article labels left in article text.
-- "Read more", "Lesen Sie auch", "À lire aussi", …: their links belong in links
-- (kind = 'related'), not in the text. Patterns are case-sensitive substrings; one row per
-- article, with its first offending line.
-- severity: warning
with patterns (pattern) as (
    values
        ('Read more'), ('READ MORE'), ('Read also'), ('READ ALSO'), ('Also read'),
        ('Related articles'), ('Related stories'), ('Lesen Sie auch'), ('Lesen Sie mehr'),
        ('LESEN SIE AUCH'), ('Mehr zum Thema'), ('À lire aussi'), ('A lire aussi'),
        ('Lire aussi'), ('Lee también'), ('Leer más'), ('Leggi anche'), ('Leia também'),
        ('Leia mais'), ('Lees ook'), ('Czytaj też'), ('Czytaj także'), ('Czytaj więcej'),
        ('Читайте также'), ('Ayrıca okuyun'), ('Les også'), ('Läs också'), ('Läs även'),
        ('あわせて読みたい'), ('関連記事')
),

lines as (
    select a.article_id, a.url, unnest(string_split(a.text, chr(10))) as line
    from articles as a
),

hits as (
    select l.article_id, l.url, l.line, p.pattern
    from lines as l
    join patterns as p on contains(l.line, p.pattern)
),

final as (
    select
        article_id,
        any_value(url) as url,
        list_sort(list_distinct(list(pattern))) as patterns,
        min(line) as first_line
    from hits
    group by article_id
    order by article_id
)

select * from final
