-- The dispatcher's bookkeeping: a task is pending, sending (leased until
-- next_at, so a crashed dispatcher's tasks come back), delivered or dead.
ALTER TABLE delivery_tasks ADD COLUMN last_error TEXT;
ALTER TABLE delivery_tasks ADD COLUMN delivered_at INTEGER;
CREATE INDEX delivery_tasks_due ON delivery_tasks (state, next_at);

-- Admin actions: who, what, when.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT NOT NULL
);

-- Coupon codes uploaded for a coupon award; each is issued to one request.
CREATE TABLE coupon_codes (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    award_id    TEXT NOT NULL,
    code        TEXT NOT NULL,
    request_id  TEXT,
    issued_at   INTEGER,
    PRIMARY KEY (campaign_id, award_id, code)
);
CREATE INDEX coupon_codes_free ON coupon_codes (campaign_id, award_id, request_id);
