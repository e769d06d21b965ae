//! Time and randomness, as the client core receives them: the core does no
//! I/O, so its driver passes in an [`Env`] (the browser's clock and
//! WebCrypto, or the system's). Every timestamp Courier keeps or sends is a
//! [`UnixMs`]; every message id is minted here ([`Env::message_id`]).

use crate::ids::MessageId;

/// A moment in Unix milliseconds: the unit of every stored or sent time.
pub type UnixMs = u64;

/// Where the client core gets the time and random bytes from.
pub trait Env {
    /// Now, in Unix milliseconds.
    fn now_ms(&self) -> UnixMs;
    /// Fills `bytes` with cryptographically secure random bytes.
    fn fill(&mut self, bytes: &mut [u8]);

    /// `N` random bytes.
    fn random<const N: usize>(&mut self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut bytes = [0u8; N];
        self.fill(&mut bytes);
        bytes
    }

    /// A fresh message id: a UUIDv7 of now and ten random bytes.
    fn message_id(&mut self) -> MessageId
    where
        Self: Sized,
    {
        let now = self.now_ms();
        MessageId::v7(now, self.random())
    }
}

/// Now, in Unix milliseconds, from the system clock (native builds; the
/// browser has its own clock).
#[cfg(not(target_arch = "wasm32"))]
pub fn system_now_ms() -> UnixMs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The system's clock and random source (native builds).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnv;

#[cfg(not(target_arch = "wasm32"))]
impl Env for SystemEnv {
    fn now_ms(&self) -> UnixMs {
        system_now_ms()
    }

    fn fill(&mut self, bytes: &mut [u8]) {
        // The operating system's generator does not fail once the process
        // runs; if it ever did, nothing secure could be made.
        if let Err(err) = getrandom::fill(bytes) {
            panic!("no secure randomness: {err}");
        }
    }
}
