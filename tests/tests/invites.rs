//! Group invite links through the real server, on every backend: an admin
//! makes one; a stranger who has it joins, reads what the members write
//! next and writes to them; a new link replaces the old, a revoked one lets
//! nobody in, and only admins make links.

use courier_shared::client::chat::ChatId;
use courier_shared::proto::ErrorCode;
use courier_tests::secure::SecureDevice;
use courier_tests::{backends, spawn_app};

fn has_text(device: &SecureDevice, chat: ChatId, text: &str) -> bool {
    device
        .core
        .store
        .chat(chat)
        .iter()
        .any(|m| m.text.as_deref() == Some(text))
}

fn refusal_code(err: courier_shared::client::messenger::MessengerError) -> Option<ErrorCode> {
    match err {
        courier_shared::client::messenger::MessengerError::Refused(refusal) => Some(refusal.code),
        _ => None,
    }
}

#[tokio::test]
async fn an_invite_link_lets_a_stranger_join_until_it_is_revoked() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let mut ana = SecureDevice::register(&ws, "ana").await;
        let mut ben = SecureDevice::register(&ws, "ben").await;
        let mut cyd = SecureDevice::register(&ws, "cyd").await;
        let mut dee = SecureDevice::register(&ws, "dee").await;
        let group = ana.create_group("Trip", &[ben.user()]).await;
        let chat = ChatId::Group(group);
        ben.until(|b| b.core.chats().iter().any(|c| c.chat == chat))
            .await;

        let refused = ben.core.invite(chat).await.expect_err("not an admin");
        assert_eq!(refusal_code(refused), Some(ErrorCode::Forbidden));
        let code = ana.core.invite(chat).await.expect("link made");
        assert_eq!(cyd.core.join_group(&code).await.expect("joined"), chat);
        ben.until(|b| has_text(b, chat, "cyd joined through the invite link"))
            .await;
        ben.send_to(chat, "welcome cyd").await;
        cyd.until(|c| has_text(c, chat, "welcome cyd")).await;
        cyd.send_to(chat, "glad to be here").await;
        ana.until(|a| has_text(a, chat, "glad to be here")).await;
        ben.until(|b| has_text(b, chat, "glad to be here")).await;

        let newer = ana.core.invite(chat).await.expect("link made");
        let old = dee.core.join_group(&code).await.expect_err("replaced");
        assert_eq!(refusal_code(old), Some(ErrorCode::NotFound));
        ana.core.revoke_invite(chat).await.expect("revoked");
        let revoked = dee.core.join_group(&newer).await.expect_err("revoked");
        assert_eq!(refusal_code(revoked), Some(ErrorCode::NotFound));
        let members = app.store().await.group(group).await.expect("read");
        assert_eq!(
            members.expect("the group").members.len(),
            3,
            "dee is not in"
        );
        app.stop().await;
    }
}

/// In Chromium: Ana makes the group's invite link in its members panel;
/// Cyd opens it, is asked, joins, and chats with the members; after Ana
/// revokes it, Dee's attempt is refused with a clear notice.
#[tokio::test]
async fn an_invite_link_opened_in_the_browser_asks_joins_and_stops_when_revoked() {
    use courier_tests::browser::{chromium_pages, close_all};
    let Some((courier, url, [ana, ben, cyd, dee])) = chromium_pages().await else {
        return;
    };
    let outcome: Result<(), String> = async {
        for (page, name) in [(&ana, "ana"), (&ben, "ben"), (&cyd, "cyd"), (&dee, "dee")] {
            page.register(&url, name).await?;
        }
        ana.click("#new-group-open").await?;
        ana.fill("#new-group-name", "Trip").await?;
        ana.fill("#new-group-members", "ben").await?;
        ana.click("#new-group").await?;
        ana.wait_text("[data-peer-name]", "Trip", 30).await?;
        ana.click("#group-info-toggle").await?;
        ana.click("#invite-make").await?;
        ana.wait_js(
            "const i = document.getElementById('invite-link'); return !!i && i.value.includes('#join=');",
            "the invite link",
        )
        .await?;
        let link = ana
            .js("return document.getElementById('invite-link').value;")
            .await?;
        let link = link.as_str().ok_or("no link")?.to_owned();
        if link.contains("Trip") {
            return Err(format!("the name is in the link as text: {link}"));
        }

        cyd.goto(&link).await?;
        cyd.wait_text("#join-banner", "Join the group \u{201c}Trip\u{201d}?", 30)
            .await?;
        cyd.click("#join-accept").await?;
        cyd.wait_text("[data-peer-name]", "Trip", 30).await?;
        cyd.wait_text("li[data-system]", "You joined through the invite link", 30)
            .await?;
        ben.wait_text("button[data-group]", "Trip", 30).await?;
        ben.click("button[data-group]").await?;
        ben.wait_text("li[data-system]", "cyd joined through the invite link", 30)
            .await?;
        ben.send("welcome cyd").await?;
        cyd.wait_text("li[data-outgoing='false']", "welcome cyd", 30)
            .await?;
        cyd.send("thanks ben").await?;
        ben.wait_text("li[data-outgoing='false']", "thanks ben", 30)
            .await?;

        ana.click("#invite-revoke").await?;
        ana.wait_text("[data-notice]", "no longer works", 30).await?;
        dee.goto(&link).await?;
        dee.click("#join-accept").await?;
        dee.wait_text("[data-notice]", "invite link", 30).await?;
        if dee.has_text("button[data-group]", "Trip").await? {
            return Err("dee joined through a revoked link".into());
        }
        Ok(())
    }
    .await;
    close_all(
        [("ana", ana), ("ben", ben), ("cyd", cyd), ("dee", dee)],
        outcome.is_err(),
    )
    .await;
    drop(courier);
    outcome.expect("invite links in the browser");
}
