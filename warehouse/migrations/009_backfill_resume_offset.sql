-- A WARC file is one backfill chunk, read a batch of records at a time: each batch commits with
-- the byte offset of the next record, so a killed backfill resumes inside a large file instead
-- of at its start.

alter table backfill_chunks add column resume_offset bigint;  -- null: from the file's start
