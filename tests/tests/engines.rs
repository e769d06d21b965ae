//! The core journeys in Firefox ESR and in WebKitGTK, each user of those
//! engines talking to a Chromium user (the full suite runs in Chromium
//! only): sign up; chat both ways with read marks; a photo and a voice note
//! both ways (each engine records its own format, and the other plays it);
//! history and the outbox across a reload while the server is down (the
//! service worker serves the page); a second device linked by code. One
//! test per engine, and a shorter one in which a Firefox user and a
//! WebKitGTK user exchange a photo and voice notes; `cargo xtask test` runs
//! them one at a time.

use courier_tests::browser::{Browser, COMMAND_LIMIT, Engine, close_all, within};
use courier_tests::journey;
use courier_tests::process::{WebServer, browser_setup};
use std::time::Duration;

#[tokio::test]
async fn firefox_signs_up_chats_with_chromium_sends_media_keeps_history_and_links() {
    with_chromium(Engine::Firefox).await;
}

#[tokio::test]
async fn webkit_signs_up_chats_with_chromium_sends_media_keeps_history_and_links() {
    with_chromium(Engine::WebKit).await;
}

#[tokio::test]
async fn firefox_and_webkit_users_exchange_a_photo_and_voice_notes() {
    let Some((bin, dist, _)) = browser_setup() else {
        return;
    };
    let (Some(gecko), Some(webkit)) = (Engine::Firefox.driver(), Engine::WebKit.driver()) else {
        return;
    };
    let courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let fox = Browser::launch(Engine::Firefox, &gecko).await;
    let kit = Browser::launch(Engine::WebKit, &webkit).await;
    let step = std::cell::Cell::new("sign up, chat and photos");
    let steps = async {
        fox.register(&url, "fox").await?;
        kit.register(&url, "kit").await?;
        fox.start_chat("kit").await?;
        fox.send("hello from Firefox").await?;
        kit.send_from_list("fox", "hello from WebKitGTK").await?;
        fox.wait_text("li[data-outgoing='false']", "hello from WebKitGTK", 30)
            .await?;
        fox.fill("#attach-file", &icon()).await?;
        photo_opens(&kit)
            .await
            .map_err(|e| format!("Firefox → WebKitGTK: {e}"))?;
        kit.fill("#attach-file", &icon()).await?;
        photo_opens(&fox)
            .await
            .map_err(|e| format!("WebKitGTK → Firefox: {e}"))?;
        step.set("voice notes");
        record(&fox).await?;
        let heard = plays(&kit)
            .await
            .map_err(|e| format!("Firefox → WebKitGTK: {e}"))?;
        println!("Firefox recorded {heard}, which WebKitGTK played");
        record(&kit).await?;
        let heard = plays(&fox)
            .await
            .map_err(|e| format!("WebKitGTK → Firefox: {e}"))?;
        println!("WebKitGTK recorded {heard}, which Firefox played");
        // A browser without MediaRecorder says so when the button is held.
        fox.js("delete window.MediaRecorder; return true;").await?;
        record(&fox).await?;
        fox.wait_text(
            "[data-notice]",
            "Voice notes cannot be recorded in this browser: it has no MediaRecorder",
            10,
        )
        .await
    };
    let outcome = bounded(steps, &step).await;
    close_all([("fox", fox), ("kit", kit)], outcome.is_err()).await;
    server_log_on_failure(&courier, &outcome).await;
    drop(courier);
    outcome.unwrap_or_else(|err| panic!("Firefox ↔ WebKitGTK: {err}"));
}

/// `steps`, given at most [`JOURNEY_LIMIT`]: a WebDriver command can hang
/// (no driver bounds them), and CI must not. The error names the `step`
/// under way.
async fn bounded(
    steps: impl std::future::Future<Output = Result<(), String>>,
    step: &std::cell::Cell<&str>,
) -> Result<(), String> {
    tokio::time::timeout(JOURNEY_LIMIT, steps)
        .await
        .unwrap_or_else(|_| Err(format!("stuck at {} for {JOURNEY_LIMIT:?}", step.get())))
}

