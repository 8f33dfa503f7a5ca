//! Coupon code pools, in memory.

use super::{CodeKey, Level, MemoryTx};
use crate::store::{Coupons, Stored};

impl Coupons for MemoryTx {
    async fn add_coupon_codes(
        &mut self,
        campaign: &str,
        award: &str,
        codes: &[String],
    ) -> Stored<u64> {
        let mut added = 0;
        for code in codes {
            let key = CodeKey {
                campaign: campaign.to_string(),
                award: award.to_string(),
                code: code.clone(),
            };
            if !self.state.coupon_codes.contains_key(&key) {
                self.state.coupon_codes.insert(key.clone(), None);
                self.on_rollback(move |s| drop(s.coupon_codes.remove(&key)));
                added += 1;
            }
        }
        // The pool's codes are its stock.
        let key = (
            self.state.names.intern(campaign),
            self.state.names.intern(award),
        );
        let mut level = self
            .state
            .award_stock
            .get(&key)
            .copied()
            .unwrap_or(Level::default());
        level.declared += added;
        level.remaining += added;
        self.put(|s| &mut s.award_stock, key, level);
        Ok(added as u64)
    }

    async fn take_coupon_code(
        &mut self,
        campaign: &str,
        award: &str,
        request_id: &str,
        _at: i64,
    ) -> Stored<Option<String>> {
        let Some(key) = self
            .state
            .coupon_codes
            .iter()
            .find(|(k, issued)| k.campaign == campaign && k.award == award && issued.is_none())
            .map(|(k, _)| k.clone())
        else {
            return Ok(None);
        };
        self.state
            .coupon_codes
            .insert(key.clone(), Some(request_id.to_string()));
        let code = key.code.clone();
        self.on_rollback(move |s| drop(s.coupon_codes.insert(key, None)));
        Ok(Some(code))
    }

    async fn issued_code(&mut self, campaign: &str, request_id: &str) -> Stored<Option<String>> {
        Ok(self
            .state
            .coupon_codes
            .iter()
            .find(|(k, issued)| k.campaign == campaign && issued.as_deref() == Some(request_id))
            .map(|(k, _)| k.code.clone()))
    }
}
