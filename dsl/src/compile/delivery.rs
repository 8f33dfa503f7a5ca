//! Webhook delivery: a real URL, and the secret's variable name, never the secret.

use super::Findings;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Delivery, Sp};
use tombola_ir as ir;

pub(super) fn check(
    delivery: Option<&Sp<Delivery>>,
    out: &mut Findings<'_>,
) -> Option<ir::Delivery> {
    let delivery = &delivery?.value;
    let url = delivery.webhook.value.trim();
    let valid_url = ["https://", "http://"].iter().any(|scheme| {
        url.strip_prefix(scheme).is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        })
    });
    if !valid_url {
        out.push(
            Diagnostic::new(
                Code::BadWebhook,
                delivery.webhook.span,
                format!("`{url}` is not an http(s) URL"),
            )
            .label("not a URL")
            .help("write the receiver's full address, e.g. `https://rewards.example.com/hook`"),
        );
    }
    let env = &delivery.secret_env;
    if !is_env_name(&env.value) {
        out.push(
            Diagnostic::new(Code::SecretInFile, env.span, "`secret_env` holds something that is not an environment variable name — is it the secret itself?")
                .label("expected a name like WEBHOOK_SECRET")
                .help("never write the secret in the file: store it in an environment variable and put that variable's NAME here (uppercase letters, digits, `_`); if this was a real secret, rotate it"),
        );
    }
    Some(ir::Delivery {
        webhook: url.to_string(),
        secret_env: env.value.clone(),
    })
}

/// Whether `name` looks like an environment variable's name (a secret rarely does).
fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}
