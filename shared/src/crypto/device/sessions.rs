//! Pre-keys and Olm sessions: publishing signed one-time keys, opening a
//! session from a claimed key, encrypting to a device and decrypting from one.

use super::{
    DeviceCrypto, SESSION_MAX_AGE_MS, SESSION_MAX_MESSAGES, SESSIONS_PER_DEVICE, SessionEntry,
};
use crate::crypto::CryptoError;
use crate::crypto::content::Plaintext;
use crate::crypto::device_list::ListedDevice;
use crate::crypto::envelope::{Envelope, Sealed};
use crate::crypto::keys::{FALLBACK_ROTATION_MS, ONE_TIME_KEY_TARGET, SignedKey};
use crate::ids::{DeviceId, FixedBytes, MessageId, UserId};
use crate::proto::Payload;
use vodozemac::Curve25519PublicKey;
use vodozemac::olm::{OlmMessage, SessionConfig};

impl DeviceCrypto {
    /// New signed one-time keys to bring the server's stock from `on_server`
    /// up to [`ONE_TIME_KEY_TARGET`], and the fallback key if it is not yet
    /// published — a new one once the current one has been out for
    /// [`FALLBACK_ROTATION_MS`] (as Signal rotates its signed pre-key). The
    /// previous fallback key's secret stays (vodozemac keeps one) until the
    /// next rotation, so that pre-key messages built on it before the
    /// server had the new one still open. Persist the state after
    /// publishing them.
    pub fn prekeys_to_publish(
        &mut self,
        on_server: u32,
        now_ms: u64,
    ) -> (Vec<SignedKey>, Option<SignedKey>) {
        match self.fallback_published_ms {
            Some(at) if now_ms.saturating_sub(at) >= FALLBACK_ROTATION_MS => {
                // Also forgets the fallback key before the previous one.
                self.account.generate_fallback_key();
            }
            // A state saved before rotation existed: its clock starts now.
            None => self.fallback_published_ms = Some(now_ms),
            Some(_) => {}
        }
        let wanted = ONE_TIME_KEY_TARGET.saturating_sub(on_server) as usize;
        if wanted > 0 {
            self.account.generate_one_time_keys(wanted);
        }
        let sign =
            |key: &Curve25519PublicKey| SignedKey::sign(FixedBytes(key.to_bytes()), &self.signing);
        let one_time: Vec<SignedKey> = self.account.one_time_keys().values().map(sign).collect();
        let fallback = self.account.fallback_key().values().next().map(sign);
        if fallback.is_some() {
            self.fallback_published_ms = Some(now_ms);
        }
        self.account.mark_keys_as_published();
        (one_time, fallback)
    }

    /// Whether a peer opened a session with one of this device's one-time
    /// keys since the last call: time to top the server's stock up again.
    pub fn take_one_time_key_used(&mut self) -> bool {
        std::mem::take(&mut self.one_time_key_used)
    }

    /// Every device a message to `to` goes to: all of `to`'s approved devices
    /// and this user's other approved devices.
    pub fn recipients(&self, to: UserId) -> Result<Vec<ListedDevice>, CryptoError> {
        let (me, my_device) = self.require_me()?;
        let mut devices = Vec::new();
        for user in [to, me] {
            let contact = self.users.get(&user).ok_or(CryptoError::NoDevices(user))?;
            devices.extend(contact.list.devices().iter().copied());
            if to == me {
                break;
            }
        }
        devices.retain(|d| d.device != my_device);
        Ok(devices)
    }

    /// Whether a new session with `device` is needed before encrypting: none
    /// yet, the newest is too old or too used, or the device asked for one.
    pub fn needs_session(&self, device: DeviceId, now_ms: u64) -> bool {
        match self.sessions.get(&device).and_then(|s| s.first()) {
            None => true,
            Some(newest) => {
                self.renew.contains(&device)
                    || now_ms.saturating_sub(newest.created_ms) > SESSION_MAX_AGE_MS
                    || newest.sent >= SESSION_MAX_MESSAGES
            }
        }
    }

