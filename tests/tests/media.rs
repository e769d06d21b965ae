//! Media through the real server and object stores — a real
//! S3-compatible server (`s3s-fs`, which checks SigV4 signatures) and the
//! embedded local store: readiness, signed upload and download, tampered
//! and expired URLs, oversized uploads, hash checks, quota, expiry, and a
//! plaintext canary that never reaches the store.

use courier_backend::config::Settings;
use courier_shared::client::Api;
use courier_shared::crypto::content::{Content, Plaintext};
use courier_shared::crypto::media::{self, MediaHash};
use courier_shared::ids::{Blob, MediaId};
use courier_shared::proto::{ErrorCode, Text};
use courier_tests::secure::SecureDevice;
use courier_tests::{Backend, TestApp, backends, env, spawn_app_with};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) fn s3_settings() -> Option<(String, String, String, String)> {
    let endpoint = env::optional("TEST_S3_ENDPOINT", "S3 media tests")?;
    Some((
        endpoint,
        env::required("TEST_S3_BUCKET"),
        env::required("TEST_S3_ACCESS_KEY"),
        env::required("TEST_S3_SECRET_KEY"),
    ))
}

async fn readyz(url: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{url}/readyz")).await.expect("readyz");
    let status = response.status().as_u16();
    let body = serde_json::from_str(&response.text().await.expect("body")).expect("json");
    (status, body)
}

#[tokio::test]
async fn ready_with_a_reachable_bucket_and_unready_with_bad_credentials() {
    let Some((endpoint, bucket, access, secret)) = s3_settings() else {
        return;
    };
    let good = (endpoint.clone(), bucket.clone(), access.clone(), secret);
    let app = spawn_app_with(Backend::Sqlite, move |s| {
        s.s3_endpoint = Some(good.0);
        s.s3_bucket = Some(good.1);
        s.s3_access_key = Some(good.2);
        s.s3_secret_key = Some(good.3.into());
    })
    .await;
    let (status, body) = readyz(&app.http_url()).await;
    assert_eq!((status, &body["media"]), (200, &"ok".into()), "{body}");
    app.stop().await;

    let app = spawn_app_with(Backend::Sqlite, move |s| {
        s.s3_endpoint = Some(endpoint);
        s.s3_bucket = Some(bucket);
        s.s3_access_key = Some(access);
        s.s3_secret_key = Some("not-the-secret".into());
    })
    .await;
    let (status, body) = readyz(&app.http_url()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "ok");
    assert_ne!(body["media"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn unready_when_the_object_store_is_down() {
    let port = courier_tests::browser::free_port();
    let app = spawn_app_with(Backend::Sqlite, move |s| {
        s.s3_endpoint = Some(format!("http://127.0.0.1:{port}"));
        s.s3_bucket = Some("courier".into());
        s.s3_access_key = Some("courier".into());
        s.s3_secret_key = Some("courier-secret".into());
    })
    .await;
    let (status, body) = readyz(&app.http_url()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unready");
    app.stop().await;
}

/// Where the media of a test app lives.
#[derive(Debug, Clone)]
pub(crate) enum Storage {
    /// The embedded local directory.
    Local,
    /// `s3s-fs`, with the directory it keeps its buckets in.
    S3(PathBuf),
}

/// The stores to run the media tests against: always the local one, and
/// `s3s-fs` when the environment names it.
pub(crate) fn storages() -> Vec<Storage> {
    let mut all = vec![Storage::Local];
    if s3_settings().is_some() {
        all.push(Storage::S3(PathBuf::from(env::required("TEST_S3_DIR"))));
    }
    all
}

/// A server over `storage` and `backend`, with `adjust` applied to its
/// settings.
pub(crate) async fn app_on(
    storage: &Storage,
    backend: Backend,
    adjust: impl FnOnce(&mut Settings) + Send + 'static,
) -> TestApp {
    let s3 = match storage {
        Storage::Local => None,
        Storage::S3(_) => s3_settings(),
    };
    spawn_app_with(backend, move |s| {
        if let Some((endpoint, bucket, access, secret)) = s3 {
            s.s3_endpoint = Some(endpoint);
            s.s3_bucket = Some(bucket);
            s.s3_access_key = Some(access);
            s.s3_secret_key = Some(secret.into());
        }
        adjust(s);
    })
    .await
}

/// A URL from the server, made absolute (local URLs are paths).
pub(crate) fn absolute(app: &TestApp, url: &str) -> String {
    if url.starts_with('/') {
        format!("{}{url}", app.http_url())
    } else {
        url.to_owned()
    }
}

/// Asks for a slot for `size` bytes hashing to `hash`: the media id and
/// the upload URL.
pub(crate) async fn slot(
    app: &TestApp,
    device: &mut SecureDevice,
    size: u64,
    hash: MediaHash,
) -> Result<(MediaId, String), ErrorCode> {
    let slot = device
        .net()
        .net
        .request_upload(size, hash)
        .await
        .map_err(|r| r.code)?;
    Ok((slot.media, absolute(app, &slot.url)))
}

/// Completes the upload of `media`: ready, or the refusal.
pub(crate) async fn complete(
    device: &mut SecureDevice,
    media: MediaId,
) -> Result<(), (ErrorCode, String)> {
    device
        .net()
        .net
        .complete_upload(media)
        .await
        .map_err(|r| (r.code, r.message))
}

/// A download URL for `media`, or the refusal.
pub(crate) async fn download_url(
    app: &TestApp,
    device: &mut SecureDevice,
    media: MediaId,
) -> Result<String, ErrorCode> {
    let url = device
        .net()
        .net
        .request_download(media)
        .await
        .map_err(|r| r.code)?;
    Ok(absolute(app, &url.url))
}

/// Uploads `body` declaring the slot's `hash` and sending the fixed upload
/// headers, as clients do (a bucket checks them against its signature).
pub(crate) async fn put(url: &str, hash: &MediaHash, body: Vec<u8>) -> u16 {
    put_as(url, hash, media::UPLOAD_HEADERS[0].1, body).await
}

/// [`put`], but with `content_type` chosen by the uploader.
pub(crate) async fn put_as(url: &str, hash: &MediaHash, content_type: &str, body: Vec<u8>) -> u16 {
    let mut request = reqwest::Client::new().put(url).header(
        "x-amz-checksum-sha256",
        courier_shared::text_encoding::base64(hash.as_bytes()),
    );
    for (name, value) in media::UPLOAD_HEADERS {
        let value = if name == "content-type" {
            content_type
        } else {
            value
        };
        request = request.header(name, value);
    }
    request
        .body(body)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

pub(crate) async fn get(url: &str) -> (u16, Vec<u8>) {
    let response = reqwest::get(url).await.expect("the store answers");
    let status = response.status().as_u16();
    (
        status,
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default(),
    )
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path, bytes));
        }
    }
    found
}

/// Changes one character of the `sig` (local) or `X-Amz-Signature` (S3)
/// query value.
fn tamper(url: &str) -> String {
    let at = url
        .find("sig=")
        .map(|i| i + 4)
        .or_else(|| url.find("X-Amz-Signature=").map(|i| i + 16))
        .expect("a signed URL");
    let mut bytes = url.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).expect("ascii")
}

