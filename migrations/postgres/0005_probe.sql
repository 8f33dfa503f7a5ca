-- Where readiness checks that the store can grow again after it was full: a
-- probe writes a row of some pages here, commits, and deletes it.
CREATE TABLE store_probe (
    id   BIGINT PRIMARY KEY,
    data BYTEA NOT NULL
);
