-- An award's stock, in slices: what is left and what went out are spread over
-- several rows, so concurrent draws of one popular award each lock a row of
-- their own instead of queueing on one (PostgreSQL keeps up to 32 slices an
-- award; SQLite, with its one writer, one). award_stock keeps the declaration.
CREATE TABLE award_stock_slices (
    campaign_id TEXT NOT NULL,
    award_id    TEXT NOT NULL,
    slice       BIGINT NOT NULL,
    remaining   BIGINT NOT NULL CHECK (remaining >= 0),
    issued      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, award_id, slice),
    FOREIGN KEY (campaign_id, award_id) REFERENCES award_stock (campaign_id, award_id)
);

-- A store from before has its stock spread now, over one slice per unit left
-- up to 32 (POSTGRES_SLICES in engine/src/store/sql/stock.rs); what was issued
-- stays counted on the first.
INSERT INTO award_stock_slices (campaign_id, award_id, slice, remaining, issued)
    SELECT s.campaign_id, s.award_id, g.slice,
           s.remaining / n.count + CASE WHEN g.slice < s.remaining % n.count THEN 1 ELSE 0 END,
           CASE WHEN g.slice = 0 THEN s.issued ELSE 0 END
    FROM award_stock s
    CROSS JOIN LATERAL (SELECT LEAST(32, GREATEST(1, s.remaining)) AS count) n
    CROSS JOIN LATERAL generate_series(0, n.count - 1) AS g (slice);

ALTER TABLE award_stock DROP COLUMN remaining;
ALTER TABLE award_stock DROP COLUMN issued;
