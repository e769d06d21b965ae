//! The app lock (#16 item 4) in Chromium: with a passkey (a virtual
//! authenticator with the PRF extension, over the DevTools protocol) and
//! with a passphrase, the page opens locked, unlocks, and has its chats;
//! a copy of the whole profile directory, opened in another browser, stays
//! locked, and no value in its IndexedDB opens the device record. Also
//! (#16, low): each vault record is bound to its name, so a record moved
//! under another name is refused, and records from before that open once
//! and are bound from then on.

use courier_tests::browser::{Browser, copy_profile, with_vault};
use courier_tests::process::{WebServer, browser_setup};
use courier_tests::secure::SecureDevice;
use std::time::{Duration, Instant};

/// What the profile's IndexedDB holds, as JSON: its storage buckets, how
/// many values are WebCrypto keys, whether the lock record and the device
/// record are there, and how many of the keys open the device record
/// (bound to its name, or in the format before names).
const KEYS_PROBE: &str = r#"
const done = arguments[arguments.length - 1];
openVault().then((db) => {
  const store = db.transaction("vault").objectStore("vault");
  // Answered in order: the last request's answer comes after the others'.
  const device = store.get("device");
  const lock = store.get("lock");
  const all = store.getAll();
  all.onsuccess = async () => { try {
    const keys = all.result.filter((v) => v instanceof CryptoKey);
    const sealed = device.result;
    const purpose = new TextEncoder().encode("courier/v1/device-state");
    const named = new Uint8Array([...purpose, 0, ...new TextEncoder().encode("device")]);
    let opened = 0;
    for (const key of keys) {
      for (const additionalData of [named, purpose]) {
        try {
          await crypto.subtle.decrypt(
            { name: "AES-GCM", iv: sealed.slice(0, 12), additionalData }, key, sealed.slice(12));
          opened += 1;
        } catch (_) {}
      }
    }
    done(JSON.stringify({
      buckets: await navigator.storageBuckets.keys(),
      keys: keys.length,
      lock: lock.result instanceof Uint8Array,
      device: sealed instanceof Uint8Array,
      opened,
    }));
  } catch (e) { done(JSON.stringify({ error: String(e) })); } };
}, () => done(JSON.stringify({ error: "no database" })));
"#;

/// The sealed device record's bytes, hex.
const DEVICE_BYTES: &str = r#"
const done = arguments[arguments.length - 1];
openVault().then((db) => {
  const get = db.transaction("vault").objectStore("vault").get("device");
  get.onsuccess = () => done(get.result instanceof Uint8Array
    ? [...get.result].map((b) => b.toString(16).padStart(2, "0")).join("")
    : `no device record: ${get.result}`);
}, () => done("no database"));
"#;

async fn probe(page: &Browser, script: &str) -> Result<serde_json::Value, String> {
    let raw = page
        .client
        .execute_async(&with_vault(script), vec![])
        .await
        .map_err(|e| e.to_string())?;
    match raw.as_str() {
        Some(json) => serde_json::from_str(json).map_err(|e| e.to_string()),
        None => Ok(raw),
    }
}

/// The page's address as `localhost` (a passkey's relying party must be a
/// domain name, never an IP address).
fn localhost(server: &WebServer) -> String {
    server.url().replace("127.0.0.1", "localhost")
}

/// A virtual platform authenticator with user verification and PRF.
async fn add_authenticator(page: &Browser) -> Result<(), String> {
    page.cdp("WebAuthn.enable", serde_json::json!({})).await?;
    let options = serde_json::json!({ "options": {
        "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal",
        "hasResidentKey": true, "hasUserVerification": true, "isUserVerified": true,
        "hasPrf": true, "automaticPresenceSimulation": true,
    }});
    page.cdp("WebAuthn.addVirtualAuthenticator", options)
        .await?;
    Ok(())
}

/// Ana signs up at `url`; Bob (a native device) writes to her; she reads it.
async fn ana_with_a_chat(page: &Browser, url: &str, ws: &str) -> Result<SecureDevice, String> {
    page.register(url, "ana").await?;
    let mut bob = SecureDevice::register(ws, "bob").await;
    let ana = bob.net().lookup("ana").await;
    bob.send_text(ana, "hello from bob").await;
    page.wait_text("button[data-chat]", "bob", 30).await?;
    page.click("button[data-chat]").await?;
    page.wait_text("li[data-outgoing='false']", "hello from bob", 30)
        .await?;
    Ok(bob)
}

/// Waits for the lock screen.
async fn locked(page: &Browser) -> Result<(), String> {
    page.text_of("main[data-phase='locked'] [data-lock-screen]", 30)
        .await
        .map(|_| ())
}

