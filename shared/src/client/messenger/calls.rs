//! What the messenger does for calls: it carries their signals and keeps
//! their chat lines; the calls' state machine is [`crate::client::call`],
//! run by the host. A signal goes through the outbox like a change
//! (end-to-end encrypted to every device of the peer and this user's other
//! devices); one that arrives is handed out as [`super::Effect::Call`] and
//! never stored.

use super::{Messenger, MessengerError, Result, Store};
use crate::client::api::{Api, Server, TurnCredentials};
use crate::client::chat::{ChatId, Message, Outgoing};
use crate::crypto::content::Content;
use crate::ids::{MessageId, UserId};
use crate::time::Env;

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Sends call signal `content` (a [`Content::Call`]) to `peer`; `id`
    /// is its message id (an offer's is the call's).
    pub async fn send_call(&mut self, peer: UserId, id: MessageId, content: Content) -> Result<()> {
        if !matches!(content, Content::Call { .. }) {
            return Err(MessengerError::invalid("not a call signal"));
        }
        let change = Outgoing::Change {
            chat: ChatId::User(peer),
            content: Box::new(content),
        };
        self.index.outbox.push(id, change);
        self.save_index().await?;
        self.flush().await
    }

    /// The TURN servers for this device's calls, with credentials the
    /// server issued for it (none if it has none, or cannot be asked).
    pub async fn ice_servers(&mut self) -> Vec<TurnCredentials> {
        match self.server.request_turn().await {
            Ok(turn) if !turn.0.is_empty() => vec![turn],
            _ => Vec::new(),
        }
    }

    /// Stores the chat line of call `id` with `peer` (once).
    pub async fn call_line(&mut self, peer: UserId, id: MessageId, text: String) -> Result<()> {
        self.arrived(Message::line(id, ChatId::User(peer), None, text))
            .await
    }
}
