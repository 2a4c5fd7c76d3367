-- What extraction removes from the text is kept as data, and raw pages are kept for re-extraction.

alter table articles add column language_source varchar;   -- html_lang | extractor
alter table articles add column html_lang varchar;          -- the page's <html lang>, as written

create table images (
    article_id bigint not null,                 -- articles.article_id
    position integer not null,                  -- order on the page, from 0
    url varchar,
    caption varchar,                            -- caption text without its credit
    credit varchar,                             -- "© Agency / Photographer", "Foto: dpa"
    alt varchar,
    primary key (article_id, position)
);

create table links (
    article_id bigint not null,
    url varchar not null,
    anchor_text varchar,
    kind varchar not null,                      -- related (read-more / related boxes) | inline
    primary key (article_id, url, kind)
);

create table removed_spans (
    article_id bigint not null,
    position integer not null,                  -- order of removal
    rule varchar not null,                      -- see README "Removal rules"
    text varchar not null,
    primary key (article_id, position)
);

-- Raw page bodies (zlib-compressed), so `newsdesk reextract` can run the extractor again
-- without fetching.
create table raw_pages (
    fetch_id bigint primary key,                -- fetches.fetch_id
    url varchar not null,
    content_type varchar,
    fetched_at timestamptz not null,
    encoding varchar not null,                  -- zlib
    body blob not null
);