/// Waits for the signed-in page with Bob's chat and his message; the time
/// it took from `since`.
async fn chats_back(page: &Browser, since: Instant) -> Result<Duration, String> {
    page.text_of("[data-phase='ready'] .chat-list", 60).await?;
    let took = since.elapsed();
    page.wait_text("button[data-chat]", "bob", 30).await?;
    page.click("button[data-chat]").await?;
    page.wait_text("li[data-outgoing='false']", "hello from bob", 30)
        .await?;
    Ok(took)
}

/// Checks a copy's IndexedDB: no key in it, the lock record and the device
/// record are there, and nothing opens the device record.
async fn nothing_opens(page: &Browser) -> Result<(), String> {
    let found = probe(page, KEYS_PROBE).await?;
    // Made in bucket 1, the vault moved to bucket 2 when the lock went on.
    let expected = serde_json::json!({
        "buckets": ["courier-vault-2"], "keys": 0, "lock": true, "device": true, "opened": 0,
    });
    if found != expected {
        return Err(format!("the copy's IndexedDB holds {found}"));
    }
    Ok(())
}

/// Whether the profile's files hold `hex` (bytes the page once stored).
fn files_hold(dir: &std::path::Path, hex: &str) -> bool {
    let needle: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_slice())
            {
                return true;
            }
        }
    }
    false
}

#[tokio::test]
async fn a_passkey_locks_the_vault_and_a_copied_profile_stays_locked() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let server = WebServer::start(&bin, &dist).await;
    let url = localhost(&server);
    let page = Browser::start(&driver).await;
    let outcome: Result<(String, Duration), String> = async {
        page.goto(&url).await?;
        add_authenticator(&page).await?;
        let mut bob = ana_with_a_chat(&page, &url, &server.ws_url()).await?;
        let before = page
            .client
            .execute_async(&with_vault(DEVICE_BYTES), vec![])
            .await
            .map_err(|e| e.to_string())?;

        eprintln!("ana has a chat; locking with a passkey");
        page.tab("#devices-tab").await?;
        page.click("#lock-passkey").await?;
        page.text_of("[data-app-lock='passkey'] [data-lock-on]", 30)
            .await?;
        nothing_opens(&page).await?;

        eprintln!("locked; reloading");
        page.reload().await?;
        locked(&page).await?;
        let since = Instant::now();
        page.click("#unlock-passkey").await?;
        let took = chats_back(&page, since).await?;
        // The unlocked device still decrypts what arrives.
        let ana = bob.net().lookup("ana").await;
        bob.send_text(ana, "after the unlock").await;
        page.wait_text("li[data-outgoing='false']", "after the unlock", 30)
            .await?;
        Ok((before.as_str().unwrap_or_default().to_owned(), took))
    }
    .await;
    let failed = outcome.is_err();
    let profile = page.close_keeping_profile().await;
    let (before, took) = outcome.expect("the passkey lock");
    assert!(!failed);
    eprintln!("passkey unlock to the chat list: {took:?}");

    // Someone copies the profile directory and opens it in a browser of
    // theirs: it has no passkey; the page stays locked and nothing in
    // IndexedDB opens the device record.
    let copy = copy_profile(profile.path());
    // The vault moved to a new storage bucket when the lock went on, and
    // the old bucket's files went with the bucket: no leftover of the
    // device record (nor of the key) sealed before the lock is in them.
    assert!(
        !files_hold(copy.path(), &before),
        "the profile's files still hold the device record sealed before the lock"
    );
    let thief = Browser::start_in(&driver, copy).await;
    let seen: Result<(), String> = async {
        thief.goto(&url).await?;
        locked(&thief).await?;
        nothing_opens(&thief).await?;
        // With an authenticator that lacks the passkey, the unlock fails
        // with a reason and the page stays locked.
        add_authenticator(&thief).await?;
        thief.click("#unlock-passkey").await?;
        thief.text_of("[data-lock-error]", 60).await?;
        locked(&thief).await
    }
    .await;
    thief.close().await;
    seen.expect("the copied profile stays locked");
}

