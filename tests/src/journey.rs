//! Steps that several browser journeys share (`chat.rs` in Chromium, and
//! `engines.rs` in Firefox and WebKitGTK): the outbox and history across a
//! reload while the server is down.

use crate::browser::Browser;
use crate::process::WebServer;

/// The server goes down: `writer` writes anyway ("connecting…" shows),
/// reloads (the service worker serves the page), and still shows its
/// history (`earlier`, a message it received) and the message waiting in
/// its outbox; once the server is back, `reader` gets it and `writer`'s
/// mark turns to read.
pub async fn outbox_across_a_reload(
    courier: &mut WebServer,
    writer: &Browser,
    reader: &Browser,
    earlier: &str,
) -> Result<(), String> {
    courier.crash().await;
    writer
        .text_of("[data-connection='reconnecting']", 30)
        .await?;
    writer.wait_text(".offline-banner", "Connecting", 5).await?;
    writer.send("written offline").await?;
    writer
        .wait_text("li[data-outgoing='true']", "written offline", 30)
        .await?;
    writer.wait_mark("pending").await?;
    writer.reload().await?;
    writer.click("button[data-chat]").await?;
    writer
        .wait_text("li[data-outgoing='true']", "written offline", 30)
        .await?;
    writer
        .wait_text("li[data-outgoing='false']", earlier, 30)
        .await?;
    writer.wait_mark("pending").await?;
    courier.restart().await;
    reader
        .wait_text("li[data-outgoing='false']", "written offline", 60)
        .await?;
    writer.wait_mark("read").await
}
