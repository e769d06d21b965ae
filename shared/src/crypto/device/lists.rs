//! Device lists: founding the account key, accepting lists from the server,
//! approving a linked device and removing one.

use super::{Contact, DeviceCrypto};
use crate::crypto::CryptoError;
use crate::crypto::device_list::{DeviceList, ListedDevice, SignedDeviceList};
use crate::crypto::identity::DeviceKey;
use crate::crypto::link::{LinkHello, LinkWelcome};
use crate::crypto::safety;
use crate::ids::{DeviceId, FixedBytes, PublicKey, UserId, Username};

/// What changed in a user's keys, for the user to be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Nothing new.
    None,
    /// The first list seen for this user: their account key is now pinned.
    New,
    /// The user's account identity key changed (a new account key, or an
    /// attacker): the safety number changed and must be compared again.
    IdentityChanged,
    /// The user approved or removed devices.
    DevicesChanged {
        /// Newly listed devices.
        added: Vec<DeviceId>,
        /// Devices no longer listed.
        removed: Vec<DeviceId>,
    },
}

/// A contact's key change, kept for the app to warn its user about wherever
/// it was found (sending, receiving, a stale retry, a group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChangeNotice {
    /// Whose keys changed.
    pub user: UserId,
    /// [`KeyChange::IdentityChanged`] or [`KeyChange::DevicesChanged`].
    pub change: KeyChange,
    /// The user had compared safety numbers for the previous account key
    /// (that mark is gone now).
    pub was_verified: bool,
}

impl DeviceCrypto {
    /// The key changes found since the last call, oldest first: the app shows
    /// each one (a line in the chat with that user), so none goes unseen.
    pub fn take_key_changes(&mut self) -> Vec<KeyChangeNotice> {
        std::mem::take(&mut self.changes)
    }

    /// Whether this user's current account key was marked verified.
    pub fn is_verified(&self, user: UserId) -> bool {
        self.users.get(&user).is_some_and(|c| c.verified)
    }

    /// Makes this, the account's first device, the holder of a new account
    /// identity key from 32 secret random bytes; returns the first device
    /// list to publish (then pass it to [`DeviceCrypto::accept_list`]).
    pub fn found_account(&mut self, seed: [u8; 32]) -> Result<SignedDeviceList, CryptoError> {
        let (user, device) = self.require_me()?;
        let account = DeviceKey::from_seed(seed);
        let me = self.listed(device);
        let signed = DeviceList {
            user,
            version: 1,
            account: account.public_key(),
            devices: vec![me],
        }
        .sign(&account)?;
        self.account_key = Some(account);
        Ok(signed)
    }

    /// Verifies `user`'s device list and keeps it if it is new; reports what
    /// changed. A list older than the one kept is refused (rollback).
    pub fn accept_list(
        &mut self,
        user: UserId,
        signed: &SignedDeviceList,
    ) -> Result<KeyChange, CryptoError> {
        let list = signed.open()?;
        if list.user() != user {
            return Err(CryptoError::Malformed("device list (of another user)"));
        }
        if self.me.is_some_and(|(me, _)| me == user)
            && self
                .account_public()
                .is_some_and(|ours| ours != *list.account())
        {
            return Err(CryptoError::BadSignature("our own device list"));
        }
        let Some(known) = self.users.get(&user) else {
            self.users.insert(
                user,
                Contact {
                    list,
                    verified: false,
                },
            );
            return Ok(KeyChange::New);
        };
        if known.list.account() != list.account() {
            let was_verified = known.verified;
            self.users.insert(
                user,
                Contact {
                    list,
                    verified: false,
                },
            );
            self.changes.push(KeyChangeNotice {
                user,
                change: KeyChange::IdentityChanged,
                was_verified,
            });
            return Ok(KeyChange::IdentityChanged);
        }
        if list.version() < known.list.version() {
            return Err(CryptoError::Rollback {
                user,
                known: known.list.version(),
                got: list.version(),
            });
        }
        if list.version() == known.list.version() {
            return Ok(KeyChange::None);
        }
        let added: Vec<DeviceId> = list
            .devices()
            .iter()
            .filter(|d| known.list.device(d.device) != Some(*d))
            .map(|d| d.device)
            .collect();
        let removed: Vec<DeviceId> = known
            .list
            .devices()
            .iter()
            .filter(|d| list.device(d.device) != Some(*d))
            .map(|d| d.device)
            .collect();
        for device in &removed {
            self.sessions.remove(device);
        }
        let verified = known.verified;
        self.users.insert(user, Contact { list, verified });
        if added.is_empty() && removed.is_empty() {
            Ok(KeyChange::None)
        } else {
            let change = KeyChange::DevicesChanged { added, removed };
            self.changes.push(KeyChangeNotice {
                user,
                change: change.clone(),
                was_verified: verified,
            });
            Ok(change)
        }
    }

