-- A notification whose chart is still being drawn is stored at once but held: it is not sent,
-- and later messages to the same chat wait behind it, so a chat reads events in their order.
-- Drawing the chart then attaches it and lifts the hold (or lifts it alone if drawing failed).
ALTER TABLE outbox ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));

CREATE INDEX outbox_held ON outbox (chat_id, created_ms) WHERE held = 1;
