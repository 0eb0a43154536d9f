-- Core trading records: orders (idempotency by client id), closed trades, engine state,
-- audit log and chat users. Times are UTC epoch milliseconds (*_ms).

CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT    NOT NULL UNIQUE,
    symbol      TEXT    NOT NULL,
    side        TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    type        TEXT    NOT NULL CHECK (type IN ('market', 'limit', 'stop')),
    volume      REAL    NOT NULL CHECK (volume > 0),
    sl          REAL,
    tp          REAL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'filled', 'rejected', 'cancelled')),
    ticket      INTEGER,
    price       REAL,
    reject      TEXT,
    message     TEXT    NOT NULL DEFAULT '',
    strategy    TEXT    NOT NULL DEFAULT '',
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER
);

CREATE INDEX orders_pending ON orders (created_ms, id) WHERE status = 'pending';
CREATE INDEX orders_created ON orders (created_ms, id);

CREATE TABLE closed_trades (
    id           INTEGER PRIMARY KEY,
    position_id  INTEGER NOT NULL UNIQUE,
    symbol       TEXT    NOT NULL,
    side         TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    volume       REAL    NOT NULL CHECK (volume > 0),
    price_open   REAL    NOT NULL,
    price_close  REAL    NOT NULL,
    opened_ms    INTEGER NOT NULL,
    closed_ms    INTEGER NOT NULL,
    profit       REAL    NOT NULL,
    commission   REAL    NOT NULL DEFAULT 0,
    swap         REAL    NOT NULL DEFAULT 0,
    sl           REAL,
    tp           REAL,
    reason       TEXT    NOT NULL,
    client_id    TEXT    NOT NULL DEFAULT '',
    strategy     TEXT    NOT NULL DEFAULT '',
    risk_money   REAL
);

CREATE INDEX closed_trades_closed ON closed_trades (closed_ms, id);

-- Paused flag, circuit breaker, daily counters: JSON text per key.
CREATE TABLE engine_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms  INTEGER NOT NULL,
    user_id  INTEGER,
    chat_id  INTEGER,
    action   TEXT    NOT NULL,
    outcome  TEXT    NOT NULL,
    detail   TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_time ON audit_log (time_ms, id);

-- No foreign key on added_by: admins may come from settings without a row here.
CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,
    role        TEXT    NOT NULL CHECK (role IN ('viewer', 'trader', 'admin')),
    locale      TEXT,
    name        TEXT    NOT NULL DEFAULT '',
    added_by    INTEGER,
    created_ms  INTEGER
);

CREATE INDEX users_role ON users (role, user_id);
