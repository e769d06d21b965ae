//! [`Profile`]: what the page needs to know about the account before the
//! messenger core has loaded — its name, its user and whether this device
//! is signed in and approved — sealed under `profile` beside the account.
//! The core (`state::core`) writes it whenever it changes; the first module
//! reads it to choose the page (welcome or chats) without decoding the
//! crypto state, whose code loads later.

use super::vault::Vault;
use courier_shared::ids::UserId;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

const PROFILE: &str = "profile";

/// The account as the first page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Profile {
    /// The account's username.
    pub username: String,
    /// The account's user, once signed in.
    pub me: Option<UserId>,
    /// Signed in with an approved device: the chats page, not the welcome.
    pub ready: bool,
}

/// The saved profile, if the core ever wrote one.
pub async fn load(vault: &Vault) -> Result<Option<Profile>, JsValue> {
    match vault.get(PROFILE).await? {
        Some(bytes) => courier_shared::proto::decode(&bytes)
            .map(Some)
            .map_err(|e| JsValue::from_str(&e.to_string())),
        None => Ok(None),
    }
}

/// Saves `profile`.
pub async fn save(vault: &Vault, profile: &Profile) -> Result<(), JsValue> {
    let bytes =
        courier_shared::proto::encode(profile).map_err(|e| JsValue::from_str(&e.to_string()))?;
    vault.put(PROFILE, &bytes).await
}
