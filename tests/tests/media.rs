//! Media storage readiness against a real S3-compatible server (`s3s-fs`).

use courier_tests::{Backend, env, spawn_app_with};

fn s3_settings() -> Option<(String, String, String, String)> {
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
