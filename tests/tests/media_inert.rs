//! Media is never active content, and an upload slot takes exactly one
//! upload of its signed length: an attacker's HTML page and SVG image,
//! opened in Chromium straight from their download URLs, run no script —
//! on the local store and on a bucket (`s3s-fs`) behind the media origin of
//! the shipped `deploy/nginx.conf`. A beacon that the same page does reach
//! when served as HTML shows the browser would have told.

use super::media::{Storage, absolute, complete, download_url, put, put_as, slot, storages};
use courier_shared::crypto::media::{self, MediaHash, UPLOAD_HEADERS};
use courier_shared::text_encoding;
use courier_tests::browser::{self, Browser};
use courier_tests::nginx::{self, Nginx};
use courier_tests::secure::SecureDevice;
use courier_tests::{Backend, TestApp, spawn_app_with};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A local HTTP server recording the paths asked of it; `/page` answers
/// with an HTML page (to show that a script which runs is seen).
struct Beacon {
    origin: String,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Beacon {
    async fn start(page: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("beacon port");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let seen = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = request.split(' ').nth(1).unwrap_or_default().to_owned();
                let (kind, body) = if path == "/page" {
                    ("text/html", page.clone())
                } else if path == "/favicon.ico" {
                    ("text/plain", String::new())
                } else {
                    seen.lock().expect("hits").push(path);
                    ("text/plain", String::new())
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nAccess-Control-Allow-Origin: *\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        Self { origin, hits }
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().expect("hits").clone()
    }
}

/// An HTML page and an SVG image whose scripts call the beacon.
fn payloads(beacon: &str) -> [(&'static str, Vec<u8>); 2] {
    let html = format!(
        "<!doctype html><html><body><h1>hi</h1><script>fetch('{beacon}/html-ran');\
         document.title='RAN'</script></body></html>"
    );
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"fetch('{beacon}/svg-onload')\">\
         <script>fetch('{beacon}/svg-ran')</script><circle r=\"9\"/></svg>"
    );
    [("html", html.into_bytes()), ("svg", svg.into_bytes())]
}

/// A server over `storage`; with a bucket, nginx's media origin in front
/// of it, named as the bucket's public endpoint.
async fn app_behind_media_origin(storage: &Storage, nginx_bin: &str) -> (TestApp, Option<Nginx>) {
    let Storage::S3(_) = storage else {
        return (spawn_app_with(Backend::Sqlite, |_| {}).await, None);
    };
    let (endpoint, bucket, access, secret) = super::media::s3_settings().expect("S3 is configured");
    let unused: std::net::SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let origin = Nginx::start_with_bucket(nginx_bin, &[unused], &endpoint);
    let public = format!("http://{}", origin.media);
    let app = spawn_app_with(Backend::Sqlite, move |s| {
        s.s3_endpoint = Some(endpoint);
        s.s3_public_endpoint = Some(public);
        s.s3_bucket = Some(bucket);
        s.s3_access_key = Some(access);
        s.s3_secret_key = Some(secret.into());
    })
    .await;
    (app, Some(origin))
}

#[tokio::test]
async fn html_and_svg_media_run_nothing_in_a_browser_on_either_store() {
    let (Some(chromedriver), Some(nginx_bin)) = (browser::available(), nginx::available()) else {
        return;
    };
    for storage in storages() {
        let (app, _origin) = app_behind_media_origin(&storage, &nginx_bin).await;
        let mut attacker = SecureDevice::register(&app.ws_url(), "mallory").await;
        let beacon = Beacon::start(String::new()).await;
        let mut urls = Vec::new();
        for (kind, bytes) in payloads(&beacon.origin) {
            let hash = media::hash(&bytes);
            let size = bytes.len() as u64;
            let (id, upload) = slot(&app, &mut attacker, size, hash).await.expect("a slot");
            // The uploader cannot choose the type, nor a longer or shorter body.
            let active = if kind == "html" {
                "text/html"
            } else {
                "image/svg+xml"
            };
            assert_eq!(
                put_as(&upload, &hash, active, bytes.clone()).await,
                403,
                "{storage:?}"
            );
            let mut longer = bytes.clone();
            longer.push(b' ');
            assert_eq!(
                put(&upload, &hash, longer).await,
                403,
                "{storage:?}: longer"
            );
            assert_eq!(
                put(&upload, &hash, bytes[1..].to_vec()).await,
                403,
                "{storage:?}"
            );
            assert_eq!(put(&upload, &hash, bytes.clone()).await, 200, "{storage:?}");
            // Once stored, the slot takes nothing more (412: If-None-Match).
            let again = put(&upload, &hash, bytes.clone()).await;
            assert!(
                matches!(again, 409 | 412),
                "{storage:?}: a second PUT got {again}"
            );
            complete(&mut attacker, id).await.expect("kept");
            let again = put(&upload, &hash, bytes.clone()).await;
            assert!(
                matches!(again, 409 | 412),
                "{storage:?}: a PUT after ready got {again}"
            );

            let url = download_url(&app, &mut attacker, id).await.expect("a URL");
            let url = absolute(&app, &url);
            let response = reqwest::get(&url).await.expect("the media origin answers");
            assert_eq!(response.status(), 200, "{storage:?}");
            for (name, value) in courier_backend::media::INERT_HEADERS {
                let got = response.headers().get_all(name).iter().collect::<Vec<_>>();
                assert_eq!(got, [value], "{storage:?} {kind}: {name}");
            }
            assert_eq!(response.bytes().await.expect("body"), bytes, "{storage:?}");
            urls.push(url);
        }

        let chromium = Browser::start(&chromedriver).await;
        for url in &urls {
            // A download aborts the navigation; either way nothing may run.
            let _ = chromium.goto(url).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let title = chromium
            .js("return document.title")
            .await
            .unwrap_or_default();
        let hits = beacon.hits();
        // The same page served as HTML by anyone else does run.
        // (Its beacon is its own origin: `fetch('/html-ran')`.)
        let html = String::from_utf8(payloads("")[0].1.clone()).expect("utf-8");
        let control = Beacon::start(html).await;
        chromium
            .goto(&format!("{}/page", control.origin))
            .await
            .expect("the control page");
        for _ in 0..50 {
            if !control.hits().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let control_hits = control.hits();
        chromium.close().await;
        assert_eq!(hits, Vec::<String>::new(), "{storage:?}: media ran script");
        assert_ne!(title, "RAN", "{storage:?}");
        assert_eq!(control_hits, ["/html-ran"], "the control page's script ran");
        app.stop().await;
    }
}

/// Sends the head and the first half of a PUT of `body` to `url` and keeps
/// the connection open: an upload in progress.
async fn start_slow_put(url: &str, hash: &MediaHash, body: &[u8]) -> tokio::net::TcpStream {
    let url = reqwest::Url::parse(url).expect("url");
    let addr = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().expect("port")
    );
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "PUT {}?{} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nx-amz-checksum-sha256: {}\r\n",
        url.path(),
        url.query().unwrap_or_default(),
        url.host_str().expect("host"),
        body.len(),
        text_encoding::base64(hash.as_bytes())
    );
    for (name, value) in UPLOAD_HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await.expect("head");
    socket
        .write_all(&body[..body.len() / 2])
        .await
        .expect("first half");
    socket
}

#[tokio::test]
async fn a_second_upload_to_a_local_slot_while_one_runs_is_refused() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let mut ana = SecureDevice::register(&app.ws_url(), "ana").await;
    let body = vec![42u8; 256 * 1024];
    let hash = media::hash(&body);
    let (id, upload) = slot(&app, &mut ana, body.len() as u64, hash)
        .await
        .expect("a slot");
    let upload = absolute(&app, &upload);
    let mut first = start_slow_put(&upload, &hash, &body).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        put(&upload, &hash, body.clone()).await,
        409,
        "a concurrent PUT"
    );
    first
        .write_all(&body[body.len() / 2..])
        .await
        .expect("second half");
    let mut answer = vec![0u8; 512];
    let n = first.read(&mut answer).await.expect("an answer");
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    complete(&mut ana, id)
        .await
        .expect("the first upload is kept");
    // Nothing is left behind in the claim directory.
    let claims = app.settings.media_dir().join("uploads");
    let left = std::fs::read_dir(&claims).map_or(0, Iterator::count);
    assert_eq!(left, 0, "{}", claims.display());
    app.stop().await;
}
