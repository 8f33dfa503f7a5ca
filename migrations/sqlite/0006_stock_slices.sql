-- An award's stock, in slices: what is left and what went out are spread over
-- several rows, so concurrent draws of one popular award each lock a row of
-- their own instead of queueing on one (PostgreSQL keeps up to 32 slices an
-- award; SQLite, with its one writer, one). award_stock keeps the declaration.
CREATE TABLE award_stock_slices (
    campaign_id TEXT NOT NULL,
    award_id    TEXT NOT NULL,
    slice       INTEGER NOT NULL,
    remaining   INTEGER NOT NULL CHECK (remaining >= 0),
    issued      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, award_id, slice),
    FOREIGN KEY (campaign_id, award_id) REFERENCES award_stock (campaign_id, award_id)
);

-- A store from before keeps its stock as the one slice SQLite needs.
INSERT INTO award_stock_slices (campaign_id, award_id, slice, remaining, issued)
    SELECT campaign_id, award_id, 0, remaining, issued FROM award_stock;

ALTER TABLE award_stock DROP COLUMN remaining;
ALTER TABLE award_stock DROP COLUMN issued;
