//! Credentials: the admin token for admin calls, API keys for app calls, both
//! as `Authorization: Bearer …`; a missing one is 401, a wrong one 403.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::{ApiError, AppState};

/// How long a verified key is trusted without asking the database again. A key
/// revoked on another server stops working within this; on this server, at once.
const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// Verified keys by SHA-256: (key id, when verified); and a generation that
/// each revocation bumps, so a verification that raced a revocation is not cached.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyCache(Arc<Mutex<(Verified, u64)>>);

/// Key id and verification time, by the key's SHA-256.
type Verified = HashMap<String, (String, Instant)>;

impl KeyCache {
    fn get(&self, hash: &str) -> Option<String> {
        let cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .0
            .get(hash)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(id, _)| id.clone())
    }

    fn generation(&self) -> u64 {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).1
    }

    /// Caches a key verified while the generation was `seen`, unless a revocation came since.
    fn put(&self, hash: String, id: String, seen: u64) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (cache, generation) = &mut *guard;
        if *generation != seen {
            return;
        }
        // Expired entries go when the cache grows, so it stays the size of the live keys.
        if cache.len() > 1024 {
            cache.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
        }
        cache.insert(hash, (id, Instant::now()));
    }

    pub(crate) fn clear(&self) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.clear();
        guard.1 += 1;
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme is case-insensitive (RFC 9110).
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|v| !v.is_empty())
        .ok_or(ApiError::Unauthenticated)
}

/// Equal in constant time, so a secret cannot be guessed byte by byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A call an app key or the admin token may make: a draw, which the admin
/// token (the console's) may only dry-run.
#[derive(Debug)]
pub(crate) enum AppOrAdmin {
    App(#[allow(dead_code, reason = "read by the logs through Debug")] Caller),
    Admin,
}

impl FromRequestParts<AppState> for AppOrAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(expected) = &state.admin_token
            && same(bearer(parts)?.as_bytes(), expected.trim().as_bytes())
        {
            return Ok(AppOrAdmin::Admin);
        }
        Ok(AppOrAdmin::App(
            Caller::from_request_parts(parts, state).await?,
        ))
    }
}

/// An admin call: it carried the admin token.
#[derive(Debug)]
pub(crate) struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = &state.admin_token else {
            return Err(ApiError::Forbidden(
                "admin calls are disabled: set TOMBOLA_ADMIN_TOKEN".into(),
            ));
        };
        if same(bearer(parts)?.as_bytes(), expected.trim().as_bytes()) {
            Ok(Admin)
        } else {
            Err(ApiError::Forbidden("wrong admin token".into()))
        }
    }
}

/// An app call: it carried a live API key, and the key is within its rate.
#[derive(Debug)]
pub(crate) struct Caller {
    #[allow(dead_code, reason = "read by the logs through Debug")]
    pub(crate) key_id: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer(parts)?;
        if let Some(dev) = &state.dev_key
            && same(key.as_bytes(), dev.as_bytes())
        {
            state.limits.check_key("dev")?;
            return Ok(Caller {
                key_id: "dev".into(),
            });
        }
        let hash = tombola_engine::key_hash(key);
        let key_id = match state.keys.get(&hash) {
            Some(id) => id,
            None => {
                let seen = state.keys.generation();
                let id = state
                    .engine
                    .verify_api_key(key)
                    .await?
                    .ok_or_else(|| ApiError::Forbidden("unknown or revoked API key".into()))?;
                state.keys.put(hash, id.clone(), seen);
                id
            }
        };
        state.limits.check_key(&key_id)?;
        tracing::Span::current().record("key", key_id.as_str());
        Ok(Caller { key_id })
    }
}

/// The two bearer schemes of the OpenAPI document.
#[derive(Debug)]
pub(crate) struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, what) in [
            ("api_key", "An API key from `POST /v1/keys` (`tbk_…`)"),
            (
                "admin_token",
                "The server's admin token (`TOMBOLA_ADMIN_TOKEN`)",
            ),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(what))
                        .build(),
                ),
            );
        }
    }
}

/// In development mode the credentials are well known, so only requests that
/// name a loopback host are served: a web page whose name was rebound to
/// 127.0.0.1 (DNS rebinding) sends its own host name and is refused. The Host
/// is parsed strictly: one header, `localhost`, `127.0.0.1` or `[::1]` with an
/// optional numeric port, nothing before or after; an absolute-form request
/// target over HTTP/1 is refused, since it would override the header.
pub(crate) async fn loopback_host_only(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if state.loopback_only
        && let Err(why) = loopback_host(&request)
    {
        return ApiError::Forbidden(format!(
            "development mode serves loopback hosts only: {why}"
        ))
        .into_response();
    }
    next.run(request).await
}

/// Why `request` does not name a loopback host, if it does not.
fn loopback_host(request: &axum::extract::Request) -> Result<(), String> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let host = match (request.version(), hosts.next(), hosts.next()) {
        (_, Some(_), Some(_)) => return Err("more than one Host header".into()),
        (axum::http::Version::HTTP_2 | axum::http::Version::HTTP_3, None, None) => request
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        _ if request.uri().authority().is_some() => {
            return Err("an absolute-form request target".into());
        }
        (_, Some(value), None) => value
            .to_str()
            .map_err(|_| "a Host header that is not ASCII".to_string())?
            .to_string(),
        (_, None, _) => return Err("no Host header".into()),
    };
    // `port` keeps its colon: "" or ":8080".
    let (name, port) = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').ok_or_else(|| format!("not `{host}`"))?,
        None => match host.find(':') {
            Some(at) => host.split_at(at),
            None => (host.as_str(), ""),
        },
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| {
            p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0)
        });
    let bracketed = host.starts_with('[');
    // Host names are case-insensitive; addresses are written one way.
    let name_ok = match name {
        "::1" => bracketed,
        "127.0.0.1" => !bracketed,
        name => !bracketed && name.eq_ignore_ascii_case("localhost"),
    };
    if name_ok && port_ok {
        Ok(())
    } else {
        Err(format!("not `{host}`"))
    }
}