/// Prints the end of the server's log when the journey failed (sessions
/// refused or timed out show there).
async fn server_log_on_failure(courier: &WebServer, outcome: &Result<(), String>) {
    if outcome.is_ok() {
        return;
    }
    let log = courier.process.log();
    let lines: Vec<&str> = log.lines().collect();
    let tail = &lines[lines.len().saturating_sub(40)..];
    eprintln!("the server's log at failure:\n{}", tail.join("\n"));
    let metrics = match reqwest::get(courier.metrics_url()).await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(err) => err.to_string(),
    };
    let frames: Vec<&str> = metrics
        .lines()
        .filter(|line| line.starts_with("courier_frames_in") || line.starts_with("frames_in"))
        .collect();
    eprintln!("frames the server read: {}", frames.join("; "));
}

/// How long a journey may take (they take 10 to 20 s here).
const JOURNEY_LIMIT: Duration = Duration::from_secs(180);

/// The photo the tests send: the 512 px app icon.
fn icon() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("public")
        .join("icon-512.png");
    let path = path.canonicalize().expect("the icon");
    path.display().to_string()
}

/// The journey of `engine`'s user Ana with Chromium's user Ben.
async fn with_chromium(engine: Engine) {
    let Some((bin, dist, chromedriver)) = browser_setup() else {
        return;
    };
    let Some(driver) = engine.driver() else {
        return;
    };
    let started = std::time::Instant::now();
    let mut courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let photo = icon();
    let ana = Browser::launch(engine, &driver).await;
    let ben = Browser::start(&chromedriver).await;
    let ana2 = Browser::launch(engine, &driver).await;
    let name = engine.name();
    let step = std::cell::Cell::new("sign up and chat");
    let steps = async {
        // Sign up, and chat both ways with read marks.
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        ana.start_chat("ben").await?;
        ana.send(&format!("hello from {name}")).await?;
        ben.wait_text("button[data-chat][data-unread='1']", name, 30)
            .await?;
        ben.click("button[data-chat]").await?;
        ana.wait_mark("read").await?;
        ben.send("hello back from Chromium").await?;
        ana.wait_text("li[data-outgoing='false']", "hello back from Chromium", 30)
            .await?;

        // A photo each way: compressed by the sender's canvas, opened by
        // the other engine.
        step.set("photos");
        ana.fill("#attach-file", &photo).await?;
        photo_opens(&ben)
            .await
            .map_err(|e| format!("{name} → Chromium: {e}"))?;
        ben.fill("#attach-file", &photo).await?;
        photo_opens(&ana)
            .await
            .map_err(|e| format!("Chromium → {name}: {e}"))?;

        // A voice note each way, in whatever format the sender records.
        step.set("voice notes");
        record(&ana).await?;
        let heard = plays(&ben)
            .await
            .map_err(|e| format!("{name} → Chromium: {e}"))?;
        println!("{name} recorded {heard}, which Chromium played");
        record(&ben).await?;
        let heard = plays(&ana)
            .await
            .map_err(|e| format!("Chromium → {name}: {e}"))?;
        println!("Chromium recorded {heard}, which {name} played");

        // The server goes down: Ana writes anyway and reloads; the service
        // worker serves the page, the history and the waiting message are
        // still there, and it goes out when the server is back.
        step.set("the outbox across an offline reload");
        journey::outbox_across_a_reload(&mut courier, &ana, &ben, "hello back from Chromium")
            .await?;

        // Ana links a second browser of the same engine by code; Ben's next
        // message reaches both, and the new device can write.
        step.set("linking a second device");
        ana2.link_from(&ana, &url).await?;
        ana.wait_count("li[data-device]", 2, 30).await?;
        ben.send("to both of your devices").await?;
        ana2.wait_text("button[data-chat]", "both of your devices", 30)
            .await?;
        ana.tab("#chats-tab").await?;
        ana.wait_text("li[data-outgoing='false']", "to both of your devices", 30)
            .await?;
        ana2.send_from_list("ben", "from my second device").await?;
        ben.wait_text("li[data-outgoing='false']", "from my second device", 30)
            .await
    };
    let outcome = bounded(steps, &step).await;
    close_all(
        [("ana", ana), ("ben", ben), ("ana2", ana2)],
        outcome.is_err(),
    )
    .await;
    server_log_on_failure(&courier, &outcome).await;
    drop(courier);
    println!("{name} ↔ Chromium journey: {:.0?}", started.elapsed());
    outcome.unwrap_or_else(|err| panic!("{name} ↔ Chromium: {err}"));
}

