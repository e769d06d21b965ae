//! Reactions, edits and deletes in real Chromium: Ben reacts to Ana's
//! message, Ana edits it and then deletes it for everyone, and Ben deletes
//! one of his for himself; Ana's second device follows every change, and
//! a reload keeps them. Then Ana pins, mutes, archives and marks the chat
//! unread, and her other device keeps it the same way.

use courier_tests::browser::{Browser, chromium_pages, close_all};

/// Opens `details` (a summary) of the first bubble matching `bubble` and
/// clicks `choice` in it; again if the bubble was re-rendered (a new mark
/// closes it) in between.
async fn pick(page: &Browser, bubble: &str, details: &str, choice: &str) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..10 {
        page.click(&format!("{bubble} {details} summary")).await?;
        let open = format!("{bubble} {details}[open] {choice}");
        if page.text_of(&open, 2).await.is_ok() {
            match page.click(&open).await {
                Ok(()) => return Ok(()),
                Err(err) => last = err,
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let probe = format!(
        "const e = document.querySelector(\"{bubble} {details} {choice}\"); \
         if (!e) return 'none'; const r = e.getBoundingClientRect(); \
         return JSON.stringify([r.x, r.y, r.width, r.height, getComputedStyle(e).display, \
         getComputedStyle(e.parentElement).display, e.closest('details').open, e.outerHTML]);"
    );
    let seen = page.js(&probe).await.unwrap_or_default();
    Err(format!("cannot pick {choice} of {bubble}: {last} ({seen})"))
}

/// Picks `action` from the menu of the first bubble matching `bubble`.
async fn menu(page: &Browser, bubble: &str, action: &str) -> Result<(), String> {
    pick(
        page,
        bubble,
        "details.more",
        &format!("[data-action='{action}']"),
    )
    .await
}

#[tokio::test]
async fn reactions_edits_deletes_and_chat_settings_reach_every_device() {
    let Some((courier, url, [ana, ben, ana2])) = chromium_pages().await else {
        return;
    };
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        ana2.link_from(&ana, &url).await?;
        ana.tab("#chats-tab").await?;

        ana.start_chat("ben").await?;
        ana.send("see you at 8").await?;
        ben.click("button[data-chat]").await?;
        ben.wait_text("li[data-outgoing='false']", "see you at 8", 30)
            .await?;
        ana2.click("button[data-chat]").await?;
        ana2.wait_text("li[data-outgoing='true']", "see you at 8", 30)
            .await?;

        // Ben reacts: both of Ana's devices show it, with who reacted.
        let theirs = "li[data-outgoing='false']";
        pick(&ben, theirs, "details.react", "[data-react='👍']").await?;
        for page in [&ana, &ana2] {
            page.wait_text("li[data-outgoing='true'] [data-reaction='👍']", "👍 1", 30)
                .await?;
        }
        let who = ana
            .js("return document.querySelector(\"[data-reaction='👍']\").title;")
            .await?;
        assert_eq!(who.as_str(), Some("ben"), "who reacted");

        // Ben changes it to one from the full set (a lazily loaded module),
        // found by name: it replaces his 👍 everywhere.
        pick(&ben, theirs, "details.react", "[data-react-more]").await?;
        ben.text_of("[data-emoji-set]", 30).await?;
        ben.js(
            "const i = document.querySelector('#emoji-search'); i.value = 'rocket'; \
             i.dispatchEvent(new Event('input', { bubbles: true }));",
        )
        .await?;
        ben.wait_text("[data-emoji-set] .emoji-grid", "🚀", 10)
            .await?;
        let found = ben
            .js("return document.querySelectorAll('[data-emoji-set] [data-emoji]').length;")
            .await?;
        assert_eq!(found.as_u64(), Some(1), "one emoji is named rocket");
        ben.click("[data-emoji-set] [data-emoji='🚀']").await?;
        for page in [&ana, &ana2] {
            page.wait_text("li[data-outgoing='true'] [data-reaction='🚀']", "🚀 1", 30)
                .await?;
            page.wait_no_text("li[data-outgoing='true'] [data-reactions]", "👍", 10)
                .await?;
        }

        // Ana edits her words: the newest text, marked edited, everywhere.
        menu(&ana, "li[data-outgoing='true']", "edit").await?;
        ana.text_of("[data-editing]", 10).await?;
        ana.js("document.querySelector('#composer-text').value = '';")
            .await?;
        ana.send("see you at 9").await?;
        for (page, bubble) in [(&ben, theirs), (&ana2, "li[data-outgoing='true']")] {
            page.wait_text(bubble, "see you at 9", 30).await?;
            page.wait_text(&format!("{bubble} [data-edited]"), "edited", 30)
                .await?;
        }

        // Ana deletes it for everyone; Ben deletes one of his for himself.
        menu(&ana, "li[data-outgoing='true']", "delete-everyone").await?;
        for page in [&ben, &ana2, &ana] {
            page.wait_text("li [data-deleted]", "This message was deleted", 30)
                .await?;
            page.wait_no_text("li[data-message]", "see you at 9", 10)
                .await?;
        }
        ben.send("ok then").await?;
        ana.wait_text("li[data-outgoing='false']", "ok then", 30)
            .await?;
        menu(&ben, "li[data-outgoing='true']", "delete-me").await?;
        ben.wait_no_text("li[data-message]", "ok then", 10).await?;

        // A reload keeps all of it; Ana still has Ben's message.
        ben.client.refresh().await.map_err(|e| e.to_string())?;
        ben.click("button[data-chat]").await?;
        ben.wait_text("li [data-deleted]", "This message was deleted", 30)
            .await?;
        ben.wait_no_text("li[data-message]", "ok then", 5).await?;
        ana.wait_text("li[data-outgoing='false']", "ok then", 5)
            .await?;

        // Ana keeps the chat pinned and muted on her phone: so on her
        // laptop; archived on the laptop, it leaves the phone's list.
        let chat = "aside.chat-list li";
        pick(&ana, chat, "details.chat-menu", "[data-organise='pin']").await?;
        pick(
            &ana,
            chat,
            "details.chat-menu",
            "[data-organise='mute-always']",
        )
        .await?;
        ana2.text_of("li[data-pinned='true'] [data-muted-icon]", 30)
            .await?;
        pick(
            &ana2,
            chat,
            "details.chat-menu",
            "[data-organise='archive']",
        )
        .await?;
        ana.wait_count("aside.chat-list li", 0, 30).await?;
        ana.wait_text("#archived", "Archived (1)", 10).await?;
        ana.click("#archived").await?;
        ana.text_of("li[data-archived='true'][data-pinned='true']", 10)
            .await?;
        // Marked unread on the phone: unread on the laptop too.
        pick(&ana, chat, "details.chat-menu", "[data-organise='unread']").await?;
        ana2.click("#archived").await?;
        ana2.text_of("button[data-marked-unread='true']", 30)
            .await?;
        Ok(())
    }
    .await;
    close_all(
        [("ana", ana), ("ben", ben), ("ana2", ana2)],
        outcome.is_err(),
    )
    .await;
    drop(courier);
    outcome.expect("the changes flow");
}
