//! A group conversation between three browser profiles: one creates the
//! group, everyone writes and reads, marks turn blue once every member read,
//! message info lists who read, and a removed member reads no further.

use courier_tests::browser::{Browser, close_all};
use courier_tests::process::{WebServer, browser_setup};
use std::time::Duration;

#[tokio::test]
async fn three_people_chat_in_a_group_and_a_removed_member_reads_no_further() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let shots = std::env::var("COURIER_SCREENSHOTS")
        .ok()
        .map(std::path::PathBuf::from);
    let ana = Browser::start(&driver).await;
    let ben = Browser::start(&driver).await;
    let cyra = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        cyra.register(&url, "cyra").await?;

        ana.click("#new-group-open").await?;
        ana.fill("#new-group-name", "Weekend trip").await?;
        ana.fill("#new-group-members", "ben, cyra").await?;
        ana.click("#new-group").await?;
        ana.wait_text("[data-peer-name]", "Weekend trip", 30)
            .await?;
        ana.wait_text("li[data-system]", "You created the group", 30)
            .await?;
        // The initials as shown: the stylesheet capitalises "Wt".
        let shown = ana
            .client
            .execute(
                "return document.querySelector('button[data-group] .avatar').innerText;",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        if shown.as_str() != Some("WT") {
            return Err(format!("the group's avatar shows {shown}, not WT"));
        }
        for member in [&ben, &cyra] {
            member
                .wait_text("button[data-group]", "Weekend trip", 30)
                .await?;
            member.click("button[data-group]").await?;
            member
                .wait_text("li[data-system]", "ana created the group", 30)
                .await?;
            member.wait_text("[data-status]", "ana", 30).await?;
        }

        // Both members have the chat open: the marks turn blue only once
        // both have read it, and message info says who read it.
        ana.send("hello group").await?;
        for member in [&ben, &cyra] {
            member
                .wait_text("li[data-outgoing='false']", "hello group", 30)
                .await?;
            member
                .wait_text("li[data-outgoing='false'] .sender", "ana", 5)
                .await?;
        }
        ana.wait_mark("read").await?;
        ana.wait_text("li[data-info-row]", "ben: read", 5).await?;
        ana.wait_text("li[data-info-row]", "cyra: read", 5).await?;

        ben.send("hi from ben").await?;
        for reader in [&ana, &cyra] {
            reader
                .wait_text("li[data-outgoing='false']", "hi from ben", 30)
                .await?;
        }
        cyra.wait_text("li[data-outgoing='false'] .sender", "ben", 5)
            .await?;

        // Group info: members and admins; Ana renames the group (the name
        // changes for everyone, with a line), then removes Cyra.
        ana.click("#group-info-toggle").await?;
        ana.wait_text("li[data-member='You'] .badge", "admin", 30)
            .await?;
        ana.fill("#rename-group-name", "Ski trip").await?;
        ana.click("#rename-group").await?;
        ana.wait_text("[data-peer-name]", "Ski trip", 30).await?;
        for member in [&ben, &cyra] {
            member
                .wait_text(
                    "li[data-system]",
                    "ana renamed the group \u{201c}Ski trip\u{201d}",
                    30,
                )
                .await?;
            member
                .wait_text("button[data-group]", "Ski trip", 30)
                .await?;
        }
        // Ben describes it: everyone's info panel says so, with a line.
        ben.click("#group-info-toggle").await?;
        ben.fill("#group-description", "Bring skis, meet at 8")
            .await?;
        ben.click("#describe-group").await?;
        ana.wait_text("[data-description]", "Bring skis, meet at 8", 30)
            .await?;
        for member in [&ana, &cyra] {
            member
                .wait_text("li[data-system]", "ben changed the group description.", 30)
                .await?;
        }
        ana.wait_count("li[data-member]", 3, 10).await?;
        ana.click("li[data-member='cyra'] .remove-member").await?;
        ana.wait_text("li[data-system]", "You removed cyra", 30)
            .await?;
        ben.wait_text("li[data-system]", "ana removed cyra", 30)
            .await?;
        // Cyra is told (and her page checks with the server).
        cyra.wait_text("li[data-system]", "You were removed", 30)
            .await?;
        cyra.wait_text("#left-group", "no longer in this group", 30)
            .await?;
        if let Some(dir) = &shots {
            ben.screenshot(&dir.join("group.png")).await?;
        }
        ana.send("just the two of us").await?;
        ben.wait_text("li[data-outgoing='false']", "just the two of us", 30)
            .await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Nothing more reaches the removed member's page.
        cyra.wait_no_text("li[data-message]", "two of us", 1)
            .await
            .map_err(|_| "the removed member read a later message".to_owned())
    }
    .await;
    close_all(
        [("ana", ana), ("ben", ben), ("cyra", cyra)],
        outcome.is_err(),
    )
    .await;
    drop(courier);
    outcome.expect("the group chat");
}
