//! [`ReceiptKind`]: how far a message got.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The two receipts: the double check mark and the blue one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReceiptKind {
    /// A recipient device received the message.
    Delivered,
    /// The recipient read the message.
    Read,
}

impl ReceiptKind {
    /// The kind's number on the wire and in storage.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Delivered => 1,
            Self::Read => 2,
        }
    }

    /// The kind for a number, if it names one.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::Delivered),
            2 => Some(Self::Read),
            _ => None,
        }
    }
}

impl Serialize for ReceiptKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.as_u8())
    }
}

impl<'de> Deserialize<'de> for ReceiptKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u8::deserialize(deserializer)?;
        Self::from_u8(value).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Unsigned(value.into()), &"1 or 2")
        })
    }
}
