-- Paper broker ledger: one account row, open positions and the deal history, so a restart
-- resumes the same balance and positions. Tickets come from next_ticket and never repeat.

CREATE TABLE paper_account (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    balance      REAL    NOT NULL,
    next_ticket  INTEGER NOT NULL CHECK (next_ticket > 0)
);

CREATE TABLE paper_positions (
    ticket         INTEGER PRIMARY KEY,
    symbol         TEXT    NOT NULL,
    side           TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    volume         REAL    NOT NULL CHECK (volume > 0),
    price_open     REAL    NOT NULL,
    time_ms        INTEGER NOT NULL,
    sl             REAL,
    tp             REAL,
    price_current  REAL    NOT NULL DEFAULT 0,
    profit         REAL    NOT NULL DEFAULT 0,
    swap           REAL    NOT NULL DEFAULT 0,
    magic          INTEGER NOT NULL DEFAULT 0,
    comment        TEXT    NOT NULL DEFAULT '',
    client_id      TEXT    NOT NULL DEFAULT '',
    identifier     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE paper_deals (
    ticket        INTEGER PRIMARY KEY,
    order_ticket  INTEGER NOT NULL,
    position_id   INTEGER NOT NULL,
    symbol        TEXT    NOT NULL,
    side          TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    entry         INTEGER NOT NULL CHECK (entry IN (0, 1, 2, 3)),
    volume        REAL    NOT NULL CHECK (volume > 0),
    price         REAL    NOT NULL,
    time_ms       INTEGER NOT NULL,
    profit        REAL    NOT NULL DEFAULT 0,
    commission    REAL    NOT NULL DEFAULT 0,
    swap          REAL    NOT NULL DEFAULT 0,
    fee           REAL    NOT NULL DEFAULT 0,
    reason        TEXT    NOT NULL,
    magic         INTEGER NOT NULL DEFAULT 0,
    comment       TEXT    NOT NULL DEFAULT '',
    client_id     TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX paper_deals_client ON paper_deals (client_id, ticket) WHERE client_id <> '';
CREATE INDEX paper_deals_time ON paper_deals (time_ms, ticket);
