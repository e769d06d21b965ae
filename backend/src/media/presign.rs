//! [`Presigner`]: SigV4 query-string presigning of bucket URLs (path
//! style, `UNSIGNED-PAYLOAD`), written out here because `object_store`'s
//! signer refuses to bind `Content-Length`, and binding an upload's exact
//! length is the point of its URL. Inputs: method, object key, extra query
//! parameters and headers to bind, the time; output: the URL.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>

use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;
use std::fmt::Write;

type Hmac = hmac::Hmac<sha2::Sha256>;

/// Signs URLs of one bucket for browsers to use.
#[derive(Debug, Clone)]
pub struct Presigner {
    /// `scheme://host[:port]`, as browsers reach the bucket.
    origin: String,
    /// The `Host` header browsers send there.
    host: String,
    /// The path before object keys: `/<bucket>` (path style) or empty.
    prefix: String,
    region: String,
    access_key: String,
    secret_key: SecretString,
}

/// Percent-encodes all but the unreserved characters (and `/` if `path`).
fn encode(text: &str, path: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || (path && byte == b'/') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = <Hmac as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `YYYYMMDDTHHMMSSZ` of Unix time `secs` (proleptic Gregorian, UTC).
fn amz_date(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rest = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    )
}

impl Presigner {
    /// A signer for the bucket at `endpoint` (`scheme://host[:port]`),
    /// path style when `bucket` is given.
    pub fn new(
        endpoint: &str,
        bucket: Option<&str>,
        region: &str,
        access_key: &str,
        secret_key: SecretString,
    ) -> Self {
        let origin = endpoint.trim_end_matches('/').to_owned();
        let host = origin
            .split_once("://")
            .map_or(origin.as_str(), |(_, rest)| rest)
            .to_owned();
        Self {
            origin,
            host,
            prefix: bucket.map_or_else(String::new, |b| format!("/{}", encode(b, false))),
            region: region.to_owned(),
            access_key: access_key.to_owned(),
            secret_key,
        }
    }

    /// `scheme://host[:port]` of the bucket as browsers reach it.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The URL allowing `method` on object `key` from `now_secs` (Unix) for
    /// `ttl_secs`, with `query` parameters and the `headers` (lower-case
    /// names) the request must send, all bound to the signature.
    pub fn url(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        now_secs: u64,
        ttl_secs: u64,
    ) -> String {
        let date = amz_date(now_secs);
        let scope = format!("{}/{}/s3/aws4_request", &date[..8], self.region);
        let mut signed: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        signed.push(("host".into(), self.host.clone()));
        signed.sort();
        let names = signed
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let credential = format!("{}/{scope}", self.access_key);
        let ttl = ttl_secs.to_string();
        let mut params: Vec<(String, String)> = query
            .iter()
            .copied()
            .chain([
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                ("X-Amz-Credential", credential.as_str()),
                ("X-Amz-Date", date.as_str()),
                ("X-Amz-Expires", ttl.as_str()),
                ("X-Amz-SignedHeaders", names.as_str()),
            ])
            .map(|(k, v)| (encode(k, false), encode(v, false)))
            .collect();
        params.sort();
        let query = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let path = format!("{}/{}", self.prefix, encode(key, true));
        let canonical_headers: String = signed
            .iter()
            .map(|(name, value)| format!("{name}:{value}\n"))
            .collect();
        let request =
            format!("{method}\n{path}\n{query}\n{canonical_headers}\n{names}\nUNSIGNED-PAYLOAD");
        let digest = courier_shared::text_encoding::hex(&sha2::Sha256::digest(request.as_bytes()));
        let to_sign = format!("AWS4-HMAC-SHA256\n{date}\n{scope}\n{digest}");
        let secret = format!("AWS4{}", self.secret_key.expose_secret());
        let mut key = hmac(secret.as_bytes(), &date[..8]);
        for part in [self.region.as_str(), "s3", "aws4_request"] {
            key = hmac(&key, part);
        }
        let signature = courier_shared::text_encoding::hex(&hmac(&key, &to_sign));
        format!("{}{path}?{query}&X-Amz-Signature={signature}", self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::{Presigner, amz_date};

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_369_353_600), "20130524T000000Z");
        assert_eq!(amz_date(1_709_210_096), "20240229T123456Z");
    }

    /// The example of Amazon's documentation, byte for byte.
    #[test]
    fn signs_amazons_documented_example() {
        let signer = Presigner::new(
            "https://examplebucket.s3.amazonaws.com",
            None,
            "us-east-1",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        );
        let url = signer.url("GET", "test.txt", &[], &[], 1_369_353_600, 86_400);
        assert_eq!(
            url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&\
             X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&\
             X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&\
             X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }
}
