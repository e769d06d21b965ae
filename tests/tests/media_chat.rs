//! Photos, files and voice notes between browser profiles (Chromium with a
//! fake microphone): the recipient sees the preview at once and the photo
//! decrypted, downloads a file, plays a voice note; a forward reaches a
//! third person without a new upload.

use courier_tests::browser::{Browser, close_all};
use courier_tests::process::{WebServer, browser_setup};
use std::time::Duration;

/// Evaluates `script` (which returns a value) in `page`.
async fn eval(page: &Browser, script: &str) -> Result<serde_json::Value, String> {
    page.client
        .execute(script, Vec::new())
        .await
        .map_err(|e| e.to_string())
}

/// Waits until `script` returns `true` in `page`.
async fn wait_true(page: &Browser, script: &str, what: &str) -> Result<(), String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if eval(page, script).await?.as_bool() == Some(true) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{what}: still false: {script}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits for the incoming file `name` in `page`, downloads it, and gives
/// the content type and text its Save link's `blob:` URL serves.
async fn download_received(page: &Browser, name: &str) -> Result<(String, String), String> {
    page.wait_text("li[data-outgoing='false'] [data-file]", name, 30)
        .await?;
    eval(
        page,
        "document.querySelector('li[data-outgoing=false] [data-file] [data-open-media]').click(); return true;",
    )
    .await?;
    wait_true(
        page,
        "return !!document.querySelector('li[data-outgoing=false] a[data-save]');",
        "the file downloads",
    )
    .await?;
    let got = eval(
        page,
        "const a = document.querySelector('li[data-outgoing=false] a[data-save]');\
         const r = new XMLHttpRequest(); r.open('GET', a.href, false); r.send();\
         return [r.getResponseHeader('content-type'), r.responseText];",
    )
    .await?;
    match got.as_array().map(Vec::as_slice) {
        Some([kind, text]) => Ok((
            kind.as_str().unwrap_or_default().to_owned(),
            text.as_str().unwrap_or_default().to_owned(),
        )),
        _ => Err(format!("the file's blob gave {got}")),
    }
}

#[tokio::test]
async fn a_photo_a_file_and_a_voice_note_reach_the_other_browser() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace");
    let photo = root.join("public").join("icon-512.png");
    let dir = tempfile::tempdir().expect("temp dir");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "FILE-CANARY shopping list").expect("file written");
    let ana = Browser::start(&driver).await;
    let ben = Browser::start(&driver).await;
    let cyra = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        cyra.register(&url, "cyra").await?;
        ana.start_chat("cyra").await?;
        ana.send("hello cyra").await?;
        ana.start_chat("ben").await?;
        ana.send("look at this").await?;
        ben.send_from_list("ana", "show me").await?;

        // A photo: compressed, sealed, uploaded; Ben sees it decrypted.
        ana.fill("#attach-file", &photo.display().to_string()).await?;
        ana.wait_mark("read").await?;
        wait_true(
            &ben,
            "return !!document.querySelector('li[data-outgoing=false] [data-preview]');",
            "the preview shows",
        )
        .await?;
        wait_true(
            &ben,
            "const img = document.querySelector('li[data-outgoing=false] img[data-full]');\
             return !!img && img.complete && img.naturalWidth === 512;",
            "the photo opens",
        )
        .await?;
        // The preview inside the message is tiny: about a kilobyte.
        let preview = eval(
            &ben,
            "const src = document.querySelector('li[data-outgoing=false] [data-preview]').src;\
             return atob(src.split(',')[1]).length;",
        )
        .await?
        .as_u64()
        .unwrap_or(u64::MAX);
        println!("photo preview: {preview} bytes");
        if !(100..=2_048).contains(&preview) {
            return Err(format!("the preview is {preview} bytes"));
        }

        // A file of any type: downloaded when asked for, then saved.
        ana.fill("#attach-file", &notes.display().to_string()).await?;
        let (_, text) = download_received(&ben, "notes.txt").await?;
        if text != "FILE-CANARY shopping list" {
            return Err(format!("the file came out as {text:?}"));
        }

        // A voice note: hold the button for a second and a half.
        eval(
            &ana,
            "document.getElementById('record').dispatchEvent(new PointerEvent('pointerdown', {bubbles: true})); return true;",
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        eval(
            &ana,
            "document.getElementById('record').dispatchEvent(new PointerEvent('pointerup', {bubbles: true})); return true;",
        )
        .await?;
        ben.wait_text("li[data-outgoing='false'] [data-voice] [data-duration]", "0:01", 30)
            .await?;
        wait_true(
            &ben,
            "return document.querySelectorAll('li[data-outgoing=false] [data-voice] .wave i').length > 8;",
            "the waveform shows",
        )
        .await?;
        wait_true(
            &ben,
            "const a = document.querySelector('li[data-outgoing=false] audio[data-audio]');\
             if (!a) return false; a.play(); return a.currentTime > 0.2;",
            "the voice note plays",
        )
        .await?;

        if let Ok(dir) = std::env::var("COURIER_SCREENSHOTS") {
            ben.screenshot(&std::path::Path::new(&dir).join("media.png"))
                .await?;
        }

        // Ana forwards the photo to Cyra: the same object, nothing uploaded.
        eval(
            &ana,
            "const photo = document.querySelector('li[data-outgoing=true] [data-photo]');\
             photo.closest('li').querySelector('[data-forward-to=cyra]').click(); return true;",
        )
        .await?;
        cyra.wait_text("button[data-chat]", "Photo", 30).await?;
        eval(&cyra, "document.querySelector('button[data-chat]').click(); return true;").await?;
        wait_true(
            &cyra,
            "const img = document.querySelector('li[data-outgoing=false] img[data-full]');\
             return !!img && img.complete && img.naturalWidth === 512;",
            "the forwarded photo opens",
        )
        .await?;
        shared_media_shows_its_message_in_context(&ana, &ben).await
    }
    .await;
    close_all(
        [("ana", ana), ("ben", ben), ("cyra", cyra)],
        outcome.is_err(),
    )
    .await;
    drop(courier);
    outcome.expect("media in the browser");
}

