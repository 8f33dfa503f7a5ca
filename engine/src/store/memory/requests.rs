//! Request ids and stored answers, in memory.

use super::{MemoryTx, RequestRow, pair};
use crate::store::rows::Claim;
use crate::store::{Requests, StoreError};

impl Requests for MemoryTx {
    async fn claim(
        &mut self,
        scope: &str,
        request_id: &str,
        body_hash: &str,
        first_hash: &str,
    ) -> Result<Claim, StoreError> {
        let key = pair(scope, request_id);
        Ok(match self.state.requests.get(&key) {
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
                self.put(|s| &mut s.requests, key, row);
                Claim::New
            }
        })
    }

    async fn stored_answer(
        &mut self,
        scope: &str,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .state
            .requests
            .get(&pair(scope, request_id))
            .and_then(|row| row.answer.clone()))
    }

    async fn answer(
        &mut self,
        scope: &str,
        request_id: &str,
        body_hash: &str,
        response: &str,
        _at: i64,
    ) -> Result<(), StoreError> {
        let row = RequestRow {
            body_hash: body_hash.to_string(),
            answer: Some(response.to_string()),
        };
        self.put(|s| &mut s.requests, pair(scope, request_id), row);
        Ok(())
    }

    async fn purge_requests(&mut self, _before: i64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
