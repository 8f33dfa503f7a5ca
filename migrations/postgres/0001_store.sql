-- The store's tables. Money-like values are integers: credits in hundredths.
-- Timestamps are Unix microseconds (UTC); day and month keys are the
-- campaign-zone calendar day (YYYY-MM-DD) and month (YYYY-MM).

CREATE TABLE campaigns (
    id              TEXT PRIMARY KEY,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'open', 'closed')),
    current_version BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE campaign_versions (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    version     BIGINT NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    deployed_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, version)
);

-- Stock is keyed by award and SKU id, so a redeploy keeps what was issued.
CREATE TABLE award_stock (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    award_id    TEXT NOT NULL,
    declared    BIGINT NOT NULL,
    remaining   BIGINT NOT NULL CHECK (remaining >= 0),
    issued      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, award_id)
);

CREATE TABLE sku_stock (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    sku_id      TEXT NOT NULL,
    declared    BIGINT NOT NULL,
    remaining   BIGINT NOT NULL CHECK (remaining >= 0),
    sold        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, sku_id)
);

-- One row per user and campaign: draws made, draws granted, and the day and
-- month counters, all updated in the draw's own transaction.
CREATE TABLE user_counters (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    user_id     TEXT NOT NULL,
    made        BIGINT NOT NULL DEFAULT 0 CHECK (made >= 0),
    granted     BIGINT NOT NULL DEFAULT 0 CHECK (granted >= 0),
    day_key     TEXT NOT NULL DEFAULT '',
    day_count   BIGINT NOT NULL DEFAULT 0,
    month_key   TEXT NOT NULL DEFAULT '',
    month_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, user_id)
);

-- Every mutating call, by request id: the unique key makes a concurrent
-- duplicate wait for the first and then replay its answer.
CREATE TABLE requests (
    scope      TEXT NOT NULL,
    request_id TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    response   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, request_id)
);

CREATE TABLE draws (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    request_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    award_id    TEXT NOT NULL,
    amount      TEXT,
    seed        BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, request_id)
);
CREATE INDEX draws_by_user ON draws (campaign_id, user_id, created_at);

CREATE TABLE orders (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    request_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    sku_id      TEXT NOT NULL,
    draws       BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, request_id)
);

-- One account per user (the primary key); the balance never goes negative.
CREATE TABLE accounts (
    user_id TEXT PRIMARY KEY,
    balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0)
);

CREATE TABLE ledger_entries (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES accounts (user_id),
    delta      BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    reference  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_by_user ON ledger_entries (user_id, id);

-- The outbox: external awards wait here for the dispatcher.
CREATE TABLE delivery_tasks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    award_id    TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (campaign_id, request_id)
);
