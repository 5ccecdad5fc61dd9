-- Timeline entries are stored as data (see canceldesk.EventData), as JSON,
-- and rendered in the reader's language. The English message stays only
-- on older rows, shown as it was written.
ALTER TABLE events ADD COLUMN data TEXT NOT NULL DEFAULT '';

-- Re-create entries written before link by data: the other order's name,
-- read from "Re-created as #1001-R1 (order 42)" / "Re-created from #1001
-- (order 7)"; the English goes.
UPDATE events SET data = json_object('order', substr(message, 15, instr(message, ' (order ') - 15)), message = ''
WHERE kind = 'recreated' AND message LIKE 'Re-created as % (order %)' AND instr(message, ' (order ') > 15;
UPDATE events SET data = json_object('order', substr(message, 17, instr(message, ' (order ') - 17)), message = ''
WHERE kind = 'recreated_from' AND message LIKE 'Re-created from % (order %)' AND instr(message, ' (order ') > 17;
