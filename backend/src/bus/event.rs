//! [`Event`]s between nodes, and their compact text form for `NOTIFY`.

use courier_shared::ids::{DeviceId, UserId};

/// Something another node must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// New entries wait in these devices' queues.
    Wake(Vec<DeviceId>),
    /// A user came online or went offline.
    Presence {
        /// The user.
        user: UserId,
        /// Whether they are online now.
        online: bool,
        /// When they were last online (Unix ms).
        last_seen: u64,
    },
    /// A typing indicator for `to`'s devices.
    Typing {
        /// Who is typing.
        from: UserId,
        /// To whom.
        to: UserId,
        /// Started or stopped.
        typing: bool,
    },
    /// The device signed in on another node: close its older connections
    /// (unless the device has signed in here since: see the listener).
    Evict(DeviceId),
    /// The device was removed from its account: close its connections.
    Removed(DeviceId),
    /// A claim left the device fewer one-time keys than it should keep:
    /// tell it (`KeyCount`), so that it uploads more.
    KeysLow {
        /// The device.
        device: DeviceId,
        /// How many one-time keys it has left on the server.
        one_time: u32,
    },
    /// Devices, device lists or group membership changed: facts about
    /// them that a node keeps are out of date.
    Directory,
}

impl Event {
    /// `NODE|KIND|FIELDS`, for example `17|w|4,9` or `17|p|3|1|1700000000000`.
    pub fn encode(&self, node: i64) -> String {
        match self {
            Self::Wake(devices) => {
                let ids: Vec<String> = devices.iter().map(|d| d.0.to_string()).collect();
                format!("{node}|w|{}", ids.join(","))
            }
            Self::Presence {
                user,
                online,
                last_seen,
            } => format!("{node}|p|{}|{}|{last_seen}", user.0, u8::from(*online)),
            Self::Typing { from, to, typing } => {
                format!("{node}|t|{}|{}|{}", from.0, to.0, u8::from(*typing))
            }
            Self::Evict(device) => format!("{node}|e|{}", device.0),
            Self::Removed(device) => format!("{node}|r|{}", device.0),
            Self::KeysLow { device, one_time } => format!("{node}|k|{}|{one_time}", device.0),
            Self::Directory => format!("{node}|d"),
        }
    }

    /// The sending node and the event, or `None` for text that is not one.
    pub fn decode(text: &str) -> Option<(i64, Self)> {
        let mut parts = text.split('|');
        let node = parts.next()?.parse().ok()?;
        let kind = parts.next()?;
        let mut number = || parts.next()?.parse::<u64>().ok();
        let event = match kind {
            "w" => {
                let list = text.splitn(3, '|').nth(2)?;
                let devices = list
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().ok().map(DeviceId))
                    .collect::<Option<Vec<_>>>()?;
                Self::Wake(devices)
            }
            "p" => Self::Presence {
                user: UserId(number()?),
                online: number()? == 1,
                last_seen: number()?,
            },
            "t" => Self::Typing {
                from: UserId(number()?),
                to: UserId(number()?),
                typing: number()? == 1,
            },
            "e" => Self::Evict(DeviceId(number()?)),
            "r" => Self::Removed(DeviceId(number()?)),
            "k" => Self::KeysLow {
                device: DeviceId(number()?),
                one_time: u32::try_from(number()?).ok()?,
            },
            "d" => Self::Directory,
            _ => return None,
        };
        Some((node, event))
    }
}

#[cfg(test)]
mod tests {
    use super::Event;
    use courier_shared::ids::{DeviceId, UserId};

    #[test]
    fn every_event_survives_its_text_form() {
        let events = [
            Event::Wake(vec![DeviceId(4), DeviceId(9)]),
            Event::Wake(vec![]),
            Event::Presence {
                user: UserId(3),
                online: true,
                last_seen: 1_700_000_000_000,
            },
            Event::Typing {
                from: UserId(1),
                to: UserId(2),
                typing: false,
            },
            Event::Evict(DeviceId(7)),
            Event::Removed(DeviceId(8)),
            Event::KeysLow {
                device: DeviceId(5),
                one_time: 19,
            },
            Event::Directory,
        ];
        for event in events {
            assert_eq!(Event::decode(&event.encode(17)), Some((17, event)));
        }
        for junk in [
            "",
            "x|w|1",
            "1|q|2",
            "1|w|a,b",
            "1|p|1",
            "1|e|-3",
            "1|k|5|99999999999",
        ] {
            assert_eq!(Event::decode(junk), None, "{junk}");
        }
    }
}