#[tokio::test]
async fn media_goes_up_and_down_encrypted_through_signed_urls_only() {
    for storage in storages() {
        let app = app_on(&storage, Backend::Sqlite, |s| s.media_url_secs = 3).await;
        let ws = app.ws_url();
        let mut ana = SecureDevice::register(&ws, "ana").await;
        let mut ben = SecureDevice::register(&ws, "ben").await;

        // Ana seals a photo with a canary in it and uploads the ciphertext.
        let canary = format!("MEDIA-CANARY-{}", uuid_like());
        let photo = format!("{canary} pretend JPEG bytes {canary}")
            .repeat(50)
            .into_bytes();
        let sealed = media::seal(&photo, random(), random());
        let size = sealed.ciphertext.len() as u64;
        let (id, upload) = slot(&app, &mut ana, size, sealed.hash)
            .await
            .expect("a slot");
        assert_eq!(
            put(&upload, &sealed.hash, sealed.ciphertext.clone()).await,
            200,
            "{storage:?}"
        );
        complete(&mut ana, id).await.expect("upload kept");

        // The message carries everything needed, inside the encryption.
        let plain = Plaintext {
            id: courier_tests::device::new_message_id(),
            to: ben.user(),
            content: Content::Media {
                media: id,
                key: sealed.key,
                hash: sealed.hash,
                size,
                mime: Text::truncating("image/jpeg"),
                name: Text::truncating("photo.jpg"),
                width: 1600,
                height: 1200,
                duration_ms: 0,
                thumbnail: Blob::new(vec![0xff, 0xd8]).expect("small"),
                waveform: Blob::new(Vec::new()).expect("empty"),
                caption: Text::truncating("the view"),
            },
        };
        ana.send_plain(&plain).await;
        let (_, _, received) = ben.next_message().await;
        let Content::Media {
            media: got,
            key,
            hash,
            ..
        } = received
            .expect("decrypts")
            .content
            .expect("a media reference")
        else {
            panic!("expected media");
        };
        let download = download_url(&app, &mut ben, got).await.expect("a URL");
        let (status, body) = get(&download).await;
        assert_eq!(status, 200, "{storage:?}");
        assert_eq!(media::open(&body, &key, &hash).expect("opens"), photo);

        // A changed byte is caught by the hash before decryption.
        let mut changed = body.clone();
        changed[body.len() / 2] ^= 1;
        let err = media::open(&changed, &key, &hash).unwrap_err();
        assert!(err.to_string().contains("does not match its hash"), "{err}");

        // Tampered URLs, another object under a valid signature, and no
        // signature at all: 403, whether or not the object exists.
        assert_eq!(get(&tamper(&download)).await.0, 403, "{storage:?}");
        assert!(!(200..300).contains(&put(&tamper(&upload), &sealed.hash, vec![0; 4]).await));
        let other = "ab".repeat(16);
        let hex = courier_shared::text_encoding::hex(id.as_bytes());
        assert_eq!(get(&download.replace(&hex, &other)).await.0, 403);
        let bare = download.split('?').next().expect("a path").to_owned();
        assert_eq!(get(&bare).await.0, 403, "{storage:?}: {bare}");
        let unknown = MediaId::from([0x5a; 16]);
        assert_eq!(
            download_url(&app, &mut ben, unknown).await,
            Err(ErrorCode::NotFound)
        );

        // An upload larger than its slot (or other than the declared bytes)
        // is refused, and the slot stays empty.
        let declared = media::hash(&[7; 100]);
        let (big, too_big) = slot(&app, &mut ana, 100, declared).await.expect("a slot");
        assert!(
            !(200..300).contains(&put(&too_big, &declared, vec![7; 200]).await),
            "{storage:?}"
        );
        assert!(
            !(200..300).contains(&put(&too_big, &declared, vec![8; 100]).await),
            "{storage:?}"
        );
        let refused = complete(&mut ana, big).await.unwrap_err();
        assert_eq!(refused.0, ErrorCode::InvalidRequest, "{refused:?}");
        assert_eq!(
            download_url(&app, &mut ben, big).await,
            Err(ErrorCode::NotFound)
        );

        // The store holds only ciphertext.
        let dir = match &storage {
            Storage::Local => app.settings.media_dir(),
            Storage::S3(dir) => dir.clone(),
        };
        let stored = files(&dir);
        assert!(
            stored.iter().any(|(_, bytes)| *bytes == sealed.ciphertext),
            "{storage:?}: the object is in {}",
            dir.display()
        );
        for (path, bytes) in &stored {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "plaintext in {}",
                path.display()
            );
        }

        // Signed URLs expire.
        tokio::time::sleep(Duration::from_millis(3_200)).await;
        assert_eq!(get(&download).await.0, 403, "{storage:?}: an expired URL");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_quota_holds_and_expired_media_is_swept() {
    let runs = storages()
        .into_iter()
        .flat_map(|storage| backends().into_iter().map(move |b| (storage.clone(), b)));
    for (storage, backend) in runs {
        let app = app_on(&storage, backend, |s| {
            s.media_quota_bytes = 1_000;
            s.media_max_bytes = 800;
            s.media_ttl_secs = 1;
            s.sweep_interval_secs = 1;
        })
        .await;
        let mut ana = SecureDevice::register(&app.ws_url(), "ana").await;
        let hash = media::hash(&[1; 600]);
        assert_eq!(
            slot(&app, &mut ana, 801, hash).await.unwrap_err(),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            slot(&app, &mut ana, 0, hash).await.unwrap_err(),
            ErrorCode::InvalidRequest
        );
        let (id, url) = slot(&app, &mut ana, 600, hash).await.expect("a slot");
        assert_eq!(
            slot(&app, &mut ana, 600, hash).await.unwrap_err(),
            ErrorCode::QuotaExceeded,
            "{storage:?} {backend:?}"
        );
        assert_eq!(put(&url, &hash, vec![1; 600]).await, 200);
        complete(&mut ana, id).await.expect("kept");
        let download = download_url(&app, &mut ana, id).await.expect("a URL");
        assert_eq!(get(&download).await.0, 200);
        // A second later it expired; the sweeper deletes it and frees the quota.
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if get(&download).await.0 == 404 || std::time::Instant::now() > deadline {
                break;
            }
        }
        let (status, _) = get(&download).await;
        assert!(matches!(status, 403 | 404), "{storage:?}: {status}");
        assert_eq!(
            download_url(&app, &mut ana, id).await,
            Err(ErrorCode::NotFound)
        );
        // The sweeper deletes the object first and then its row (so that
        // no object is ever left without a row to sweep it), so the row
        // may still be there a moment after the download fails.
        let store = app.store().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let swept = loop {
            let left = store.expired_media(i64::MAX, 1_000).await.expect("listed");
            let gone = !left.contains(&id);
            if gone || std::time::Instant::now() > deadline {
                break gone;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(
            swept,
            "{storage:?} {backend:?}: the expired media's row is swept"
        );
        slot(&app, &mut ana, 600, hash)
            .await
            .expect("the quota is free again");
        app.stop().await;
    }
}

pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("randomness");
    bytes
}

fn uuid_like() -> String {
    courier_shared::text_encoding::hex(&random::<8>())
}
