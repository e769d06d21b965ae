//! Signed URLs of the embedded local media store: `/media/<id>?op=…&size=…
//! &sum=…&exp=…&sig=…`, where `sig` is HMAC-SHA256 over the operation, the
//! id, the exact size and SHA-256 (uploads) and the expiry, under a key every node shares. A URL
//! changed in any part, or used after its expiry, is refused.

use courier_shared::crypto::media::MediaHash;
use courier_shared::ids::MediaId;
use courier_shared::text_encoding;
use hmac::{KeyInit, Mac};

type Hmac = hmac::Hmac<sha2::Sha256>;

/// What a URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Download.
    Get,
    /// Upload exactly `size` bytes.
    Put,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Put => "put",
        }
    }
}

/// What a checked URL allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// The media object.
    pub id: MediaId,
    /// For uploads, the exact size in bytes.
    pub size: u64,
    /// For uploads, the SHA-256 the bytes must have.
    pub hash: Option<MediaHash>,
}

/// The key that signs local media URLs.
#[derive(Clone)]
pub struct UrlKey([u8; 32]);

impl std::fmt::Debug for UrlKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlKey(…)")
    }
}

/// The query of a local media URL.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct UrlQuery {
    /// `get` or `put`.
    pub op: String,
    /// The exact upload size (0 for downloads).
    pub size: u64,
    /// The upload's SHA-256, hex (empty for downloads).
    #[serde(default)]
    pub sum: String,
    /// Expiry, Unix ms.
    pub exp: u64,
    /// The signature, hex.
    pub sig: String,
}

impl UrlKey {
    /// A key from 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, op: Op, id: &str, size: u64, sum: &str, exp: u64) -> Hmac {
        let mut mac = <Hmac as KeyInit>::new_from_slice(&self.0).expect("any key length");
        mac.update(format!("{}\n{id}\n{size}\n{sum}\n{exp}", op.as_str()).as_bytes());
        mac
    }

    /// The URL (a path on this server) allowing `op` on `id` until `exp`:
    /// for uploads, of exactly `size` bytes hashing to `hash`.
    pub fn url(
        &self,
        op: Op,
        id: &MediaId,
        size: u64,
        hash: Option<&MediaHash>,
        exp: u64,
    ) -> String {
        let id = text_encoding::hex(id.as_bytes());
        let sum = hash.map_or_else(String::new, |h| text_encoding::hex(h.as_bytes()));
        let sig = self.mac(op, &id, size, &sum, exp).finalize().into_bytes();
        format!(
            "/media/{id}?op={}&size={size}&sum={sum}&exp={exp}&sig={}",
            op.as_str(),
            text_encoding::hex(&sig)
        )
    }

    /// Checks a request for `id` (hex, from the path) with `query` at
    /// `now_ms`: the media id, and for uploads the exact size and SHA-256
    /// allowed, or why not.
    pub fn check(
        &self,
        want: Op,
        id: &str,
        query: &UrlQuery,
        now_ms: u64,
    ) -> Result<Allowed, &'static str> {
        if query.op != want.as_str() {
            return Err("the URL is for another operation");
        }
        let sig = text_encoding::hex_decode(&query.sig).ok_or("malformed signature")?;
        self.mac(want, id, query.size, &query.sum, query.exp)
            .verify_slice(&sig)
            .map_err(|_| "bad signature")?;
        if query.exp <= now_ms {
            return Err("the URL has expired");
        }
        let bytes = text_encoding::hex_decode(id).ok_or("malformed media id")?;
        let id = MediaId::from_slice(&bytes).ok_or("malformed media id")?;
        let hash =
            text_encoding::hex_decode(&query.sum).and_then(|sum| MediaHash::from_slice(&sum));
        Ok(Allowed {
            id,
            size: query.size,
            hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Op, UrlKey, UrlQuery};
    use courier_shared::ids::MediaId;

    fn query(url: &str) -> (String, UrlQuery) {
        let (path, query) = url.split_once('?').expect("a query");
        let id = path.trim_start_matches("/media/").to_owned();
        let mut parts = std::collections::HashMap::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').expect("k=v");
            parts.insert(k, v.to_owned());
        }
        let q = UrlQuery {
            op: parts["op"].clone(),
            sum: parts["sum"].clone(),
            size: parts["size"].parse().expect("size"),
            exp: parts["exp"].parse().expect("exp"),
            sig: parts["sig"].clone(),
        };
        (id, q)
    }

    #[test]
    fn only_the_signed_operation_size_and_time_pass() {
        let key = UrlKey::new([3; 32]);
        let id = MediaId::from([9; 16]);
        let hash = courier_shared::crypto::media::MediaHash::from([5; 32]);
        let (path_id, q) = query(&key.url(Op::Put, &id, 100, Some(&hash), 5_000));
        let allowed = key.check(Op::Put, &path_id, &q, 4_999).expect("allowed");
        assert_eq!(
            (allowed.id, allowed.size, allowed.hash),
            (id, 100, Some(hash))
        );
        assert_eq!(
            key.check(Op::Put, &path_id, &q, 5_000),
            Err("the URL has expired")
        );
        assert!(key.check(Op::Get, &path_id, &q, 1).is_err());
        let bigger = UrlQuery {
            size: 101,
            ..q.clone()
        };
        assert_eq!(
            key.check(Op::Put, &path_id, &bigger, 1),
            Err("bad signature")
        );
        let other = "0".repeat(32);
        assert_eq!(key.check(Op::Put, &other, &q, 1), Err("bad signature"));
        let other_sum = UrlQuery {
            sum: "00".repeat(32),
            ..q.clone()
        };
        assert_eq!(
            key.check(Op::Put, &path_id, &other_sum, 1),
            Err("bad signature")
        );
        let later = UrlQuery {
            exp: 9_000,
            ..q.clone()
        };
        assert_eq!(
            key.check(Op::Put, &path_id, &later, 1),
            Err("bad signature")
        );
        assert!(
            UrlKey::new([4; 32])
                .check(Op::Put, &path_id, &q, 1)
                .is_err()
        );
    }
}
