-- Each customer message remembers the template it was written from, as
-- its key ("order_cancelled.inventory": the variant's own, else the
-- kind's), so the Messages list says which was used. Messages written
-- before keep '' and are named by their kind.
ALTER TABLE outbox ADD COLUMN template TEXT NOT NULL DEFAULT '';
