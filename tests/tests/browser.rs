//! The real web client, served by the real `courier` binary, in headless
//! Chromium: it connects, shows "online", rides out a server crash showing
//! "reconnecting", and comes back online when the server returns.

use courier_tests::browser::{self, Browser, free_port};
use courier_tests::process::{CourierProcess, courier_bin};
use fantoccini::Locator;
use std::time::Duration;

/// The built client (`trunk build` output), from `COURIER_WEB_DIST`.
fn web_dist() -> Option<String> {
    courier_tests::env::optional("COURIER_WEB_DIST", "browser tests of the built client")
}

async fn state_after(browser: &Browser, state: &str) -> Result<String, String> {
    let selector = format!("[data-connection='{state}']");
    let element = browser
        .client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(&selector))
        .await
        .map_err(|err| format!("no {selector}: {err}"))?;
    element.text().await.map_err(|err| err.to_string())
}

#[tokio::test]
async fn the_page_goes_online_and_reconnects_after_a_server_crash() {
    let (Some(bin), Some(dist), Some(driver)) = (courier_bin(), web_dist(), browser::available())
    else {
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let data_dir = data.path().to_str().expect("utf-8").to_owned();
    let listen = format!("127.0.0.1:{}", free_port());
    let args = [
        "--listen",
        listen.as_str(),
        "--data-dir",
        &data_dir,
        "--web-dir",
        &dist,
    ];
    let courier = CourierProcess::start(&bin, &args, &[]);
    courier_tests::wait_ready(&courier.url).await;

    let browser = Browser::start(&driver).await;
    let mut outcome: Vec<(&str, Result<String, String>)> = Vec::new();
    let opened = browser.client.goto(&courier.url).await;
    outcome.push((
        "open",
        opened.map(|_| String::new()).map_err(|e| e.to_string()),
    ));
    outcome.push(("first online", state_after(&browser, "online").await));
    let title = browser.client.title().await.unwrap_or_default();

    courier.signal("KILL");
    drop(courier);
    outcome.push(("reconnecting", state_after(&browser, "reconnecting").await));

    let courier = CourierProcess::start(&bin, &args, &[]);
    courier_tests::wait_ready(&courier.url).await;
    outcome.push(("online again", state_after(&browser, "online").await));
    browser.close().await;
    drop(courier);

    for (step, result) in &outcome {
        if let Err(err) = result {
            panic!("step {step:?} failed: {err}");
        }
    }
    assert_eq!(title, "Courier");
    let online = outcome[1].1.as_ref().expect("checked");
    assert!(
        online.to_lowercase().contains("online"),
        "status text: {online}"
    );
}