#[tokio::test]
async fn a_passphrase_locks_the_vault_refuses_a_wrong_one_and_turns_off() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let server = WebServer::start(&bin, &dist).await;
    let url = localhost(&server);
    let page = Browser::start(&driver).await;
    let outcome: Result<Duration, String> = async {
        ana_with_a_chat(&page, &url, &server.ws_url()).await?;
        page.tab("#devices-tab").await?;
        page.fill("#lock-passphrase", "correct horse battery")
            .await?;
        page.fill("#lock-passphrase-again", "correct horse battery")
            .await?;
        page.click("#lock-with-passphrase").await?;
        page.text_of("[data-app-lock='passphrase'] [data-lock-on]", 60)
            .await?;
        nothing_opens(&page).await?;

        page.reload().await?;
        locked(&page).await?;
        page.fill("#unlock-passphrase", "wrong horse battery")
            .await?;
        page.click("#unlock").await?;
        page.wait_text("[data-lock-error]", "Wrong passphrase", 60)
            .await?;
        locked(&page).await?;
        page.js("document.getElementById('unlock-passphrase').value = '';")
            .await?;
        page.fill("#unlock-passphrase", "correct horse battery")
            .await?;
        let since = Instant::now();
        page.click("#unlock").await?;
        chats_back(&page, since).await
    }
    .await;
    let failed = outcome.is_err();
    let profile = page.close_keeping_profile().await;
    let took = outcome.expect("the passphrase lock");
    assert!(!failed);
    eprintln!("passphrase unlock (Argon2id, 19 MiB, 2 passes) to the chat list: {took:?}");

    // The copy is locked and holds no key; with the passphrase it opens,
    // and turning the lock off there brings back the lock-free start.
    let copy = copy_profile(profile.path());
    drop(profile);
    let other = Browser::start_in(&driver, copy).await;
    let seen: Result<(), String> = async {
        other.goto(&url).await?;
        locked(&other).await?;
        nothing_opens(&other).await?;
        other
            .fill("#unlock-passphrase", "correct horse battery")
            .await?;
        other.click("#unlock").await?;
        chats_back(&other, Instant::now()).await?;
        other.tab("#devices-tab").await?;
        other.click("#lock-off").await?;
        other
            .text_of("[data-app-lock='off'] #lock-passkey", 30)
            .await?;
        other.reload().await?;
        chats_back(&other, Instant::now()).await?;
        let found = probe(&other, KEYS_PROBE).await?;
        if found["keys"] != 1 || found["lock"] != false || found["opened"] != 1 {
            return Err(format!("with the lock off, IndexedDB holds {found}"));
        }
        Ok(())
    }
    .await;
    other.close().await;
    seen.expect("the copy opens with the passphrase and turns the lock off");
}

/// Rewrites every record in the format before names (additional data: the
/// purpose only) and drops the format mark, as a build before names left
/// them; then moves the sealed chat index under `profile` if `swap`.
const REWRITE: &str = r#"
const [swap, done] = [arguments[0], arguments[arguments.length - 1]];
openVault().then(async (db) => {
  const read = (f) => new Promise((ok) => { const r = f(db.transaction("vault").objectStore("vault")); r.onsuccess = () => ok(r.result); });
  const key = await read((s) => s.get("key"));
  const names = await read((s) => s.getAllKeys());
  const values = await read((s) => s.getAll());
  const purpose = new TextEncoder().encode("courier/v1/device-state");
  const writes = [];
  for (const [name, value] of names.map((n, j) => [n, values[j]])) {
    if (!(value instanceof Uint8Array) || name === "lock") continue;
    if (swap) {
      if (name === "chats") writes.push(["profile", value]);
      continue;
    }
    const named = new Uint8Array([...purpose, 0, ...new TextEncoder().encode(name)]);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: value.slice(0, 12), additionalData: named }, key, value.slice(12));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: purpose }, key, plain));
    writes.push([name, new Uint8Array([...iv, ...sealed])]);
  }
  const tx = db.transaction("vault", "readwrite");
  for (const [name, value] of writes) tx.objectStore("vault").put(value, name);
  if (!swap) tx.objectStore("vault").delete("format");
  tx.oncomplete = () => done(writes.length);
  tx.onerror = () => done(-1);
});
"#;

#[tokio::test]
async fn vault_records_are_bound_to_their_names_and_old_ones_migrate() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let server = WebServer::start(&bin, &dist).await;
    let url = server.url();
    let page = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        ana_with_a_chat(&page, &url, &server.ws_url()).await?;
        // Records as a build before names sealed them still open (and are
        // sealed again, bound to their names).
        let rewritten = page
            .client
            .execute_async(&with_vault(REWRITE), vec![false.into()])
            .await
            .map_err(|e| e.to_string())?;
        if rewritten.as_i64().unwrap_or(-1) < 4 {
            return Err(format!("rewrote {rewritten} records"));
        }
        page.reload().await?;
        chats_back(&page, Instant::now()).await?;
        let format = page
            .client
            .execute_async(
                &with_vault(
                    r#"const done = arguments[0]; openVault().then((db) => {
                   const g = db.transaction("vault").objectStore("vault").get("format");
                   g.onsuccess = () => done(g.result); });"#,
                ),
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        if format != 2 {
            return Err(format!("after the migration the format mark is {format}"));
        }
        // The chat index moved under another record's name does not open.
        page.client
            .execute_async(&with_vault(REWRITE), vec![true.into()])
            .await
            .map_err(|e| e.to_string())?;
        page.reload().await?;
        page.wait_text(
            "main[data-phase='failed'] [role=alert]",
            "does not open",
            30,
        )
        .await
    }
    .await;
    let failed = outcome.is_err();
    courier_tests::browser::close_all([("ana", page)], failed).await;
    outcome.expect("records bound to their names");
}
