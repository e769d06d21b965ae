//! `/healthz`, `/readyz` and the web client's files.

use courier_tests::{backends, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthy_and_ready_on_every_backend() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let health = reqwest::get(format!("{}/healthz", app.http_url()))
            .await
            .expect("healthz");
        assert_eq!(health.status(), 200);
        let ready = reqwest::get(format!("{}/readyz", app.http_url()))
            .await
            .expect("readyz");
        assert_eq!(ready.status(), 200, "{backend:?}");
        let body: serde_json::Value =
            serde_json::from_str(&ready.text().await.expect("body")).expect("json");
        assert_eq!(body["status"], "ready");
        assert_eq!(body["database"], "ok");
        assert_eq!(body["media"], "ok");
        assert!(body["deployment"].as_str().is_some_and(|id| id.len() == 36));
        app.stop().await;
    }
}

#[tokio::test]
async fn without_a_built_client_the_root_explains_how_to_build_it() {
    let app = spawn_app(courier_tests::Backend::Sqlite).await;
    let response = reqwest::get(app.http_url()).await.expect("GET /");
    assert_eq!(response.status(), 503);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("cargo xtask run")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_web_client_is_served_with_index_html_for_client_routes() {
    let web = tempfile::tempdir().expect("web dir");
    std::fs::write(web.path().join("index.html"), "<html>courier-index</html>").expect("write");
    std::fs::write(web.path().join("app.js"), "console.log('courier')").expect("write");
    let dir = web.path().to_path_buf();
    let app = spawn_app_with(courier_tests::Backend::Sqlite, |s| s.web_dir = dir).await;
    for (path, needle) in [
        ("/", "courier-index"),
        ("/chats/42", "courier-index"),
        ("/app.js", "console.log"),
    ] {
        let response = reqwest::get(format!("{}{path}", app.http_url()))
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.text().await.expect("body").contains(needle),
            "{path}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn content_hashed_assets_are_kept_and_the_page_is_revalidated() {
    let web = tempfile::tempdir().expect("web dir");
    for name in [
        "index.html",
        "sw.js",
        "courier-frontend-0123456789abcdef.js",
    ] {
        std::fs::write(web.path().join(name), "courier").expect("write");
    }
    let dir = web.path().to_path_buf();
    let app = spawn_app_with(courier_tests::Backend::Sqlite, |s| s.web_dir = dir).await;
    for (path, expected) in [
        ("/", "no-cache"),
        ("/chats/42", "no-cache"),
        ("/sw.js", "no-cache"),
        (
            "/courier-frontend-0123456789abcdef.js",
            "public, max-age=31536000, immutable",
        ),
    ] {
        let response = reqwest::get(format!("{}{path}", app.http_url()))
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "{path}");
        let got = response.headers().get("cache-control").cloned();
        assert_eq!(
            got.as_ref().and_then(|v| v.to_str().ok()),
            Some(expected),
            "{path}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn precompressed_assets_are_sent_to_browsers_that_accept_them() {
    let web = tempfile::tempdir().expect("web dir");
    for (name, body) in [
        ("index.html", "<html>courier-index</html>"),
        ("index.html.br", "index-in-brotli"),
        ("app.js", "console.log('courier')"),
        ("app.js.br", "app-in-brotli"),
        ("app.js.gz", "app-in-gzip"),
    ] {
        std::fs::write(web.path().join(name), body).expect("write");
    }
    let dir = web.path().to_path_buf();
    let app = spawn_app_with(courier_tests::Backend::Sqlite, |s| s.web_dir = dir).await;
    let client = reqwest::Client::new();
    for (path, accept, encoding, body) in [
        ("/app.js", "gzip, deflate, br", Some("br"), "app-in-brotli"),
        ("/app.js", "gzip", Some("gzip"), "app-in-gzip"),
        ("/app.js", "identity", None, "console.log('courier')"),
        ("/chats/42", "br", Some("br"), "index-in-brotli"),
    ] {
        let response = client
            .get(format!("{}{path}", app.http_url()))
            .header("accept-encoding", accept)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "{path} {accept}");
        let got = response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().expect("ascii").to_owned());
        assert_eq!(got.as_deref(), encoding, "{path} {accept}");
        assert_eq!(
            response.text().await.expect("body"),
            body,
            "{path} {accept}"
        );
    }
    app.stop().await;
}
