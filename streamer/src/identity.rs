//! `autoplay-botpress identity-token`: the short-lived, signed identity a host app's backend gives
//! the webchat, so the bot can trust which Autoplay user is chatting (the `autoplay`
//! integration's `identitySecret`). An HS256 JSON Web Token: `sub` = Autoplay user id, `sid` =
//! session id (optional), `iat`, `exp` — the form Botpress's own Chat integration uses for user
//! keys.
//!
//! Minted by hand: a JWT is one HMAC over two base64url strings, done with the crates the binary
//! already links; `jsonwebtoken`'s pure-Rust backend would add RSA and elliptic-curve crates for
//! a signature this program never verifies.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::ConfigError;

/// Environment variable holding the secret shared with the integration's `identitySecret`.
pub const SECRET_VARIABLE: &str = "AUTOPLAY_IDENTITY_SECRET";
/// Shortest secret accepted: 256 bits of base64 or hex text.
pub const MIN_SECRET_CHARS: usize = 32;

/// A signed identity for `user_id` (and `session_id`), valid `ttl` from `now` (unix seconds).
pub fn mint(
    secret: &str,
    user_id: &str,
    session_id: Option<&str>,
    ttl: Duration,
    now: u64,
) -> String {
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let mut claims = json!({ "sub": user_id, "iat": now, "exp": now + ttl.as_secs() });
    if let Some(session) = session_id {
        claims["sid"] = session.into();
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// The secret from the environment, checked.
pub fn secret_from_env() -> Result<String, ConfigError> {
    let problem = |problem: String| ConfigError {
        setting: SECRET_VARIABLE,
        problem,
    };
    let secret = std::env::var(SECRET_VARIABLE)
        .map_err(|_| problem("set it to the integration's identitySecret (it is read from the environment only, never a flag, so it stays out of process lists)".into()))?;
    let secret = secret.trim().to_owned();
    if secret.chars().count() < MIN_SECRET_CHARS {
        return Err(problem(format!(
            "must be at least {MIN_SECRET_CHARS} characters (e.g. `openssl rand -hex 32`)"
        )));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mints_a_verifiable_hs256_token() {
        let token = mint(
            "s".repeat(32).as_str(),
            "user-1",
            Some("sess-9"),
            Duration::from_secs(3600),
            1_700_000_000,
        );
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            json!({"sub": "user-1", "sid": "sess-9", "iat": 1_700_000_000u64, "exp": 1_700_003_600u64})
        );
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "HS256");
        let mut mac = Hmac::<Sha256>::new_from_slice("s".repeat(32).as_bytes()).unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
            .expect("the signature verifies");
    }
}
