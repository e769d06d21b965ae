//! The chat experience in real Chromium, each browser profile a device:
//! two people chat both ways with check marks and typing; messages wait for
//! a closed page; a reload keeps history and the outbox (served offline by
//! the service worker); a linked second device shares the conversation and
//! its read state. (The first load on a slow phone: `first_load.rs`.)

use courier_shared::crypto::content::Plaintext;
use courier_shared::ids::{MessageId, RequestId};
use courier_shared::proto::{ClientFrame, Payload};
use courier_tests::browser::{Browser, close_all};
use courier_tests::journey;
use courier_tests::process::{WebServer, browser_setup};

#[tokio::test]
async fn two_people_chat_with_marks_typing_offline_delivery_reload_and_a_second_device() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let mut courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let metrics = courier.metrics_url();
    let shots = std::env::var("COURIER_SCREENSHOTS")
        .ok()
        .map(std::path::PathBuf::from);

    let ana = Browser::start(&driver).await;
    let ben = Browser::start(&driver).await;
    let ana2 = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;

        // Ana writes; Ben's page is open but not on the chat: two grey checks.
        ana.start_chat("ben").await?;
        ana.send("hello ben").await?;
        ana.wait_text("li[data-outgoing='true']", "hello ben", 30)
            .await?;
        ana.wait_mark("delivered").await?;
        ben.wait_text("button[data-chat][data-unread='1']", "hello ben", 30)
            .await?;
        ben.wait_js(
            "return document.title === '(1) Courier';",
            "(1) in the title",
        )
        .await?;
        // Ben opens it: blue checks, and his title count clears.
        ben.click("button[data-chat]").await?;
        ben.wait_text("li[data-outgoing='false']", "hello ben", 30)
            .await?;
        ana.wait_mark("read").await?;
        ben.wait_js("return document.title === 'Courier';", "a cleared title")
            .await?;

        // Typing appears on Ana's side and clears when Ben sends.
        ben.fill("#composer-text", "hi an").await?;
        ana.wait_text("[data-status]", "typing", 30).await?;
        ben.fill("#composer-text", "a, how are you?").await?;
        ben.click("#send").await?;
        ana.wait_text("li[data-outgoing='false']", "hi ana, how are you?", 30)
            .await?;
        ana.wait_no_text("[data-status]", "typing", 30).await?;

        // Ben closes the page; Ana's messages wait: one grey check.
        ben.goto("about:blank").await?;
        for n in 1..=3 {
            ana.send(&format!("while you were away {n}")).await?;
        }
        ana.wait_text("li[data-outgoing='true']", "while you were away 3", 30)
            .await?;
        ana.wait_mark("sent").await?;
        ben.goto(&url).await?;
        ben.wait_text("button[data-chat][data-unread='3']", "away 3", 30)
            .await?;
        ana.wait_mark("delivered").await?;
        ben.click("button[data-chat]").await?;
        for n in 1..=3 {
            ben.wait_text(
                "li[data-outgoing='false']",
                &format!("while you were away {n}"),
                30,
            )
            .await?;
        }
        ana.wait_mark("read").await?;
        if let Some(dir) = &shots {
            ben.screenshot(&dir.join("conversation.png")).await?;
        }

        // The server goes down: Ana writes anyway ("connecting…" shows),
        // reloads (the service worker serves the page), and the message
        // waits in her outbox until the server is back.
        journey::outbox_across_a_reload(&mut courier, &ana, &ben, "how are you").await?;
        // Presence follows the restart: Ben leaves and comes back, and Ana's
        // header says so.
        ben.goto("about:blank").await?;
        ana.wait_text("[data-status]", "last seen today at", 30)
            .await?;
        ben.goto(&url).await?;
        ana.wait_text("[data-status]", "online", 30).await?;
        ben.click("button[data-chat]").await?;

        // Ana links a second browser; it shares what comes next, and the
        // read state Ana's first device sets.
        ana2.link_from(&ana, &url).await?;
        // Ana is on her devices panel, not looking at the chat: both of her
        // devices show the message unread.
        ben.send("to both of your devices").await?;
        ana2.wait_text(
            "button[data-chat][data-unread='1']",
            "both of your devices",
            30,
        )
        .await?;
        // She reads it on her first device: the second one's count clears.
        ana.tab("#chats-tab").await?;
        ana.wait_text("li[data-outgoing='false']", "to both of your devices", 30)
            .await?;
        ana2.wait_text(
            "button[data-chat][data-unread='0']",
            "both of your devices",
            30,
        )
        .await?;
        ana2.send_from_list("ben", "sent from my second device")
            .await?;
        ana.wait_text("li[data-outgoing='true']", "sent from my second device", 30)
            .await?;
        ben.wait_text(
            "li[data-outgoing='false']",
            "sent from my second device",
            30,
        )
        .await?;
        // Every page acknowledged what it stored: the server's queues drain.
        wait_for_empty_queues(&metrics).await?;
        if let Some(dir) = &shots {
            ana.tab("#chats-tab").await?;
            ana.screenshot(&dir.join("chat-list.png")).await?;
        }
        Ok(())
    }
    .await;
    close_all(
        [("ana", ana), ("ben", ben), ("ana2", ana2)],
        outcome.is_err(),
    )
    .await;
    drop(courier);
    outcome.expect("the chat flow");
}

