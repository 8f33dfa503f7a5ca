-- A campaign-wide allowance now reads granted_used too (the draws that used
-- no grant are the free ones used), so a campaign can move between a daily
-- and a campaign-wide allowance without its users losing grants. Rows from
-- before 0007 hold 0 there whatever grants their users used: the engine
-- settles each campaign listed here once, when it opens, from the campaign's
-- allowance, and takes it off the list.
CREATE TABLE counts_to_settle (campaign_id TEXT PRIMARY KEY);
INSERT INTO counts_to_settle (campaign_id) SELECT id FROM campaigns;
