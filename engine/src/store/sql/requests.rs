//! Request ids and stored answers, in SQL: a unique key per (scope, id).

use super::{Arg, SqlTx};
use crate::store::rows::{Claim, RequestKey};
use crate::store::{Requests, StoreError, Stored};

impl Requests for SqlTx {
    async fn claim(&mut self, key: &RequestKey<'_>) -> Stored<Claim> {
        let (scope, request_id, body_hash, first_hash) =
            (key.scope, key.id, key.body_hash, key.first_hash);
        // The unique key does the work: a concurrent duplicate blocks here until
        // the first commits, then finds its row and replays it.
        let inserted = self
            .execute(
                "INSERT INTO requests (scope, request_id, body_hash, response, created_at) VALUES ($1, $2, $3, '', 0) \
                 ON CONFLICT (scope, request_id) DO NOTHING",
                &[Arg::Text(scope), Arg::Text(request_id), Arg::Text(body_hash)],
            )
            .await?;
        if inserted == 1 {
            return Ok(Claim::New);
        }
        let (hash, response): (String, String) = self
            .fetch_optional(
                "SELECT body_hash, response FROM requests WHERE scope = $1 AND request_id = $2",
                &[Arg::Text(scope), Arg::Text(request_id)],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("a claimed request vanished".into()))?;
        Ok(if hash != body_hash && hash != first_hash {
            Claim::Conflict
        } else {
            Claim::Replay(response)
        })
    }

    async fn stored_answer(&mut self, scope: &str, request_id: &str) -> Stored<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional(
                "SELECT response FROM requests WHERE scope = $1 AND request_id = $2 AND response <> ''",
                &[Arg::Text(scope), Arg::Text(request_id)],
            )
            .await?;
        Ok(row.map(|(response,)| response))
    }

    async fn answer(&mut self, key: &RequestKey<'_>, response: &str) -> Stored<()> {
        let (scope, request_id, body_hash, at) = (key.scope, key.id, key.body_hash, key.at);
        self.execute(
            "UPDATE requests SET response = $4, created_at = $5 WHERE scope = $1 AND request_id = $2 AND body_hash = $3",
            &[Arg::Text(scope), Arg::Text(request_id), Arg::Text(body_hash), Arg::Text(response), Arg::Int(at)],
        )
        .await?;
        Ok(())
    }

    async fn purge_requests(&mut self, before: i64) -> Stored<u64> {
        self.execute(
            "DELETE FROM requests WHERE created_at < $1",
            &[Arg::Int(before)],
        )
        .await
    }
}
