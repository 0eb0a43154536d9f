-- Economic calendar cache: events from every source, the last complete fetch, reminders sent.

CREATE TABLE calendar_events (
    time_ms     INTEGER NOT NULL,
    currency    TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    country     TEXT    NOT NULL DEFAULT '',
    importance  TEXT    NOT NULL CHECK (importance IN ('low', 'medium', 'high')),
    actual      TEXT    NOT NULL DEFAULT '',
    forecast    TEXT    NOT NULL DEFAULT '',
    previous    TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (time_ms, currency, title)
) WITHOUT ROWID;

-- A refresh replaces one source's rows over the span it answered for.
CREATE INDEX calendar_events_by_source ON calendar_events (source, time_ms);

-- One row: the last refresh that read a complete calendar (staleness is measured from it).
CREATE TABLE calendar_fetch (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fetched_ms  INTEGER NOT NULL,
    sources     TEXT    NOT NULL
);

-- Reminders already sent, so a restart never repeats one.
CREATE TABLE calendar_reminders (
    time_ms      INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    reminded_ms  INTEGER NOT NULL,
    PRIMARY KEY (time_ms, currency, title)
) WITHOUT ROWID;
