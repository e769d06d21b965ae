//! The challenge a connection's sign-in signs: 32 fresh random bytes, or
//! none at all when the system has no randomness to give (a fixed
//! challenge would make a captured signature replayable).

use courier_shared::ids::Challenge;
use std::fmt::Display;

/// A fresh challenge, or `None` without randomness.
pub fn random() -> Option<Challenge> {
    from(getrandom::fill)
}

/// A challenge filled by `fill`, or `None` if it fails.
fn from<E: Display>(fill: impl FnOnce(&mut [u8]) -> Result<(), E>) -> Option<Challenge> {
    let mut bytes = [0u8; 32];
    match fill(&mut bytes) {
        Ok(()) => Some(Challenge::new_const(bytes)),
        Err(err) => {
            tracing::error!(%err, "no randomness for the challenge");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_randomness_means_no_challenge_never_zeros() {
        assert!(super::from(|_: &mut [u8]| Err("entropy source failed")).is_none());
        let filled = super::from(|b: &mut [u8]| {
            b.fill(7);
            Ok::<(), String>(())
        });
        assert_eq!(filled.map(|c| *c.as_bytes()), Some([7; 32]));
        assert!(super::random().is_some());
    }
}
