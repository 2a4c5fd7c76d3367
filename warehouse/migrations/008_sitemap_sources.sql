-- Sitemaps as live sources, and per-source settings from the sources file.
--
-- A news sitemap (or a sitemap index) is polled like a feed: it is a `feeds` row with its own
-- `feed_state` (conditional GET, backoff, Retry-After), marked by `source_type`. Its URLs become
-- `entries` (guid = the URL) with `discovered_via = 'sitemap'`.

alter table feeds add column source_type varchar default 'feed';   -- feed | sitemap
alter table feeds add column poll_interval_s double;               -- the source's poll floor; null: NEWSDESK_POLL_INTERVAL_S

update feeds set source_type = 'feed' where source_type is null;

alter table entries add column language varchar;                   -- sitemaps: news:language as written

-- Extraction hints for a site the generic extractor gets wrong, used only for its pages
-- (ingest and reextract). Replaced by what the sources file says at every registration.
alter table publishers add column body_selector varchar;           -- CSS selector of the article body
alter table publishers add column prune_selectors varchar[];       -- CSS selectors removed before extraction