#[tokio::test]
async fn older_history_loads_on_demand_and_replies_quote_their_message() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let courier = WebServer::start(&bin, &dist).await;
    let ws = courier.ws_url();

    let page = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        // The page's Notification API and visibility are stand-ins the test
        // can read and flip (a headless page is never hidden on its own).
        page.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({ "source": NOTIFICATION_PROBE }),
        )
        .await?;
        page.register(&courier.url(), "ana").await?;
        // A contact on a native device writes 60 messages.
        let mut ben = courier_tests::secure::SecureDevice::register(&ws, "ben").await;
        let ana = ben.net().lookup("ana").await;
        let mut last = None;
        for n in 1..=60 {
            last = Some(ben.send_text(ana, &format!("message {n:02}")).await);
        }
        page.wait_text("button[data-chat][data-unread='60']", "message 60", 60)
            .await?;
        page.click("button[data-chat]").await?;
        page.wait_text("li[data-message]", "message 60", 30).await?;
        // The newest fifty show; the rest wait in local history.
        page.wait_count("li[data-message]", 50, 30).await?;
        // The list scrolls inside the page and the composer stays in view
        // (in a laptop-sized window).
        page.client
            .set_window_size(1200, 760)
            .await
            .map_err(|e| e.to_string())?;
        let layout = page.js("const list = document.querySelector('ol.messages'); \
                 const box = document.querySelector('.chats').getBoundingClientRect(); \
                 const composer = document.getElementById('composer-text').getBoundingClientRect(); \
                 return list.scrollHeight > list.clientHeight && list.scrollTop > 0 \
                     && composer.bottom <= box.bottom && composer.bottom <= innerHeight;").await?;
        if layout.as_bool() != Some(true) {
            return Err("the message list does not scroll with the composer in view".into());
        }
        // Scrolling to the top loads the rest from local history.
        page.js("document.querySelector('ol.messages').scrollTop = 0;").await?;
        page.wait_count("li[data-message]", 60, 30).await?;
        page.wait_text("li[data-message]", "message 01", 5).await?;

        // A reply carries the quoted message, end to end.
        let reply_to_last = "const all = document.querySelectorAll(\
             \"li[data-outgoing='false'] button.reply\"); all[all.length - 1].click();";
        page.js(reply_to_last).await?;
        page.wait_text(".replying", "message 60", 10).await?;
        page.send("quoting you").await?;
        page.wait_text("li[data-outgoing='true'] .quote", "message 60", 10)
            .await?;
        let (_, _, plain) = ben.next_message().await;
        let got = plain?;
        let reply_to = got.reply_to.as_ref().map(|(id, _)| *id);
        match got.text.as_deref() {
            Some("quoting you") if reply_to == last => {}
            text => {
                return Err(format!("ben got {text:?} replying to {reply_to:?}"));
            }
        }

        // Opening the chat asked for permission to notify, during the click
        // (browsers ignore a request made outside a user gesture).
        page.wait_js("return window.__asked.length === 1 && window.__asked[0] === true;",
            "one permission request within the click",
        )
        .await?;
        // Ana switches to another tab: a message from Ben becomes a
        // notification, and the title counts it until she is back.
        page.js("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'));").await?;
        ben.send_text(ana, "are you there?").await;
        let notified = "return window.__notified.some(([title, body]) => \
                        title === 'ben' && body === 'are you there?');";
        page.wait_js(notified, "a notification from ben").await?;
        page.wait_js("return document.title === '(1) Courier';", "(1) in the title").await?;
        page.js("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'));").await?;
        page.wait_js("return document.title === 'Courier';", "the count cleared").await?;
        Ok(())
    }
    .await;
    page.close().await;
    drop(courier);
    outcome.expect("history and replies");
}

