//! What a bucket's signed URLs bind (signing needs no bucket to talk to).

use super::{MediaStore, local_url::Op};
use crate::config::Settings;
use clap::Parser;
use courier_shared::crypto::media::MediaHash;
use courier_shared::ids::MediaId;

fn bucket() -> MediaStore {
    let settings = Settings::parse_from([
        "courier",
        "--s3-endpoint",
        "http://127.0.0.1:9",
        "--s3-public-endpoint",
        "http://media.example:8081",
        "--s3-bucket",
        "courier",
        "--s3-access-key",
        "key",
        "--s3-secret-key",
        "secret",
    ]);
    MediaStore::from_settings(&settings).expect("a bucket")
}

fn signed_headers(url: &str) -> String {
    let (_, rest) = url
        .split_once("X-Amz-SignedHeaders=")
        .expect("signed headers");
    rest.split('&')
        .next()
        .unwrap_or_default()
        .replace("%3B", ";")
}

#[tokio::test]
async fn an_upload_url_binds_length_checksum_type_disposition_and_create_once() {
    let store = bucket();
    let id = MediaId::from([1; 16]);
    let hash = MediaHash::from([2; 32]);
    let ttl = std::time::Duration::from_secs(60);
    let put = store
        .signed(Op::Put, &id, 1234, Some(&hash), 0, ttl)
        .await
        .expect("signed");
    assert!(
        put.url
            .starts_with("http://media.example:8081/courier/media/"),
        "{}",
        put.url
    );
    assert_eq!(
        signed_headers(&put.url),
        "content-disposition;content-length;content-type;host;if-none-match;x-amz-checksum-sha256"
    );
    let get = store
        .signed(Op::Get, &id, 0, None, 0, ttl)
        .await
        .expect("signed");
    assert!(
        get.url
            .contains("response-content-type=application%2Foctet-stream")
            && get.url.contains("response-content-disposition=attachment"),
        "{}",
        get.url
    );
}
