-- Where a cancel came from is stored with it, written when the cancel is
-- made (canceldesk.CancelSource): staff, bulk, customer_request or
-- auto_approved; an order imported cancelled has no cancellation row and
-- counts as import. The analytics rollups and the export read it.
ALTER TABLE cancellations ADD COLUMN source TEXT NOT NULL DEFAULT 'staff'
    CHECK (source IN ('staff', 'bulk', 'customer_request', 'auto_approved'));

-- Existing cancellations get the source the rollups gave them until now:
-- the rule (actor 'rule' or a 'request:' key) auto_approved, a staff
-- approval of a customer's request (an 'approval:' key) customer_request,
-- anything else staff (bulk cancels were not told apart).
UPDATE cancellations SET source = CASE
    WHEN actor = 'rule' OR substr(idempotency_key, 1, 8) = 'request:' THEN 'auto_approved'
    WHEN substr(idempotency_key, 1, 9) = 'approval:' THEN 'customer_request'
    ELSE 'staff' END;
