-- Granted draws a user has used: a daily allowance's free draws come back each
-- day, so the draws past them are counted apart from the total. Rows from
-- before start at 0, which a campaign-wide allowance does not read.
ALTER TABLE user_counters ADD COLUMN granted_used BIGINT NOT NULL DEFAULT 0 CHECK (granted_used >= 0);