/// Waits until the last incoming photo in `page` is decrypted and open at
/// its full 512 px.
async fn photo_opens(page: &Browser) -> Result<(), String> {
    page.wait_js(
        "const imgs = document.querySelectorAll('li[data-outgoing=false] img[data-full]');\
         const img = imgs[imgs.length - 1];\
         return !!img && img.complete && img.naturalWidth === 512;",
        "a decrypted photo",
    )
    .await
}

/// Holds the record button in `page` for a second and a half.
async fn record(page: &Browser) -> Result<(), String> {
    let press = |kind: &str| {
        format!(
            "document.getElementById('record').dispatchEvent(\
             new PointerEvent('{kind}', {{bubbles: true}})); return true;"
        )
    };
    page.js(&press("pointerdown")).await?;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    page.js(&press("pointerup")).await?;
    Ok(())
}

/// Waits until `page` shows the last incoming voice note (one second long),
/// plays it until its position moves, and decodes it with Web Audio; the
/// type and decoded length of what it played. (Firefox here has no audio
/// output device: it reports `OnMediaSinkAudioError` once playback reaches
/// the end, so the position and the decoding are what is checked.)
async fn plays(page: &Browser) -> Result<String, String> {
    page.wait_text(
        "li[data-outgoing='false'] [data-voice] [data-duration]",
        "0:01",
        30,
    )
    .await?;
    let last_audio = "const all = document.querySelectorAll('li[data-outgoing=false] audio[data-audio]');\
                      const a = all[all.length - 1];";
    page.wait_js(
        &format!("{last_audio} if (!a || a.readyState < 1) return false; a.play(); return true;"),
        "the voice note loading",
    )
    .await?;
    let heard = page
        .wait_js(
            &format!("{last_audio} return a.currentTime > 0.2 || a.ended;"),
            "the voice note playing",
        )
        .await;
    if let Err(err) = heard {
        let shown = page
            .js(&format!(
                "{last_audio} const e = document.querySelector('[data-voice] [data-media-error]');\
                 return JSON.stringify({{shown: e && e.textContent, audio: !!a,\
                 error: a && a.error && [a.error.code, a.error.message],\
                 ready: a && a.readyState, network: a && a.networkState,\
                 duration: a && a.duration, time: a && a.currentTime, paused: a && a.paused}});"
            ))
            .await?;
        return Err(format!("{err} ({shown})"));
    }
    let decoded = within(
        COMMAND_LIMIT,
        "decoding the voice note",
        page.client.execute_async(
            &format!(
                "const done = arguments[arguments.length - 1]; {last_audio}\
                 fetch(a.src).then((r) => r.blob()).then(async (b) => {{\
                   const audio = await new AudioContext().decodeAudioData(await b.arrayBuffer());\
                   done([b.type, audio.duration]);\
                 }}).catch((e) => done(['not decoded', String(e)]));"
            ),
            vec![],
        ),
    )
    .await?;
    match decoded.as_array().map(Vec::as_slice) {
        Some([kind, seconds]) if seconds.as_f64().is_some_and(|s| s > 0.5) => Ok(format!(
            "{} ({:.1} s decoded)",
            kind.as_str().unwrap_or_default(),
            seconds.as_f64().unwrap_or_default()
        )),
        _ => Err(format!("the voice note does not decode: {decoded}")),
    }
}