    /// Opens an outbound session with `device` from a one-time (or fallback)
    /// key claimed from the server, after checking the device signed it.
    pub fn start_session(
        &mut self,
        device: &ListedDevice,
        key: &SignedKey,
        now_ms: u64,
    ) -> Result<(), CryptoError> {
        let one_time = Curve25519PublicKey::from_bytes(key.verify(&device.signing_key)?.0);
        let identity = Curve25519PublicKey::from_bytes(device.identity_key.0);
        let session = self
            .account
            .create_outbound_session(SessionConfig::version_1(), identity, one_time)
            .map_err(|err| CryptoError::Olm(err.to_string()))?;
        self.keep_session(device.device, session, now_ms);
        self.renew.remove(&device.device);
        Ok(())
    }

    fn keep_session(&mut self, device: DeviceId, session: vodozemac::olm::Session, now_ms: u64) {
        let entries = self.sessions.entry(device).or_default();
        entries.insert(
            0,
            SessionEntry {
                session,
                created_ms: now_ms,
                sent: 0,
            },
        );
        entries.truncate(SESSIONS_PER_DEVICE);
    }

    /// Encrypts `plaintext` for `device` with its newest session.
    pub fn encrypt(&mut self, device: DeviceId, plaintext: &[u8]) -> Result<Payload, CryptoError> {
        let entry = self
            .sessions
            .get_mut(&device)
            .and_then(|s| s.first_mut())
            .ok_or(CryptoError::Olm(format!(
                "no session with device {device:?}"
            )))?;
        let message = entry
            .session
            .encrypt(plaintext)
            .map_err(|err| CryptoError::Olm(err.to_string()))?;
        entry.sent = entry.sent.saturating_add(1);
        let (kind, body) = message.to_parts();
        let body = Sealed::new(body).ok_or(CryptoError::Limit("the message is too large"))?;
        Envelope::Olm {
            kind: u8::try_from(kind).unwrap_or(u8::MAX),
            body,
        }
        .to_payload()
    }

    /// Decrypts message `id` from `from`'s device `from_device`. A failure is
    /// reported, never dropped: the session with that device is marked for
    /// renewal so the next message to it opens a fresh one.
    pub fn decrypt(
        &mut self,
        from: UserId,
        from_device: DeviceId,
        id: MessageId,
        payload: &[u8],
        now_ms: u64,
    ) -> Result<Plaintext, CryptoError> {
        let device = *self
            .users
            .get(&from)
            .and_then(|c| c.list.device(from_device))
            .ok_or(CryptoError::UnknownDevice {
                user: from,
                device: from_device,
            })?;
        let failed = |reason: String| CryptoError::Undecryptable {
            user: from,
            device: from_device,
            reason,
        };
        let result = self
            .open_olm(&device, payload, now_ms)
            .map_err(failed)
            .and_then(|bytes| Plaintext::decode(&bytes))
            .and_then(|plain| {
                if plain.id == id {
                    Ok(plain)
                } else {
                    Err(failed("it was replayed under another message id".into()))
                }
            });
        if result.is_err() {
            self.renew.insert(from_device);
        }
        result
    }

    fn open_olm(
        &mut self,
        device: &ListedDevice,
        payload: &[u8],
        now_ms: u64,
    ) -> Result<Vec<u8>, String> {
        let Envelope::Olm { kind, body } =
            Envelope::from_payload(payload).map_err(|e| e.to_string())?
        else {
            return Err("it is not an Olm message".into());
        };
        let message = OlmMessage::from_parts(usize::from(kind), body.as_bytes())
            .map_err(|err| format!("malformed Olm message: {err}"))?;
        let sessions = self.sessions.entry(device.device).or_default();
        if let OlmMessage::PreKey(pre_key) = &message {
            let keys = pre_key.session_keys();
            if let Some(entry) = sessions
                .iter_mut()
                .find(|e| e.session.session_keys() == keys)
            {
                return entry.session.decrypt(&message).map_err(|e| e.to_string());
            }
            let identity = Curve25519PublicKey::from_bytes(device.identity_key.0);
            let created = self
                .account
                .create_inbound_session(SessionConfig::version_1(), identity, pre_key)
                .map_err(|e| e.to_string())?;
            self.keep_session(device.device, created.session, now_ms);
            self.one_time_key_used = true;
            return Ok(created.plaintext);
        }
        let mut last_error = "no session with this device".to_owned();
        for entry in sessions.iter_mut() {
            match entry.session.decrypt(&message) {
                Ok(bytes) => return Ok(bytes),
                Err(err) => last_error = err.to_string(),
            }
        }
        Err(last_error)
    }
}
