//! [`Text`]: a UTF-8 string with a byte limit checked while decoding.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

/// A string of at most `MAX` bytes. Decoding a longer one fails, so a handler
/// never sees an oversized field; building one from a longer `&str` truncates
/// at a character boundary.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Wraps `value`, cutting it at the last character boundary within `MAX` bytes.
    pub fn truncating(value: &str) -> Self {
        let mut end = value.len().min(MAX);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        Self(value[..end].to_owned())
    }

    /// The string itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> Serialize for Text<MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        if value.len() > MAX {
            return Err(de::Error::invalid_length(
                value.len(),
                &"a string within the field's byte limit",
            ));
        }
        Ok(Self(value))
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn truncating_keeps_whole_characters() {
        assert_eq!(Text::<4>::truncating("héllo").as_str(), "hél");
        assert_eq!(Text::<3>::truncating("héllo").as_str(), "hé");
        assert_eq!(Text::<8>::truncating("ok").as_str(), "ok");
    }
}
