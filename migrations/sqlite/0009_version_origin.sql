-- Each version says where it came from: `folder` (the watched campaigns
-- folder, with the file's path), `console` or `api`, and carries the note
-- given at deploy. A campaign belongs to where it was deployed from: since
-- deploys from the other side are refused, its versions all come from one.
--
-- Before this, the store did not say. An API deploy wrote the audit log
-- ("deploy", the campaign, "version N") and a folder deploy did not, so a
-- version the log names is `api` and any other `folder`. When in doubt,
-- `folder` is the safe guess: a folder campaign taken for an API one would
-- stop its file deploying, silently; an API campaign taken for a folder one
-- is refused by the API with a 409 that names why. Their paths are unknown
-- (NULL) until the folder deploys the file again.
ALTER TABLE campaign_versions ADD COLUMN origin TEXT NOT NULL DEFAULT 'folder'
    CHECK (origin IN ('folder', 'console', 'api'));
ALTER TABLE campaign_versions ADD COLUMN path TEXT;
ALTER TABLE campaign_versions ADD COLUMN note TEXT;
UPDATE campaign_versions SET origin = 'api'
WHERE EXISTS (
    SELECT 1 FROM audit_log a
    WHERE a.action = 'deploy'
      AND a.target = campaign_versions.campaign_id
      AND a.detail = 'version ' || campaign_versions.version
);
