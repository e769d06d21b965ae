//! What client and server agree on about groups.

use crate::ids::{DeviceId, DeviceSetDigest};
use sha2::{Digest, Sha256};

/// Most members of one group.
pub const MAX_GROUP_MEMBERS: usize = 1_024;

/// A digest of a set of devices, in any order and with repeats ignored: the
/// first 16 bytes of SHA-256 over the sorted ids (8 bytes each, big-endian).
/// A group send carries it instead of the list, so it costs 16 bytes
/// however large the group.
pub fn device_set_digest(devices: &[DeviceId]) -> DeviceSetDigest {
    let mut sorted = devices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut hash = Sha256::new();
    for device in sorted {
        hash.update(device.0.to_be_bytes());
    }
    let mut digest = [0; 16];
    digest.copy_from_slice(&hash.finalize()[..16]);
    DeviceSetDigest::from(digest)
}

#[cfg(test)]
mod tests {
    use super::device_set_digest;
    use crate::ids::DeviceId;

    #[test]
    fn the_digest_ignores_order_and_repeats_but_not_members() {
        let a = device_set_digest(&[DeviceId(3), DeviceId(1), DeviceId(2)]);
        assert_eq!(
            a,
            device_set_digest(&[DeviceId(1), DeviceId(2), DeviceId(3), DeviceId(2)])
        );
        assert_ne!(a, device_set_digest(&[DeviceId(1), DeviceId(2)]));
        assert_ne!(
            a,
            device_set_digest(&[DeviceId(1), DeviceId(2), DeviceId(4)])
        );
    }
}
