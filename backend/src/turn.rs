//! TURN credentials for calls, in the TURN REST API scheme that coturn
//! checks with `use-auth-secret`: the user name is `expiry:device` (expiry
//! in Unix seconds), the credential base64(HMAC-SHA1(secret, user name)).
//! The server and coturn share only the secret; no client ever holds a
//! static password, and a credential is worthless after its expiry.
//!
//! Input: [`Settings`]' `--turn-url`, `--turn-secret`, `--turn-ttl-secs`;
//! output: a [`ServerFrame::TurnServers`] per request.

use crate::config::Settings;
use courier_shared::ids::{DeviceId, RequestId};
use courier_shared::proto::{ServerFrame, Text};
use secrecy::{ExposeSecret, SecretString};
use sha1::{Digest, Sha1};
use std::sync::Arc;

/// Most TURN URLs handed out.
const MAX_URLS: usize = 8;

/// The TURN servers and the secret shared with them.
#[derive(Clone)]
pub struct Turn {
    urls: Arc<[String]>,
    secret: Option<SecretString>,
    ttl_secs: u64,
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn")
            .field("urls", &self.urls)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Turn {
    /// The TURN setup of `settings` (none without both URL and secret).
    pub fn new(settings: &Settings) -> Self {
        let urls: Vec<String> = settings
            .turn_url
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .take(MAX_URLS)
            .collect();
        Self {
            urls: urls.into(),
            secret: settings.turn_secret.clone(),
            ttl_secs: settings.turn_ttl_secs.max(1),
        }
    }

    /// The answer to `RequestTurn` from `device` at `now_ms`: the URLs and
    /// a fresh credential, or no URLs when TURN is not configured.
    pub fn answer(&self, request: RequestId, device: DeviceId, now_ms: u64) -> ServerFrame {
        let expires = now_ms / 1000 + self.ttl_secs;
        let (urls, username, credential) = match &self.secret {
            Some(secret) if !self.urls.is_empty() => {
                let (user, pass) = credential(secret.expose_secret().as_bytes(), device, expires);
                let urls = self.urls.iter().map(|u| Text::truncating(u)).collect();
                (urls, user, pass)
            }
            _ => (Vec::new(), String::new(), String::new()),
        };
        ServerFrame::TurnServers {
            request,
            urls,
            username: Text::truncating(&username),
            credential: Text::truncating(&credential),
            expires_at: expires * 1000,
        }
    }
}

/// The TURN REST API user name and credential for `device`, valid until
/// `expires` (Unix seconds), under `secret`.
pub fn credential(secret: &[u8], device: DeviceId, expires: u64) -> (String, String) {
    let username = format!("{expires}:{}", device.0);
    let mac = hmac_sha1(secret, username.as_bytes());
    (username, courier_shared::text_encoding::base64(&mac))
}

/// HMAC-SHA1 (RFC 2104), as coturn computes it.
pub fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha1::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha1::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        // RFC 2202, test cases 1 and 2.
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(&hmac_sha1(&[0x0b; 20], b"Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hex(&hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        // A key longer than a block is hashed first (test case 6).
        assert_eq!(
            hex(&hmac_sha1(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    #[test]
    fn a_credential_names_its_expiry_and_device() {
        let (user, pass) = credential(b"secret", DeviceId(42), 1_900_000_000);
        assert_eq!(user, "1900000000:42");
        assert_eq!(pass.len(), 28);
        assert_ne!(credential(b"other", DeviceId(42), 1_900_000_000).1, pass);
    }
}
