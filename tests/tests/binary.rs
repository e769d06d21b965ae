//! The real `courier` binary: its help, its defaults and its signals.

use courier_tests::process::{CourierProcess, FreshData, courier_bin};
use std::process::Command;
use std::time::Duration;

#[test]
fn help_lists_every_setting_with_its_variable() {
    let Some(bin) = courier_bin() else { return };
    let output = Command::new(&bin).arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--database-url",
        "--web-dir",
        "--s3-endpoint",
        "--s3-bucket",
        "--s3-region",
        "--s3-access-key",
        "--s3-secret-key",
        "--max-connections",
        "--log-format",
        "COURIER_DATABASE_URL",
        "COURIER_S3_BUCKET",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[tokio::test]
async fn embedded_defaults_start_and_sigterm_stops_cleanly() {
    let Some(bin) = courier_bin() else { return };
    let data = tempfile::tempdir().expect("data dir");
    let data_dir = data.path().to_str().expect("utf-8 path");
    let mut courier = CourierProcess::start(
        &bin,
        &["--listen", "127.0.0.1:0", "--data-dir", data_dir],
        &[],
    );
    courier_tests::wait_ready(&courier.url).await;
    let ready = reqwest::get(format!("{}/readyz", courier.url))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    assert!(data.path().join("courier.db").is_file(), "SQLite file made");
    assert!(data.path().join("media").is_dir(), "media directory made");

    let mut client = courier_tests::TestClient::connect_and_hello(&format!(
        "{}/ws",
        courier.url.replace("http", "ws")
    ))
    .await;
    courier.signal("TERM");
    match client.recv().await {
        courier_tests::client::Received::Closed(Some((code, _))) => assert_eq!(code, 1012),
        other => panic!("expected close 1012, got {other:?}"),
    }
    drop(client);
    assert_eq!(courier.wait_exit(Duration::from_secs(15)), Some(0));
}

#[tokio::test]
async fn a_postgres_url_selects_postgres() {
    let Some(bin) = courier_bin() else { return };
    if courier_tests::env::optional("TEST_DATABASE_URL", "courier binary on Postgres").is_none() {
        return;
    }
    let data = tempfile::tempdir().expect("data dir");
    let url =
        courier_tests::fresh_database_url(courier_tests::Backend::Postgres, data.path()).await;
    let data_dir = data.path().to_str().expect("utf-8 path");
    let mut courier = CourierProcess::start(
        &bin,
        &["--listen", "127.0.0.1:0", "--data-dir", data_dir],
        &[("COURIER_DATABASE_URL", url.as_str())],
    );
    courier_tests::wait_ready(&courier.url).await;
    let ready = reqwest::get(format!("{}/readyz", courier.url))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    assert!(
        !data.path().join("courier.db").exists(),
        "no SQLite file with Postgres"
    );
    courier.signal("TERM");
    assert_eq!(courier.wait_exit(Duration::from_secs(15)), Some(0));
}

#[tokio::test]
async fn an_accepted_message_survives_sigkill_of_the_server() {
    let Some(bin) = courier_bin() else { return };
    for backend in courier_tests::backends() {
        let fresh = FreshData::new(backend).await;
        let courier = fresh.start(&bin, &[]).await;
        let ws = courier.ws_url();
        let mut ana = courier_tests::TestDevice::register(&ws, "ana").await;
        let mut ben = courier_tests::TestDevice::register(&ws, "ben").await;
        ben.disconnect().await;
        let id = ana.send_text(&[ben.device], "survives the crash").await;
        ana.accepted(id).await;

        courier.signal("KILL");
        drop(courier);
        let courier = fresh.start(&bin, &[]).await;
        ben.reconnect().await;
        let (got, _, text) = ben.next_message().await;
        assert_eq!(
            (got, text.as_str()),
            (id, "survives the crash"),
            "{backend:?}"
        );
        drop(courier);
    }
}
