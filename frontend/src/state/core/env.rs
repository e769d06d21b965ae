//! [`BrowserEnv`]: the browser's clock and WebCrypto randomness, as the
//! messenger core is given them.

use courier_shared::time::{Env, UnixMs};

/// `Date.now()` and `crypto.getRandomValues`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserEnv;

impl Env for BrowserEnv {
    fn now_ms(&self) -> UnixMs {
        js_sys::Date::now() as UnixMs
    }

    fn fill(&mut self, bytes: &mut [u8]) {
        let filled = web_sys::window()
            .ok_or_else(|| wasm_bindgen::JsValue::from_str("no window"))
            .and_then(|w| w.crypto())
            .and_then(|c| c.get_random_values_with_u8_array(bytes).map(|_| ()));
        // Without secure randomness no key could be trusted: stop here.
        if let Err(err) = filled {
            panic!("no secure randomness in this browser: {err:?}");
        }
    }
}
