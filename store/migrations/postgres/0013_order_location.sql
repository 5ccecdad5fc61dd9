-- The stock location an order was sold from, as the shop's export names it
-- (its Location column); NULL when the order names none. Imports create the
-- location; renaming one on Settings keeps its id, so orders and the stock
-- ledger follow.
ALTER TABLE orders ADD COLUMN location_id BIGINT REFERENCES locations (id);
