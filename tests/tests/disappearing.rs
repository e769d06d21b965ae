//! Disappearing messages (#19 item 7) in real Chromium: Ana turns the
//! timer of her chat with Ben on; Ben and Ana's second device show the
//! line and the setting; what Ana writes from then on is marked with when
//! it disappears. A day later by the pages' clocks (shifted through the
//! DevTools protocol, across a reload), every device has deleted it and
//! kept what was written before the timer.

use courier_tests::browser::{Browser, chromium_pages, close_all};

/// Sets the open chat's timer to `seconds` through its menu.
async fn set_timer(page: &Browser, seconds: u32) -> Result<(), String> {
    page.js(&format!(
        "const s = document.getElementById('disappearing'); s.value = '{seconds}'; \
         s.dispatchEvent(new Event('change', {{ bubbles: true }}));"
    ))
    .await
    .map(|_| ())
}

/// From the next page load on, the page's clock runs `hours` ahead.
async fn clock_ahead(page: &Browser, hours: u64) -> Result<(), String> {
    let source = format!(
        "{{ const real = Date.now; const ahead = {hours} * 3600 * 1000; \
         Date.now = () => real.call(Date) + ahead; }}"
    );
    page.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": source }),
    )
    .await
    .map(|_| ())
}

#[tokio::test]
async fn a_chat_timer_deletes_new_messages_on_every_device_when_their_time_is_up() {
    let Some((_courier, url, [ana, ben, ana2])) = chromium_pages().await else {
        return;
    };
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        ana2.link_from(&ana, &url).await?;
        ana.tab("#chats-tab").await?;
        ana.start_chat("ben").await?;
        ana.send("kept for good").await?;
        for page in [&ben, &ana2] {
            page.click("button[data-chat]").await?;
            page.wait_text("li[data-message]", "kept for good", 30).await?;
        }

        set_timer(&ana, 24 * 3600).await?;
        for page in [&ana, &ben, &ana2] {
            page.wait_text("li[data-system]", "turned on disappearing messages", 30)
                .await?;
            page.wait_js(
                "return document.querySelector('#disappearing[data-timer=\"86400\"]') !== null;",
                "timer shown as 24 hours",
            )
            .await?;
        }
        ana.send("gone tomorrow").await?;
        for page in [&ben, &ana2] {
            page.wait_text("li[data-message]", "gone tomorrow", 30).await?;
            page.wait_js(
                "return [...document.querySelectorAll('li[data-message]')].some((li) => \
                 li.textContent.includes('gone tomorrow') && li.querySelector('[data-expires]'));",
                "disappearing mark on the new message",
            )
            .await?;
        }
        let marked = ben
            .js("return [...document.querySelectorAll('li[data-message]')].filter((li) => \
                 li.textContent.includes('kept for good') && li.querySelector('[data-expires]')).length;")
            .await?;
        if marked != 0 {
            return Err("a message written before the timer is marked to disappear".into());
        }

        // A day and an hour later, by every page's clock.
        for page in [&ana, &ben, &ana2] {
            clock_ahead(page, 25).await?;
            page.reload().await?;
            page.click("button[data-chat]").await?;
            page.wait_text("li[data-message]", "kept for good", 60).await?;
            page.wait_no_text("li[data-message]", "gone tomorrow", 30).await?;
        }
        // Gone from the chat list's preview too, and it stays gone.
        ben.wait_no_text("button[data-chat]", "gone tomorrow", 30).await?;
        ben.reload().await?;
        ben.click("button[data-chat]").await?;
        ben.wait_text("li[data-message]", "kept for good", 60).await?;
        if ben.has_text("li[data-message]", "gone tomorrow").await? {
            return Err("the message came back after a reload".into());
        }
        Ok(())
    }
    .await;
    let failed = outcome.is_err();
    close_all([("ana", ana), ("ben", ben), ("ana2", ana2)], failed).await;
    outcome.expect("disappearing messages");
}
