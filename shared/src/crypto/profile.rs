//! Profiles: a display name, an about line and a photo, sealed by their
//! owner under a profile key ([`ProfileKey`]) that only the people they
//! chat with receive (inside end-to-end encrypted messages). The server
//! stores the sealed profile and hands it to anyone who asks: without the
//! key it is noise of a bounded size.
//!
//! Every change of a profile seals it under a fresh key, so a person who
//! was removed (and so is not told the new key) cannot read what follows,
//! and a replayed older box never opens under the newest key. The box's
//! associated data names its owner, so the server cannot hand one user's
//! box out as another's.

use super::{CryptoError, aead};
use crate::ids::{Blob, UserId};
use crate::proto::{Text, tuple::wire_struct};

/// Longest display name, in characters (WhatsApp allows 25).
pub const MAX_NAME_CHARS: usize = 40;
/// Longest about line, in characters (WhatsApp allows 139).
pub const MAX_ABOUT_CHARS: usize = 140;
/// Largest profile photo (a JPEG of at most 256 px a side), in bytes.
pub const MAX_PHOTO_BYTES: usize = 40 * 1024;
/// Largest sealed profile, in bytes: the photo, both texts, the encoding,
/// the nonce and the tag.
pub const MAX_SEALED_PROFILE_BYTES: usize = MAX_PHOTO_BYTES + 4 * 1024;

const NAME_BYTES: usize = MAX_NAME_CHARS * 4;
const ABOUT_BYTES: usize = MAX_ABOUT_CHARS * 4;
/// What a profile box is sealed for, with its owner's id after it.
const PURPOSE: &[u8] = b"courier profile v1 ";

wire_struct! {
    /// What a person shows about themselves.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Profile {
        /// The display name (empty: the username is shown).
        pub name: Text<NAME_BYTES>,
        /// The about line.
        pub about: Text<ABOUT_BYTES>,
        /// The photo, a JPEG (empty: initials are shown).
        pub photo: Blob<MAX_PHOTO_BYTES>,
    }
}

/// The key one version of a user's profile is sealed under.
pub type ProfileKey = [u8; 32];

impl Profile {
    /// A profile of `name`, `about` and `photo`, checked against the limits.
    pub fn new(name: &str, about: &str, photo: Vec<u8>) -> Result<Self, String> {
        let (name, about) = (name.trim(), about.trim());
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("A name is at most {MAX_NAME_CHARS} characters."));
        }
        if about.chars().count() > MAX_ABOUT_CHARS {
            return Err(format!(
                "An about line is at most {MAX_ABOUT_CHARS} characters."
            ));
        }
        let photo = Blob::new(photo)
            .ok_or_else(|| format!("A profile photo is at most {} KB.", MAX_PHOTO_BYTES / 1024))?;
        Ok(Self {
            name: Text::truncating(name),
            about: Text::truncating(about),
            photo,
        })
    }

    /// Seals the profile of `owner` under `key` with the random `nonce`.
    pub fn seal(&self, owner: UserId, key: &ProfileKey, nonce: [u8; aead::NONCE_BYTES]) -> Vec<u8> {
        let plain = crate::proto::encode(self).unwrap_or_default();
        aead::seal(key, nonce, &purpose(owner), &plain)
    }

    /// Opens a box sealed by [`Profile::seal`] for `owner` under `key`.
    pub fn open(sealed: &[u8], owner: UserId, key: &ProfileKey) -> Result<Self, CryptoError> {
        let plain = aead::open(key, &purpose(owner), sealed, "profile")?;
        crate::proto::decode(&plain).map_err(|_| CryptoError::Malformed("profile"))
    }
}

fn purpose(owner: UserId) -> Vec<u8> {
    let mut purpose = PURPOSE.to_vec();
    purpose.extend_from_slice(&owner.0.to_be_bytes());
    purpose
}

#[cfg(test)]
mod tests {
    use super::{MAX_PHOTO_BYTES, MAX_SEALED_PROFILE_BYTES, Profile};
    use crate::ids::UserId;

    #[test]
    fn a_profile_opens_only_for_its_owner_under_its_key() {
        let profile = Profile::new(" Ana Lima ", "Hiking, mostly", vec![0xff, 0xd8, 1]).unwrap();
        assert_eq!(profile.name.as_str(), "Ana Lima");
        let sealed = profile.seal(UserId(7), &[1; 32], [2; 12]);
        assert_eq!(
            Profile::open(&sealed, UserId(7), &[1; 32]).unwrap(),
            profile
        );
        assert!(
            Profile::open(&sealed, UserId(8), &[1; 32]).is_err(),
            "another owner"
        );
        assert!(
            Profile::open(&sealed, UserId(7), &[3; 32]).is_err(),
            "an older key"
        );
        assert!(!sealed.windows(4).any(|w| w == b"Lima"));
    }

    #[test]
    fn limits_are_checked_and_the_largest_profile_fits_its_box() {
        assert!(Profile::new(&"n".repeat(41), "", Vec::new()).is_err());
        assert!(Profile::new("", &"a".repeat(141), Vec::new()).is_err());
        assert!(Profile::new("", "", vec![0; MAX_PHOTO_BYTES + 1]).is_err());
        let largest = Profile::new(
            &"🙂".repeat(40),
            &"🙂".repeat(140),
            vec![0; MAX_PHOTO_BYTES],
        );
        let sealed = largest.unwrap().seal(UserId(1), &[1; 32], [0; 12]);
        assert!(sealed.len() <= MAX_SEALED_PROFILE_BYTES, "{}", sealed.len());
    }
}
