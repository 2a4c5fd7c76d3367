-- Photo credits left in article text.
-- "© dpa", "Foto: …", "STR/AFP via Getty Images": extraction moves captions and credits
-- to images, so a line still holding one leaked through. Patterns are case-sensitive
-- substrings; one row per article, with its first offending line.
-- severity: warning
with patterns (pattern) as (
    values
        ('© '), ('(c) '), ('Foto: '), ('Fotos: '), ('Photo: '), ('Photos: '), ('PHOTO: '),
        ('Photograph: '), ('Image: '), ('Bild: '), ('Credit: '), ('Crédit : '), ('Crédit: '),
        ('Crédito: '), ('Fotografía: '), ('Zdjęcie: '), ('Фото: '), ('via Getty Images'),
        ('/ Getty Images'), ('picture alliance / '), ('IMAGO / ')
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
