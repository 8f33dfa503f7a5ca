-- Behaviour events as they arrive, with their campaign-zone day, ISO week and
-- month, so "did this user sign in today?" is one indexed lookup.
CREATE TABLE events (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    request_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    event       TEXT NOT NULL,
    day_key     TEXT NOT NULL,
    week_key    TEXT NOT NULL,
    month_key   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, request_id)
);
CREATE INDEX events_by_user ON events (campaign_id, user_id, event, day_key);

-- A rebate flow's "once per period": the primary key admits one claim per
-- user and period, however many servers race for it.
CREATE TABLE rebate_claims (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    rebate_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    period_key  TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, rebate_id, user_id, period_key)
);
