-- Exactly the statements one tombola draw executes on PostgreSQL (a credits
-- award behind a stock node), for `pgbench -M prepared`: the ceiling that
-- tombola's persisted draws/s is compared with. Run by
-- `cargo bench -p tombola-engine --bench persisted`, which creates the schema
-- and the campaign first.
\set uid random(1, 10000)
\set rid random(1, 2000000000)
BEGIN;
INSERT INTO requests (scope, request_id, body_hash, response, created_at) VALUES ('draw/bench', 'pg-' || :client_id || '-' || :rid, 'hash', '', 0) ON CONFLICT (scope, request_id) DO NOTHING;
SELECT state, current_version FROM campaigns WHERE id = 'bench';
INSERT INTO user_counters (campaign_id, user_id) VALUES ('bench', 'u' || :uid) ON CONFLICT (campaign_id, user_id) DO NOTHING;
UPDATE user_counters SET made = made + 1, day_count = CASE WHEN day_key = '2026-03-04' THEN day_count + 1 ELSE 1 END, day_key = '2026-03-04', month_count = CASE WHEN month_key = '2026-03' THEN month_count + 1 ELSE 1 END, month_key = '2026-03' WHERE campaign_id = 'bench' AND user_id = 'u' || :uid AND made < 1000000000 + granted AND (NULL::bigint IS NULL OR made < NULL::bigint) AND (NULL::bigint IS NULL OR day_key <> '2026-03-04' OR day_count < NULL::bigint) AND (NULL::bigint IS NULL OR month_key <> '2026-03' OR month_count < NULL::bigint) RETURNING made, day_count, month_count, granted;
SELECT balance FROM accounts WHERE user_id = 'u' || :uid;
UPDATE award_stock SET remaining = remaining - 1, issued = issued + 1 WHERE campaign_id = 'bench' AND award_id = 'prize' AND remaining > 0;
INSERT INTO accounts (user_id, balance) VALUES ('u' || :uid, 0) ON CONFLICT (user_id) DO NOTHING;
UPDATE accounts SET balance = balance + 100 WHERE user_id = 'u' || :uid AND balance + 100 >= 0;
INSERT INTO ledger_entries (user_id, delta, reason, reference, created_at) VALUES ('u' || :uid, 100, 'award', 'bench/pg-' || :client_id || '-' || :rid, 0);
INSERT INTO draws (campaign_id, request_id, user_id, version, award_id, amount, seed, explanation, created_at) VALUES ('bench', 'pg-' || :client_id || '-' || :rid, 'u' || :uid, 1, 'prize', '1', 0, '[]', 0) ON CONFLICT DO NOTHING;
UPDATE requests SET response = '{}', created_at = 1 WHERE scope = 'draw/bench' AND request_id = 'pg-' || :client_id || '-' || :rid AND body_hash = 'hash';
COMMIT;