/// Replaces `Notification` with a recorder whose permission is granted
/// when asked (counting the asks, and whether a user gesture was active),
/// and makes `document.hidden` follow `window.__hidden`.
const NOTIFICATION_PROBE: &str = "
window.__notified = [];
window.__asked = [];
window.__hidden = false;
window.Notification = class {
  constructor(title, options) { window.__notified.push([title, options && options.body]); }
  static permission = 'default';
  static requestPermission() {
    window.__asked.push(navigator.userActivation.isActive);
    window.Notification.permission = 'granted';
    return Promise.resolve('granted');
  }
};
Object.defineProperty(Document.prototype, 'hidden', { get: () => window.__hidden });
Object.defineProperty(Document.prototype, 'visibilityState', {
  get: () => (window.__hidden ? 'hidden' : 'visible'),
});
";

/// Waits up to 30 s for the `courier_queue_depth` at `metrics` (the
/// server's metrics URL) to reach zero.
async fn wait_for_empty_queues(metrics: &str) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..300 {
        let metrics = reqwest::get(metrics)
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        last = metrics
            .lines()
            .find(|l| l.starts_with("courier_queue_depth "))
            .unwrap_or_default()
            .to_owned();
        if last == "courier_queue_depth 0" {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(format!("the queues did not drain: {last:?}"))
}

#[tokio::test]
async fn days_undecryptable_messages_the_keyboard_phone_width_and_dark_mode() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let courier = WebServer::start(&bin, &dist).await;
    let ws = courier.ws_url();

    let page = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        page.register(&courier.url(), "ana").await?;
        let mut ben = courier_tests::secure::SecureDevice::register(&ws, "ben").await;
        let ana = ben.net().lookup("ana").await;
        // A message written two days ago (its id carries the time), one now,
        // and one whose ciphertext is damaged on the way.
        let two_days_ago = courier_tests::secure::unix_ms() - 2 * 86_400_000;
        let old = MessageId::v7(two_days_ago, [7; 10]);
        ben.send_plain(&Plaintext::text(old, ana, "from two days ago", None))
            .await;
        ben.send_text(ana, "from today").await;
        let damaged = courier_tests::device::new_message_id();
        let to = ben
            .encrypt(&Plaintext::text(damaged, ana, "never readable", None))
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(device, payload)| {
                let mut bytes = payload.into_bytes();
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x40;
                (device, Payload::new(bytes).expect("same size"))
            })
            .collect();
        ben.net()
            .send(ClientFrame::Send {
                request: RequestId::NONE,
                id: damaged,
                to,
            })
            .await;

        // Keyboard only: Enter on the chat opens it, Enter in the composer
        // sends.
        page.wait_text("button[data-chat]", "ben", 30).await?;
        // (`fill` types into the element, looking it up again if the list
        // re-renders it meanwhile.)
        page.fill("button[data-chat]", "\u{E007}").await?;
        page.wait_text("li[data-outgoing='false']", "from today", 30)
            .await?;
        page.wait_text(
            "li[data-undecryptable='true']",
            "could not be decrypted",
            30,
        )
        .await?;
        page.fill("#composer-text", "typed, not clicked\u{E007}")
            .await?;
        page.wait_text("li[data-outgoing='true']", "typed, not clicked", 30)
            .await?;
        let (_, _, plain) = ben.next_message().await;
        if plain?.text.as_deref() != Some("typed, not clicked") {
            return Err("ben did not get the typed message".into());
        }

        // Contacts: Ben became one when his first message came; Ana removes
        // him (he no longer sees her presence or typing), and the choice
        // lasts across a reload.
        page.wait_text("#contact-toggle[data-contact='true']", "Remove contact", 30)
            .await?;
        page.click("#contact-toggle").await?;
        page.wait_text("#contact-toggle[data-contact='false']", "Add contact", 30)
            .await?;
        page.client.refresh().await.map_err(|e| e.to_string())?;
        page.click("button[data-chat]").await?;
        page.wait_text("#contact-toggle[data-contact='false']", "Add contact", 30)
            .await?;
        page.wait_text("li[data-outgoing='false']", "from today", 30)
            .await?;

        // The chat list shows the time of today's last message.
        page.wait_js(
            "return /^\\d\\d:\\d\\d$/.test(document.querySelector('.chat-time').textContent);",
            "a clock time in the chat list",
        )
        .await?;
        // Day separators: the older day first, then "Today".
        let days = page.js("return [...document.querySelectorAll('li.day')].map((d) => d.textContent);").await?;
        let days: Vec<String> = serde_json::from_value(days).map_err(|e| e.to_string())?;
        if days.len() != 2 || days[0] == "Today" || days[1] != "Today" {
            return Err(format!("day separators: {days:?}"));
        }

        // Phone width: one pane at a time, with a way back.
        page.client
            .set_window_size(390, 844)
            .await
            .map_err(|e| e.to_string())?;
        let panes = "const shown = (css) => { const e = document.querySelector(css); \
                         return !!e && getComputedStyle(e).display !== 'none'; }; \
                     return [shown('.chat-list'), shown('.conversation'), shown('.back')];";
        let open = page.js(panes).await?;
        if open != serde_json::json!([false, true, true]) {
            return Err(format!("phone width, chat open: {open}"));
        }
        page.click(".back").await?;
        let listed = page.js(panes).await?;
        if listed != serde_json::json!([true, false, false]) {
            return Err(format!("phone width, back to the list: {listed}"));
        }

        // Dark mode follows the system setting.
        let background =
            "return getComputedStyle(document.documentElement).backgroundColor;";
        let light = page.js(background).await?;
        page.cdp(
            "Emulation.setEmulatedMedia",
            serde_json::json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] }),
        )
        .await?;
        let dark = page.js(background).await?;
        if light != "rgb(240, 242, 245)" || dark != "rgb(11, 20, 26)" {
            return Err(format!("backgrounds: light {light}, dark {dark}"));
        }

        // Every control has a name a screen reader can say.
        let unnamed = page.js("return [...document.querySelectorAll('button, input, textarea')].filter((e) => \
                     !(e.getAttribute('aria-label') || e.textContent.trim() || \
                       (e.id && document.querySelector(`label[for='${e.id}']`)) || \
                       e.closest('label') || e.type === 'file')).map((e) => e.outerHTML);").await?;
        if unnamed != serde_json::json!([]) {
            return Err(format!("controls without a name: {unnamed}"));
        }

        // One tab at a time holds the keys (Web Locks): a second tab waits,
        // and takes over when the first one closes.
        let first = page.client.window().await.map_err(|e| e.to_string())?;
        let second = page
            .client
            .new_window(true)
            .await
            .map_err(|e| e.to_string())?;
        page.client
            .switch_to_window(second.handle)
            .await
            .map_err(|e| e.to_string())?;
        page.goto(&courier.url()).await?;
        page.wait_text("main", "open in another tab", 30).await?;
        page.client
            .switch_to_window(first)
            .await
            .map_err(|e| e.to_string())?;
        page.client.close_window().await.map_err(|e| e.to_string())?;
        let rest = page.client.windows().await.map_err(|e| e.to_string())?;
        let Some(left) = rest.into_iter().next() else {
            return Err("no tab left".into());
        };
        page.client
            .switch_to_window(left)
            .await
            .map_err(|e| e.to_string())?;
        page.text_of("main[data-phase='ready'] .chat-list", 30).await?;
        Ok(())
    }
    .await;
    page.close().await;
    drop(courier);
    outcome.expect("days, undecryptable messages, keyboard, phone width, dark mode");
}