/// Ana's photo, file and voice note are in Ben's shared-media panel; once
/// more than a page of messages followed them (so that a reload does not
/// load the photo's bubble), its tile still shows it in the conversation.
async fn shared_media_shows_its_message_in_context(
    ana: &Browser,
    ben: &Browser,
) -> Result<(), String> {
    ana.send_many("filler", 55).await?;
    ben.wait_text("li[data-outgoing='false']", "filler 54", 60)
        .await?;
    ben.reload().await?;
    ben.wait_text("button[data-chat]", "ana", 60).await?;
    ben.click("button[data-chat]").await?;
    ben.wait_text("li[data-outgoing='false']", "filler 54", 30)
        .await?;
    if ben
        .has_text("li[data-outgoing='false'] [data-file]", "notes.txt")
        .await?
    {
        return Err("the file's bubble is loaded: the test shows nothing".into());
    }
    ben.click("#gallery-toggle").await?;
    ben.wait_count(
        "#shared-media [data-gallery-item][data-kind=photo] img",
        1,
        30,
    )
    .await?;
    ben.wait_text("#shared-media [data-kind=file]", "notes.txt", 10)
        .await?;
    ben.wait_text("#shared-media [data-kind=voice]", "Voice note (0:01)", 10)
        .await?;
    let order = eval(
        ben,
        "return [...document.querySelectorAll('#shared-media .gallery-rows [data-kind]')].map((b) => b.dataset.kind);",
    )
    .await?;
    if order != serde_json::json!(["voice", "file"]) {
        return Err(format!("the rows are not newest first: {order}"));
    }
    ben.click("#shared-media [data-kind=photo]").await?;
    wait_true(
        ben,
        "const shown = document.querySelector('li[data-revealed] [data-photo]');\
         if (!shown || document.getElementById('shared-media')) return false;\
         const list = document.querySelector('ol.messages').getBoundingClientRect();\
         const at = shown.getBoundingClientRect();\
         return at.bottom > list.top && at.top < list.bottom;",
        "the photo's message in view, with the panel closed",
    )
    .await?;
    if let Ok(dir) = std::env::var("COURIER_SCREENSHOTS") {
        ben.click("#gallery-toggle").await?;
        ben.wait_count("#shared-media [data-gallery-item]", 3, 30)
            .await?;
        ben.screenshot(&std::path::Path::new(&dir).join("shared-media.png"))
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_changed_object_shows_as_an_error_and_an_upload_can_be_cancelled() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "to be tampered with").expect("file written");
    let big = dir.path().join("big.bin");
    let mut noise = vec![0u8; 1_500_000];
    getrandom::fill(&mut noise).expect("randomness");
    std::fs::write(&big, noise).expect("file written");
    let ana = Browser::start(&driver).await;
    let ben = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        ana.start_chat("ben").await?;
        ana.send("files coming").await?;
        ben.send_from_list("ana", "ok").await?;

        // The object is changed in the store after the upload: Ben's
        // download fails the hash check and says so.
        ana.fill("#attach-file", &small.display().to_string()).await?;
        ben.wait_text("li[data-outgoing='false'] [data-file]", "small.txt", 30)
            .await?;
        let objects = courier.data_dir().join("media").join("media");
        let stored: Vec<_> = std::fs::read_dir(&objects)
            .map_err(|e| format!("{}: {e}", objects.display()))?
            .flatten()
            .map(|entry| entry.path())
            .collect();
        let [object] = stored.as_slice() else {
            return Err(format!("expected one object, found {stored:?}"));
        };
        let mut bytes = std::fs::read(object).map_err(|e| e.to_string())?;
        bytes[20] ^= 0x55;
        std::fs::write(object, bytes).map_err(|e| e.to_string())?;
        eval(
            &ben,
            "document.querySelector('li[data-outgoing=false] [data-file] [data-open-media]').click(); return true;",
        )
        .await?;
        ben.wait_text("[data-media-error]", "does not match its hash", 30)
            .await?;

        // A slow upload is cancelled: the message says so and nothing is sent.
        ana.cdp("Network.enable", serde_json::json!({})).await?;
        let slow = serde_json::json!({
            "offline": false,
            "latency": 50,
            "downloadThroughput": 1_000_000,
            "uploadThroughput": 50_000,
        });
        ana.cdp("Network.emulateNetworkConditions", slow).await?;
        ana.fill("#attach-file", &big.display().to_string()).await?;
        wait_true(
            &ana,
            "const p = document.querySelector('progress[data-upload]'); return !!p && p.value > 0;",
            "the upload shows its progress",
        )
        .await?;
        eval(&ana, "document.querySelector('[data-cancel]').click(); return true;").await?;
        ana.wait_text("li[data-outgoing='true']", "cancelled", 30).await?;
        ana.wait_mark("failed").await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        ben.wait_no_text("li[data-outgoing='false']", "big.bin", 1)
            .await
            .map_err(|_| "a cancelled upload reached the other side".to_owned())
    }
    .await;
    close_all([("ana", ana), ("ben", ben)], outcome.is_err()).await;
    drop(courier);
    outcome.expect("tampering and cancelling");
}

