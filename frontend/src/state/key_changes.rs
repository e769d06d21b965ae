//! Warnings about contacts' keys: every identity or device-list change the
//! crypto core finds becomes a line in the chat with that person, and a
//! contact whose safety number was compared can be marked verified.

use super::chat::ChatId;
use super::worker::{Device, message_id};
use courier_shared::crypto::device::{KeyChange, KeyChangeNotice};
use leptos::prelude::Update;

impl Device {
    /// Writes a line into the chat with each contact whose keys changed
    /// since the last call (changes to this user's own list are its own
    /// doing and are shown on the Devices panel).
    pub(super) async fn show_key_changes(&mut self) -> Result<(), String> {
        let me = self.my_user();
        let notices = match self.crypto.as_mut() {
            Some(crypto) => crypto.take_key_changes(),
            None => return Ok(()),
        };
        for notice in notices {
            let chat = ChatId::User(notice.user);
            let Some(name) = self.index.get(chat).map(|c| c.name.clone()) else {
                continue;
            };
            let Some(warning) = warning(&name, &notice).filter(|_| Some(notice.user) != me) else {
                continue;
            };
            let mut line = self.incoming(message_id()?, chat, None, Some(warning));
            line.system = true;
            line.seen = true;
            self.arrived(line).await?;
        }
        Ok(())
    }

    /// Marks the contact of this name verified: their safety number was
    /// compared. The mark lasts until their account key changes.
    pub(super) async fn mark_verified(&mut self, name: &str) -> Result<(), String> {
        let (user, _) = self.lookup(name).await?;
        self.crypto()?.mark_verified(user);
        self.ui.safety.update(|safety| {
            if let Some(shown) = safety.as_mut().filter(|s| s.username == name) {
                shown.verified = true;
            }
        });
        self.save().await
    }
}

/// What the user is told about `notice`, naming the contact (nothing for a
/// first sighting).
pub(super) fn warning(name: &str, notice: &KeyChangeNotice) -> Option<String> {
    Some(match &notice.change {
        KeyChange::IdentityChanged if notice.was_verified => format!(
            "{name}'s safety number changed, and you had verified it. \
             Compare it again (Devices → Verify a contact) before you trust new messages."
        ),
        KeyChange::IdentityChanged => format!(
            "{name}'s safety number changed: a new account key (a reinstall, or someone else). \
             Compare it in Devices → Verify a contact."
        ),
        KeyChange::DevicesChanged { added, removed } => format!(
            "{name}'s devices changed: {} added, {} removed. Messages now go to the new set.",
            added.len(),
            removed.len()
        ),
        KeyChange::New | KeyChange::None => return None,
    })
}
