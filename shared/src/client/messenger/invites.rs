//! Group invite links: an admin makes one (a random token the server keeps
//! for the group, a new one replacing the last) or revokes it; anyone who
//! has the link joins by its token, and tells the group they did. The
//! link also carries the group's name for the joiner to show at once — in
//! the part of the URL after `#`, which browsers never send, so the name
//! still never reaches the server.

use super::{Messenger, MessengerError, Result, Store};
use crate::client::api::{Api, Server};
use crate::client::chat::ChatId;
use crate::crypto::content::GroupEventKind;
use crate::ids::{LinkId, RequestId};
use crate::proto::ClientFrame;
use crate::text_encoding::{hex, hex_decode};
use crate::time::Env;

/// What an invite link's URL has before its code: `https://host/#join=`.
pub const JOIN_FRAGMENT: &str = "#join=";

/// What an invite link's code says: the token and the group's name.
pub fn read_invite(code: &str) -> Option<(LinkId, String)> {
    let (token, name) = code.trim().split_once('.')?;
    let token = LinkId::from_slice(&hex_decode(token)?)?;
    let name = String::from_utf8(hex_decode(name)?).ok()?;
    Some((token, name))
}

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// A new invite link code for group `chat` (its admins only), which
    /// makes the one before stop working: `token.name`, both in hex.
    pub async fn invite(&mut self, chat: ChatId) -> Result<String> {
        let group = chat
            .group()
            .ok_or_else(|| MessengerError::invalid("Only a group has invite links."))?;
        let token = LinkId::new_const(self.env.random());
        self.set_invite(group, Some(token)).await?;
        let name = self
            .index
            .get(chat)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        Ok(format!(
            "{}.{}",
            hex(token.as_bytes()),
            hex(name.as_bytes())
        ))
    }

    /// Revokes group `chat`'s invite link: it lets nobody in any more.
    pub async fn revoke_invite(&mut self, chat: ChatId) -> Result<()> {
        let group = chat
            .group()
            .ok_or_else(|| MessengerError::invalid("Only a group has invite links."))?;
        self.set_invite(group, None).await
    }

    async fn set_invite(
        &mut self,
        group: crate::ids::GroupId,
        token: Option<LinkId>,
    ) -> Result<()> {
        let frame = ClientFrame::SetInvite {
            request: RequestId::NONE,
            group,
            token,
        };
        self.server.deliver(frame).await?;
        Ok(())
    }

    /// Joins the group of invite link `code`, shows it, and tells its
    /// members; the group's chat.
    pub async fn join_group(&mut self, code: &str) -> Result<ChatId> {
        let me = self
            .my_user()
            .ok_or_else(|| MessengerError::invalid("Not signed in."))?;
        let (token, name) = read_invite(code)
            .ok_or_else(|| MessengerError::invalid("This is not an invite link."))?;
        let frame = ClientFrame::JoinGroup {
            request: RequestId::NONE,
            token,
        };
        let answer = self.server.group_request(frame).await?;
        let chat = ChatId::Group(answer.group);
        let known = self
            .index
            .get(chat)
            .is_some_and(|c| c.members.iter().any(|(u, _)| *u == me));
        if known {
            return Ok(chat);
        }
        self.index.chat(chat, &name);
        self.refresh_group(answer.group).await?;
        self.announce(chat, GroupEventKind::Joined, vec![me])
            .await?;
        Ok(chat)
    }
}