    /// This device as its list names it.
    fn listed(&self, device: DeviceId) -> ListedDevice {
        ListedDevice {
            device,
            signing_key: self.signing_public(),
            identity_key: self.identity_key(),
        }
    }

    /// Takes in a list of this user's that this device itself just
    /// published: its own doing, so no change is reported for it.
    pub fn adopt_own_list(&mut self, signed: &SignedDeviceList) -> Result<(), CryptoError> {
        let (me, _) = self.require_me()?;
        let before = self.changes.len();
        self.accept_list(me, signed)?;
        self.changes.truncate(before);
        Ok(())
    }

    /// The safety number this device and `user` share, once both lists are
    /// known.
    pub fn safety_number(&self, user: UserId) -> Option<String> {
        let (me, _) = self.me?;
        let ours = self.users.get(&me)?.list.account();
        let theirs = self.users.get(&user)?.list.account();
        Some(safety::safety_number((me, ours), (user, theirs)))
    }

    /// What the safety-number QR code for `user` holds.
    pub fn safety_qr_text(&self, user: UserId) -> Option<String> {
        let (me, _) = self.me?;
        let ours = self.users.get(&me)?.list.account();
        let theirs = self.users.get(&user)?.list.account();
        Some(safety::safety_qr_text((me, ours), (user, theirs)))
    }

    /// Marks `user`'s current account key as verified (safety numbers
    /// compared); cleared again if the key changes.
    pub fn mark_verified(&mut self, user: UserId) {
        if let Some(contact) = self.users.get_mut(&user) {
            contact.verified = true;
        }
    }

    fn own_list(&self) -> Result<(&DeviceKey, &DeviceList), CryptoError> {
        let (user, _) = self.require_me()?;
        let account = self.account_key.as_ref().ok_or(CryptoError::NotApproved)?;
        let list = &self.users.get(&user).ok_or(CryptoError::NotApproved)?.list;
        Ok((account, list))
    }

    /// Approves the device that sent `hello` over a link, which signed in
    /// with `registered` (as the server reports): returns the new device list
    /// to publish, and the welcome (naming the account `username`) to seal
    /// for the new device.
    pub fn approve_link(
        &self,
        hello: &LinkHello,
        registered: &PublicKey,
        username: &Username,
    ) -> Result<(SignedDeviceList, LinkWelcome), CryptoError> {
        if hello.signing_key != *registered {
            return Err(CryptoError::BadSignature(
                "the link hello (its key is not the one the device signed in with)",
            ));
        }
        let (account, list) = self.own_list()?;
        let mut devices = list.devices().to_vec();
        devices.retain(|d| d.device != hello.device);
        devices.push(ListedDevice {
            device: hello.device,
            signing_key: hello.signing_key,
            identity_key: hello.identity_key,
        });
        let next = DeviceList {
            user: list.user(),
            version: list.version() + 1,
            account: account.public_key(),
            devices,
        };
        let signed = next.sign(account)?;
        let welcome = LinkWelcome {
            account_seed: FixedBytes(account.seed()),
            list: signed.clone(),
            username: username.clone(),
        };
        Ok((signed, welcome))
    }

    /// Takes the account key and device list from an approving device.
    pub fn accept_welcome(&mut self, welcome: &LinkWelcome) -> Result<(), CryptoError> {
        let (user, device) = self.require_me()?;
        let account = DeviceKey::from_seed(welcome.account_seed.0);
        let list = welcome.list.open()?;
        if *list.account() != account.public_key() || list.user() != user {
            return Err(CryptoError::BadSignature("the link welcome's device list"));
        }
        let me = self.listed(device);
        if list.device(device) != Some(&me) {
            return Err(CryptoError::Malformed(
                "link welcome (its list does not hold this device)",
            ));
        }
        self.account_key = Some(account);
        self.users.insert(
            user,
            Contact {
                list,
                verified: true,
            },
        );
        Ok(())
    }

    /// The device list without `device`, to publish; the server then deletes
    /// the device and others stop encrypting to it.
    pub fn remove_device(&self, device: DeviceId) -> Result<SignedDeviceList, CryptoError> {
        let (account, list) = self.own_list()?;
        let mut devices = list.devices().to_vec();
        devices.retain(|d| d.device != device);
        let next = DeviceList {
            user: list.user(),
            version: list.version() + 1,
            account: account.public_key(),
            devices,
        };
        next.sign(account)
    }
}
