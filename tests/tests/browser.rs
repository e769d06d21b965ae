//! The real web client, served by the real `courier` binary, in headless
//! Chromium: its welcome page opens no socket; signed up, it connects,
//! shows "online", rides out a server crash showing
//! "reconnecting", and comes back online when the server returns.

use courier_tests::browser::{self, Browser, free_port};
use courier_tests::process::{CourierProcess, courier_bin};
use courier_tests::secure::SecureDevice;
use fantoccini::Locator;
use std::time::Duration;

/// The built client (`cargo xtask client` output), from `COURIER_WEB_DIST`.
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
    // The welcome page opens no socket (the server would close an
    // anonymous one after its handshake deadline) and shows no connection
    // state: it connects to sign up.
    browser.goto(&courier.url).await.expect("the page opens");
    outcome.push(("welcome", welcome_shows_no_connection(&browser).await));
    let signed_up = browser.register(&courier.url, "ana").await;
    outcome.push(("sign up", signed_up.map(|()| String::new())));
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
    let online = outcome
        .iter()
        .find(|(step, _)| *step == "first online")
        .and_then(|(_, shown)| shown.as_ref().ok())
        .expect("checked");
    assert!(
        online.to_lowercase().contains("online"),
        "status text: {online}"
    );
}

/// Waits until the welcome page's messenger core has loaded, then checks
/// for a second that it shows no connection state (no badge, no
/// "Connecting…" banner) and no server error.
async fn welcome_shows_no_connection(browser: &Browser) -> Result<String, String> {
    browser
        .text_of("[data-phase='welcome'][data-core='true'] #register", 30)
        .await?;
    for _ in 0..10 {
        let shown = browser
            .js("return [!!document.querySelector('[data-connection]'),\
                 !!document.querySelector('.offline-banner'),\
                 !!document.querySelector('.server-error')];")
            .await?;
        if shown != serde_json::json!([false, false, false]) {
            return Err(format!(
                "the welcome page shows [badge, banner, error] = {shown}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(String::new())
}

/// What the page keeps in IndexedDB, as JSON: the kind of vault key and of
/// the saved state, how many byte records there are (device state, history,
/// chat index) and how many of them hold a message's text in the clear.
const VAULT_PROBE: &str = r#"
const done = arguments[arguments.length - 1];
openVault().then((db) => {
  const store = db.transaction("vault").objectStore("vault");
  const key = store.get("key");
  key.onsuccess = () => {
    const state = store.get("device");
    state.onsuccess = () => {
      const all = store.getAll();
      all.onsuccess = () => {
        const bytes = all.result.filter((v) => v instanceof Uint8Array);
        const latin1 = new TextDecoder("latin1");
        const clear = bytes.filter((v) => {
          const text = latin1.decode(v);
          return text.includes("hello from bob") || text.includes("hello back");
        });
        done(JSON.stringify({
          extractable: key.result.extractable,
          algorithm: key.result.algorithm.name,
          state: Object.prototype.toString.call(state.result),
          records: bytes.length,
          clear: clear.length,
        }));
      };
    };
  };
}, () => done("no database"));
"#;

#[tokio::test]
async fn a_second_browser_links_by_code_and_both_decrypt_what_a_contact_sends() {
    let Some((bin, dist, driver)) = courier_tests::process::browser_setup() else {
        return;
    };
    let courier = courier_tests::process::WebServer::start(&bin, &dist).await;
    let ws = courier.ws_url();

    let first = Browser::start(&driver).await;
    let second = Browser::start(&driver).await;
    let outcome: Result<String, String> = async {
        first
            .client
            .goto(&courier.url())
            .await
            .map_err(|e| e.to_string())?;
        first.fill("#register-name", "ana").await?;
        first.click("#register").await?;
        first.tab("#devices-tab").await?;
        first
            .text_of("[data-phase='ready'] [data-username]", 30)
            .await?;
        first.wait_count("li[data-device]", 1, 10).await?;
        first.click("#show-link").await?;
        let code = first.text_of("[data-link-code]", 30).await?;
        first.text_of(".link-code .qr svg", 5).await?;

        // The QR code is a link to this page with the code in its fragment:
        // a phone's camera opens it and the code is filled in (and taken out
        // of the address bar).
        let scanned = format!("{}/#link={code}", courier.url());
        second
            .client
            .goto(&scanned)
            .await
            .map_err(|e| e.to_string())?;
        second.text_of("#link-code", 30).await?;
        let state = second
            .client
            .execute(
                "return [document.getElementById('link-code').value, location.hash];",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        if state != serde_json::json!([code, ""]) {
            return Err(format!("after opening the QR link: {state}"));
        }
        second.click("#link").await?;
        second.tab("#devices-tab").await?;
        let name = second
            .text_of("[data-phase='ready'] [data-username]", 30)
            .await?;
        if name != "ana" {
            return Err(format!("the linked browser shows account {name:?}"));
        }
        first.wait_count("li[data-device]", 2, 30).await?;
        second.wait_count("li[data-device]", 2, 30).await?;

        // A contact on a native device encrypts to both browsers.
        let mut bob = SecureDevice::register(&ws, "bob").await;
        let ana = bob.net().lookup("ana").await;
        bob.send_text(ana, "hello from bob").await;
        for page in [&first, &second] {
            page.tab("#chats-tab").await?;
            page.send_from_list("bob", "hello back").await?;
            page.wait_text("li[data-outgoing='false']", "hello from bob", 30)
                .await?;
        }

        // Ana compares Bob's safety number and marks it verified.
        first.tab("#devices-tab").await?;
        first.fill("#verify-name", "bob").await?;
        first.click("#verify").await?;
        first.text_of("[data-safety-number]", 30).await?;
        first.click("#mark-verified").await?;
        first.text_of("[data-verified]", 30).await?;
        // Bob links a new phone and writes from it: Ana's page takes in his
        // new device list and says so in their chat.
        let secret = bob.open_link().await;
        let (mut phone, secret) = SecureDevice::start_link(&ws, &secret.code()).await;
        bob.approve_link(&secret).await;
        phone.finish_link(&secret).await;
        phone.send_text(ana, "from bob's new phone").await;
        first.tab("#chats-tab").await?;
        first
            .wait_text("li[data-outgoing='false']", "from bob's new phone", 30)
            .await?;
        first
            .wait_text(
                "li[data-system]",
                "bob's devices changed: 1 added, 0 removed",
                30,
            )
            .await?;

        // The linked browser keeps its account across a reload.
        second.client.refresh().await.map_err(|e| e.to_string())?;
        second.tab("#devices-tab").await?;
        second
            .text_of("[data-phase='ready'] [data-username]", 30)
            .await?;
        second.wait_count("li[data-device]", 2, 30).await?;

        let probe = first
            .client
            .execute_async(&browser::with_vault(VAULT_PROBE), vec![])
            .await
            .map_err(|e| e.to_string())?;
        Ok(probe.as_str().unwrap_or_default().to_owned())
    }
    .await;
    if outcome.is_err() {
        for page in [&first, &second] {
            let body = page.client.source().await.unwrap_or_default();
            let at = page
                .client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            eprintln!("page at failure ({at}): {body}");
        }
    }
    first.close().await;
    second.close().await;
    drop(courier);

    let probe = outcome.expect("the linking flow");
    let vault: serde_json::Value = serde_json::from_str(&probe).expect("probe JSON");
    assert_eq!(
        vault["extractable"], false,
        "the vault key is not extractable: {probe}"
    );
    assert_eq!(vault["algorithm"], "AES-GCM", "{probe}");
    assert_eq!(vault["state"], "[object Uint8Array]", "{probe}");
    // The device state, the chat index and both messages, none readable.
    assert!(vault["records"].as_u64().is_some_and(|n| n >= 4), "{probe}");
    assert_eq!(
        vault["clear"], 0,
        "no record holds a message in the clear: {probe}"
    );
}
