//! Local search (#19 item 3) in real Chromium: Ana chats with Ben and Cyd,
//! then searches her history on her device. A query finds every message
//! with its words as word starts, newest first, across chats or inside
//! one; a result opens its chat and shows the message in context, loading
//! history back to it. After a reload the index is read back from the
//! vault, and a message that arrived since is found too.

use courier_tests::browser::{Browser, chromium_pages, close_all};

/// Types `query` into the open search panel.
async fn search_for(page: &Browser, query: &str) -> Result<(), String> {
    page.js(&format!(
        "const i = document.getElementById('search-input'); i.value = {query:?}; \
         i.dispatchEvent(new Event('input', {{ bubbles: true }})); return true;"
    ))
    .await
    .map(|_| ())
}

/// The texts of the results shown, in order, once the panel says `status`.
async fn results(page: &Browser, status: &str) -> Result<Vec<String>, String> {
    page.wait_text("[data-search-status]", status, 60).await?;
    let texts = page
        .js(
            "return [...document.querySelectorAll('[data-search-result] .search-text')]\
             .map((e) => e.textContent);",
        )
        .await?;
    serde_json::from_value(texts).map_err(|e| e.to_string())
}

/// Opens the chat named `name` from the list.
async fn open_chat(page: &Browser, name: &str) -> Result<(), String> {
    page.wait_text("button[data-chat]", name, 30).await?;
    page.js(&format!(
        "[...document.querySelectorAll('button[data-chat]')]\
         .find((b) => b.querySelector('.chat-name').textContent === {name:?}).click(); return true;"
    ))
    .await?;
    page.wait_text("[data-peer-name]", name, 30).await
}

#[tokio::test]
async fn search_finds_messages_across_chats_and_shows_them_in_context_after_a_reload() {
    let Some((courier, url, [ana, ben, cy])) = chromium_pages().await else {
        return;
    };
    let outcome: Result<(), String> = async {
        for (page, name) in [(&ana, "ana"), (&ben, "ben"), (&cy, "cyd")] {
            page.register(&url, name).await?;
        }
        ana.start_chat("ben").await?;
        ana.send("Banana bread tonight?").await?;
        ben.click("button[data-chat]").await?;
        ben.send("Only if you bring the BANANAS").await?;
        ana.wait_text("li[data-outgoing='false']", "BANANAS", 30)
            .await?;
        // More than a page after them, so that the first result's bubble
        // is not loaded when the chat opens.
        ana.send_many("filler", 55).await?;
        ben.wait_text("li[data-outgoing='false']", "filler 54", 60)
            .await?;
        ana.start_chat("cyd").await?;
        ana.send("Bananas are yellow; naïve question").await?;
        cy.wait_text("button[data-chat]", "Bananas are yellow", 30)
            .await?;

        // Across chats: every message with a word starting "banan",
        // newest first, the words marked.
        ana.click("#search-open").await?;
        search_for(&ana, "banan").await?;
        let found = results(&ana, "3 messages").await?;
        let expected = [
            "Bananas are yellow; naïve question",
            "Only if you bring the BANANAS",
            "Banana bread tonight?",
        ];
        if found != expected {
            return Err(format!("found {found:?}"));
        }
        let marked = ana
            .js("return [...document.querySelectorAll('[data-search-result] mark')].map((m) => m.textContent);")
            .await?;
        if marked != serde_json::json!(["Bananas", "BANANAS", "Banana"]) {
            return Err(format!("marked {marked}"));
        }
        search_for(&ana, "grapes").await?;
        results(&ana, "No messages found.").await?;
        search_for(&ana, "NAÏVE ban").await?;
        if results(&ana, "1 message").await? != [expected[0]] {
            return Err("two words: not the one message with both".into());
        }

        // A result opens its chat at the message, loading history back.
        search_for(&ana, "banana bread").await?;
        results(&ana, "1 message").await?;
        ana.click("[data-search-result]").await?;
        ana.wait_text("[data-peer-name]", "ben", 30).await?;
        ana.wait_js(
            "const shown = document.querySelector('li[data-revealed]');\
             if (!shown || !shown.textContent.includes('Banana bread tonight?')\
                 || document.getElementById('search')) return false;\
             const list = document.querySelector('ol.messages').getBoundingClientRect();\
             const at = shown.getBoundingClientRect();\
             return at.bottom > list.top && at.top < list.bottom;",
            "the result's message in view, with the panel closed",
        )
        .await?;

        // Inside one chat: only its messages.
        ana.click("#search-chat").await?;
        search_for(&ana, "banan").await?;
        if results(&ana, "2 messages").await? != expected[1..] {
            return Err("the chat's search shows another chat's message".into());
        }

        // The index is sealed in the vault: after a reload it is read back,
        // and what arrived since is found as well.
        ana.reload().await?;
        open_chat(&ben, "ana").await?;
        ben.send("banana split for dessert").await?;
        ana.wait_text("button[data-chat]", "banana split", 60)
            .await?;
        ana.click("#search-open").await?;
        search_for(&ana, "banana").await?;
        let found = results(&ana, "4 messages").await?;
        if found.first().map(String::as_str) != Some("banana split for dessert") {
            return Err(format!("after the reload: {found:?}"));
        }
        if let Ok(dir) = std::env::var("COURIER_SCREENSHOTS") {
            ana.screenshot(&std::path::Path::new(&dir).join("search.png"))
                .await?;
        }
        Ok(())
    }
    .await;
    close_all([("ana", ana), ("ben", ben), ("cy", cy)], outcome.is_err()).await;
    drop(courier);
    outcome.expect("search in the browser");
}
