//! Profiles: this user's display name, about line and photo, sealed under
//! a profile key ([`crate::crypto::profile`]) and stored on the server;
//! the key goes to the people who may see the profile as a
//! [`Content::ProfileKey`] change — to every chat after each change, and to
//! a chat that never had it before the next message there. Each change
//! seals the profile under a fresh key, so that a person removed from the
//! contacts (whose chat is not told) cannot read what follows.
//!
//! A tell that arrives makes this device fetch and open the profile, and
//! keep it for the chat list, the conversation header and the senders'
//! names; a profile that does not open under the newest key told (the
//! owner changed it again since, or stopped telling this user) leaves
//! what was shown before.

use super::{Effect, Messenger, MessengerError, Result, Store};
use crate::client::api::{Api, Server};
use crate::client::chat::{ChatId, KnownProfile, Outgoing};
use crate::crypto::content::Content;
use crate::crypto::profile::{Profile, ProfileKey};
use crate::ids::{Blob, MessageId, UserId};
use crate::time::Env;

/// What a profile change does to the photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoChange {
    /// Keeps the photo there is.
    Keep,
    /// Shows this JPEG from now on.
    Set(Vec<u8>),
    /// Shows initials again.
    Remove,
}

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// What this device knows of `user`'s profile (this user's own too).
    pub fn profile(&self, user: UserId) -> Option<&KnownProfile> {
        self.index.profiles.iter().find(|p| p.user == user)
    }

    /// Every profile this device knows of.
    pub fn profiles(&self) -> &[KnownProfile] {
        &self.index.profiles
    }

    /// The photo of `chat`: its person's profile photo or the group's, if
    /// there is one.
    pub async fn photo(&mut self, chat: ChatId) -> Result<Option<Vec<u8>>> {
        let shown = match chat {
            ChatId::User(user) => self.profile(user).is_some_and(|p| p.photo),
            ChatId::Group(_) => self.index.get(chat).is_some_and(|c| c.photo.1),
        };
        if !shown {
            return Ok(None);
        }
        let photo = self
            .store
            .photo(chat)
            .await
            .map_err(MessengerError::Store)?;
        Ok(photo.filter(|p| !p.is_empty()))
    }

    /// Sets this user's profile: stored on the server sealed under a fresh
    /// key, which every chat of theirs is then told (through the outbox).
    /// Needs the server: changing a profile offline is refused.
    pub async fn set_profile(&mut self, name: &str, about: &str, photo: PhotoChange) -> Result<()> {
        let me = self
            .my_user()
            .ok_or_else(|| MessengerError::invalid("Not signed in."))?;
        let photo = match photo {
            PhotoChange::Keep => self.photo(ChatId::User(me)).await?.unwrap_or_default(),
            PhotoChange::Set(photo) => photo,
            PhotoChange::Remove => Vec::new(),
        };
        let profile = Profile::new(name, about, photo).map_err(MessengerError::Invalid)?;
        self.publish_profile(me, &profile).await
    }

    /// Seals `profile` under a fresh key, stores it on the server, keeps it
    /// as this user's own and tells every chat that may see it.
    async fn publish_profile(&mut self, me: UserId, profile: &Profile) -> Result<()> {
        let key: ProfileKey = self.env.random();
        let sealed = profile.seal(me, &key, self.env.random());
        self.server.set_profile(sealed).await?;
        let id = self.env.message_id();
        let entry = self.known(me);
        entry.key = key.to_vec();
        entry.told_by = Some(id);
        self.opened(me, profile).await?;
        // This user's other devices learn the key even without chats.
        let content = Content::ProfileKey {
            key: Blob::new(key.to_vec()).unwrap_or_default(),
        };
        self.tell_my_devices(id, content).await?;
        self.tell_every_chat();
        self.save_index().await?;
        self.flush().await
    }

    /// Puts this user's current profile key in the outbox for every chat
    /// that may see it and was not told it yet.
    fn tell_every_chat(&mut self) {
        let chats: Vec<ChatId> = self
            .index
            .chats
            .iter()
            .filter(|c| may_see(c))
            .map(|c| c.chat)
            .collect();
        for chat in chats {
            self.tell_profile(chat);
        }
    }

    /// After `peer` stopped being a contact: the profile is sealed again
    /// under a new key, which their chat is not told.
    pub(super) async fn rotate_profile_key(&mut self) -> Result<()> {
        let Some(me) = self.my_user() else {
            return Ok(());
        };
        if self.profile(me).is_none_or(|p| p.key.is_empty()) {
            return Ok(());
        }
        let own = self.profile(me).cloned().unwrap_or_default();
        let photo = self.photo(ChatId::User(me)).await?.unwrap_or_default();
        let profile =
            Profile::new(&own.name, &own.about, photo).map_err(MessengerError::Invalid)?;
        self.publish_profile(me, &profile).await
    }

    /// Puts this user's current profile key in the outbox for `chat`,
    /// unless the chat was told it already (saved with the index).
    pub(super) fn tell_profile(&mut self, chat: ChatId) {
        let Some(me) = self.my_user() else {
            return;
        };
        let Some(own) = self.profile(me) else {
            return;
        };
        let (Some(told_by), Some(key)) = (own.told_by, Blob::new(own.key.clone())) else {
            return;
        };
        let Some(entry) = self.index.find(chat) else {
            return;
        };
        if entry.profile_told == Some(told_by) || !may_see(entry) {
            return;
        }
        entry.profile_told = Some(told_by);
        let content = Box::new(Content::ProfileKey { key });
        let id = self.env.message_id();
        self.index
            .outbox
            .push(id, Outgoing::Change { chat, content });
    }

    /// `author` told their profile key in message `id`: kept unless a newer
    /// tell was, and their profile fetched under it.
    pub(super) async fn on_profile_key(
        &mut self,
        author: UserId,
        id: MessageId,
        key: &[u8],
    ) -> Result<()> {
        if key.len() != 32 {
            return Ok(());
        }
        let own = self.my_user() == Some(author);
        let entry = self.known(author);
        if entry.told_by.is_some_and(|newest| newest >= id) {
            return Ok(());
        }
        let same_key = entry.key == key;
        entry.key = key.to_vec();
        entry.told_by = Some(id);
        if same_key && entry.fetched {
            // Told again (by another device of theirs): nothing new.
            return self.save_index().await;
        }
        entry.fetched = false;
        self.save_index().await?;
        self.fetch_profile(author).await?;
        if own && !same_key {
            // Changed on another device of this user, which may not know
            // every chat this one does: this one tells its chats too (the
            // same key, so that nobody tells anyone again).
            self.tell_every_chat();
            self.save_index().await?;
            self.flush().await?;
        }
        Ok(())
    }

    /// Fetches every profile told but not yet fetched (after a sign-in: a
    /// tell may have arrived while the server could not be asked).
    pub(super) async fn fetch_profiles(&mut self) -> Result<()> {
        let due: Vec<UserId> = self
            .index
            .profiles
            .iter()
            .filter(|p| !p.fetched && !p.key.is_empty())
            .map(|p| p.user)
            .collect();
        for user in due {
            self.fetch_profile(user).await?;
        }
        Ok(())
    }

    /// Fetches `user`'s sealed profile and opens it under the key they
    /// told. A profile that is not there or does not open is not retried
    /// (a newer tell will come if there is a newer profile); the server not
    /// answering is (at the next sign-in).
    async fn fetch_profile(&mut self, user: UserId) -> Result<()> {
        let Some(key) = self
            .profile(user)
            .and_then(|p| p.key.clone().try_into().ok())
        else {
            return Ok(());
        };
        let sealed = match self.server.fetch_profile(user).await {
            Ok(sealed) => sealed,
            Err(refusal) if refusal.is_transient() => return Ok(()),
            Err(refusal) => return Err(refusal.into()),
        };
        let opened = sealed.and_then(|sealed| Profile::open(&sealed, user, &key).ok());
        match opened {
            Some(profile) => self.opened(user, &profile).await,
            None => {
                self.known(user).fetched = true;
                self.save_index().await
            }
        }
    }

    /// Keeps `profile`, opened for `user`, and shows it.
    async fn opened(&mut self, user: UserId, profile: &Profile) -> Result<()> {
        let photo = profile.photo.as_bytes();
        self.store
            .save_photo(ChatId::User(user), photo)
            .await
            .map_err(MessengerError::Store)?;
        let entry = self.known(user);
        entry.name = profile.name.as_str().to_owned();
        entry.about = profile.about.as_str().to_owned();
        entry.photo = !photo.is_empty();
        entry.fetched = true;
        self.show(Effect::Profile(ChatId::User(user)));
        self.show(Effect::Chats);
        self.save_index().await
    }

    /// What this device knows of `user`'s profile, made if new.
    fn known(&mut self, user: UserId) -> &mut KnownProfile {
        let profiles = &mut self.index.profiles;
        let at = match profiles.iter().position(|p| p.user == user) {
            Some(at) => at,
            None => {
                profiles.push(KnownProfile {
                    user,
                    ..KnownProfile::default()
                });
                profiles.len() - 1
            }
        };
        &mut profiles[at]
    }
}

/// Whether the people of `chat` may see this user's profile: a contact, or
/// a group this user is still in.
fn may_see(chat: &crate::client::chat::Chat) -> bool {
    match chat.chat {
        ChatId::User(_) => chat.contact,
        ChatId::Group(_) => !chat.members.is_empty(),
    }
}