#[tokio::test]
async fn a_received_html_page_is_only_a_download_never_rendered() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("page.html");
    let html = "<script>parent.postMessage('PAGE-RAN', '*')</script>HTML-CANARY";
    std::fs::write(&page, html).expect("file written");
    let ana = Browser::start(&driver).await;
    let ben = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        ana.start_chat("ben").await?;
        ana.send("a page").await?;
        ben.send_from_list("ana", "ok").await?;
        // The sender's browser types the file `text/html`; the message says so.
        ana.fill("#attach-file", &page.display().to_string())
            .await?;
        // Its blob: URL (on the app's origin) holds the bytes as a download
        // type: opened, a browser saves it rather than running it.
        let got = download_received(&ben, "page.html").await?;
        if got != ("application/octet-stream".to_owned(), html.to_owned()) {
            return Err(format!("the received page's blob is {got:?}"));
        }
        // So is the sender's own copy.
        let own = eval(
            &ana,
            "const a = document.querySelector('li[data-outgoing=true] a[data-save]');\
             if (!a) return null;\
             const r = new XMLHttpRequest(); r.open('GET', a.href, false); r.send();\
             return r.getResponseHeader('content-type');",
        )
        .await?;
        if own != serde_json::json!("application/octet-stream") {
            return Err(format!("the sent page's blob is {own}"));
        }
        Ok(())
    }
    .await;
    close_all([("ana", ana), ("ben", ben)], outcome.is_err()).await;
    drop(courier);
    outcome.expect("an HTML page is a download");
}
