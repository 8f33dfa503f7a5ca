-- API keys for the app endpoints. Only each key's SHA-256 is kept: the key is
-- shown once, at creation, and every server sharing the database accepts it.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- The campaign-zone day of each draw, for the per-day statistics.
ALTER TABLE draws ADD COLUMN day_key TEXT NOT NULL DEFAULT '';
