-- Chat interface: one-shot confirmations behind dangerous buttons, and per-chat preferences.

-- A Confirm/Cancel card. The nonce travels in the buttons' callback data; claiming it is one
-- UPDATE that only succeeds while used = 0 and the card has not expired, so two presses (or a
-- replayed press) can never both act.
CREATE TABLE confirmations (
    nonce       TEXT    PRIMARY KEY,
    action      TEXT    NOT NULL,
    payload     TEXT    NOT NULL,             -- JSON object, what the card proposes
    user_id     INTEGER NOT NULL,             -- who asked; only they may answer
    chat_id     INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    outcome     TEXT    CHECK (outcome IN ('confirmed', 'cancelled')),
    used_ms     INTEGER,
    CHECK (expires_ms > created_ms)
) WITHOUT ROWID;

CREATE INDEX confirmations_created ON confirmations (created_ms);

-- Per chat: the language notifications are written in, and the notification kinds muted.
CREATE TABLE chat_prefs (
    chat_id  INTEGER PRIMARY KEY,
    locale   TEXT,
    muted    TEXT    NOT NULL DEFAULT '[]'   -- JSON array of notification kinds turned off
);
