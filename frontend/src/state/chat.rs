//! Conversations and messages as this device keeps them: the shared core's
//! types ([`courier_shared::client::chat`]), for the pages.

pub use courier_shared::client::chat::{Chat, ChatId, ChatSettings, MUTED_ALWAYS, Mark, Message};
