-- Exactly the statements one tombola draw executes on PostgreSQL (a credits
-- award behind a stock node), for `pgbench -M prepared`: the ceiling that
-- tombola's persisted draws/s is compared with. Run by
-- `cargo bench -p tombola-engine --bench persisted`, which creates the schema
-- and the campaign first. The balance is not read: the campaign's expressions
-- do not read `user.credits`.
\set uid random(1, 10000)
\set rid random(1, 2000000000)
BEGIN;
INSERT INTO requests (scope, request_id, body_hash, response, created_at) VALUES ('draw/bench', 'pg-' || :client_id || '-' || :rid, 'hash', '', 0) ON CONFLICT (scope, request_id) DO NOTHING;
SELECT state, current_version FROM campaigns WHERE id = 'bench';
INSERT INTO user_counters (campaign_id, user_id, made, day_key, day_count, month_key, month_count) VALUES ('bench', 'u' || :uid, 1, '2026-03-04', 1, '2026-03', 1) ON CONFLICT (campaign_id, user_id) DO UPDATE SET made = user_counters.made + 1, day_count = CASE WHEN user_counters.day_key = '2026-03-04' THEN user_counters.day_count + 1 ELSE 1 END, day_key = '2026-03-04', month_count = CASE WHEN user_counters.month_key = '2026-03' THEN user_counters.month_count + 1 ELSE 1 END, month_key = '2026-03', granted_used = user_counters.granted_used + CASE WHEN NULL::bigint IS NULL THEN CASE WHEN user_counters.made - user_counters.granted_used >= 1000000000 THEN 1 ELSE 0 END WHEN user_counters.day_key = '2026-03-04' AND user_counters.day_count >= NULL::bigint THEN 1 ELSE 0 END WHERE (CASE WHEN NULL::bigint IS NULL THEN user_counters.made - user_counters.granted_used < 1000000000 ELSE user_counters.day_key <> '2026-03-04' OR user_counters.day_count < NULL::bigint END OR user_counters.granted_used < user_counters.granted) AND (NULL::bigint IS NULL OR user_counters.made < NULL::bigint) AND (NULL::bigint IS NULL OR user_counters.day_key <> '2026-03-04' OR user_counters.day_count < NULL::bigint) AND (NULL::bigint IS NULL OR user_counters.month_key <> '2026-03' OR user_counters.month_count < NULL::bigint) RETURNING made, day_count, month_count, granted, granted_used;
UPDATE award_stock_slices SET remaining = remaining - 1, issued = issued + 1 WHERE campaign_id = 'bench' AND award_id = 'prize' AND remaining > 0 AND slice = (SELECT slice FROM award_stock_slices WHERE campaign_id = 'bench' AND award_id = 'prize' AND remaining > 0 ORDER BY (slice + :rid) % 32 LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING slice;
INSERT INTO accounts (user_id, balance) SELECT 'u' || :uid, 100 WHERE 100 BETWEEN 0 AND 100000000000000 OR EXISTS (SELECT 1 FROM accounts WHERE user_id = 'u' || :uid) ON CONFLICT (user_id) DO UPDATE SET balance = accounts.balance + 100 WHERE accounts.balance + 100 BETWEEN 0 AND 100000000000000;
INSERT INTO ledger_entries (user_id, delta, reason, reference, created_at) VALUES ('u' || :uid, 100, 'award', 'bench/pg-' || :client_id || '-' || :rid, 0);
INSERT INTO draws (campaign_id, request_id, user_id, version, award_id, amount, seed, explanation, created_at) VALUES ('bench', 'pg-' || :client_id || '-' || :rid, 'u' || :uid, 1, 'prize', '1', 0, '[]', 0) ON CONFLICT DO NOTHING;
UPDATE requests SET response = '{}', created_at = 1 WHERE scope = 'draw/bench' AND request_id = 'pg-' || :client_id || '-' || :rid AND body_hash = 'hash';
COMMIT;
