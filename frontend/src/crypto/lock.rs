//! One tab at a time: the device's state is used by the tab that holds the
//! Web Lock `courier-device` for as long as it lives. Another tab waits for
//! it (and says so), so two tabs never advance the same ratchets.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

const NAME: &str = "courier-device";

/// Waits until this tab holds the device lock; keeps it until the page
/// closes. `on_wait` runs if another tab holds it first.
pub async fn hold(on_wait: impl FnOnce()) -> Result<(), JsValue> {
    let navigator = web_sys::window().ok_or("no window")?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into())?;
    if locks.is_undefined() {
        return Err("this browser cannot share Courier safely between tabs (no Web Locks)".into());
    }
    let request: Function = Reflect::get(&locks, &"request".into())?.dyn_into()?;
    let mut signal_acquired = None;
    let acquired = Promise::new(&mut |resolve, _| signal_acquired = Some(resolve));
    let signal_acquired = signal_acquired.ok_or("no resolver")?;
    // The callback runs once the lock is ours; the promise it returns never
    // settles, so the lock is held until the page goes away.
    let callback = Closure::once_into_js(move |lock: JsValue| {
        let held = !lock.is_null();
        let _ = signal_acquired.call1(&JsValue::NULL, &JsValue::from_bool(held));
        if held {
            Promise::new(&mut |_, _| {})
        } else {
            Promise::resolve(&JsValue::UNDEFINED)
        }
    });
    let try_now = Object::new();
    Reflect::set(&try_now, &"ifAvailable".into(), &JsValue::TRUE)?;
    let _ = request.call3(&locks, &NAME.into(), &try_now, &callback)?;
    if JsFuture::from(acquired).await?.as_bool() == Some(true) {
        return Ok(());
    }
    on_wait();
    let mut signal_acquired = None;
    let acquired = Promise::new(&mut |resolve, _| signal_acquired = Some(resolve));
    let signal_acquired = signal_acquired.ok_or("no resolver")?;
    let callback = Closure::once_into_js(move |_lock: JsValue| {
        let _ = signal_acquired.call0(&JsValue::NULL);
        Promise::new(&mut |_, _| {})
    });
    let _ = request.call2(&locks, &NAME.into(), &callback)?;
    JsFuture::from(acquired).await.map(|_| ())
}
