//! Request ids and stored answers, in memory.

use super::{MemoryTx, RequestRow, pair};
use crate::store::rows::{Claim, RequestKey};
use crate::store::{Requests, Stored};

impl Requests for MemoryTx {
    async fn claim(&mut self, key: &RequestKey<'_>) -> Stored<Claim> {
        let (scope, request_id, body_hash, first_hash) =
            (key.scope, key.id, key.body_hash, key.first_hash);
        let pair = pair(scope, request_id);
        Ok(match self.state.requests.get(&pair) {
            Some(row) if row.body_hash != body_hash && row.body_hash != first_hash => {
                Claim::Conflict
            }
            Some(RequestRow {
                answer: Some(answer),
                ..
            }) => Claim::Replay(answer.clone()),
            // Claimed but unanswered can only be this transaction's own claim.
            Some(_) => Claim::New,
            None => {
                let row = RequestRow {
                    body_hash: body_hash.to_string(),
                    answer: None,
                };
                self.put(|s| &mut s.requests, pair, row);
                Claim::New
            }
        })
    }

    async fn stored_answer(&mut self, scope: &str, request_id: &str) -> Stored<Option<String>> {
        Ok(self
            .state
            .requests
            .get(&pair(scope, request_id))
            .and_then(|row| row.answer.clone()))
    }

    async fn answer(&mut self, key: &RequestKey<'_>, response: &str) -> Stored<()> {
        let (scope, request_id, body_hash) = (key.scope, key.id, key.body_hash);
        let row = RequestRow {
            body_hash: body_hash.to_string(),
            answer: Some(response.to_string()),
        };
        self.put(|s| &mut s.requests, pair(scope, request_id), row);
        Ok(())
    }

    async fn purge_requests(&mut self, _before: i64) -> Stored<u64> {
        Ok(0)
    }
}
