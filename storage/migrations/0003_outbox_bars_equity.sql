-- Notification outbox, the bars cache with where each series came from, equity snapshots.

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id          INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    photo            BLOB,
    dedup_key        TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ms  INTEGER NOT NULL,
    created_ms       INTEGER NOT NULL,
    sent_ms          INTEGER,
    dead             INTEGER NOT NULL DEFAULT 0 CHECK (dead IN (0, 1)),
    last_error       TEXT    NOT NULL DEFAULT '',
    -- NULL keys are distinct in SQLite, so only messages that carry a key are deduplicated.
    UNIQUE (chat_id, dedup_key)
);

CREATE INDEX outbox_waiting ON outbox (next_attempt_ms) WHERE sent_ms IS NULL AND dead = 0;

CREATE TABLE bar_sources (
    symbol     TEXT    NOT NULL,
    timeframe  TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    simulated  INTEGER NOT NULL CHECK (simulated IN (0, 1)),
    note       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (symbol, timeframe)
) WITHOUT ROWID;

CREATE TABLE bars (
    symbol     TEXT    NOT NULL,
    timeframe  TEXT    NOT NULL,
    time_ms    INTEGER NOT NULL,
    open       REAL    NOT NULL,
    high       REAL    NOT NULL,
    low        REAL    NOT NULL,
    close      REAL    NOT NULL,
    volume     REAL    NOT NULL,
    spread     INTEGER NOT NULL,
    PRIMARY KEY (symbol, timeframe, time_ms),
    FOREIGN KEY (symbol, timeframe) REFERENCES bar_sources (symbol, timeframe) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE equity_snapshots (
    time_ms  INTEGER PRIMARY KEY,
    balance  REAL    NOT NULL,
    equity   REAL    NOT NULL,
    margin   REAL    NOT NULL DEFAULT 0
);
