//! Media capture in the browser: photos compressed through a canvas with a
//! tiny preview ([`image`]), voice notes recorded with MediaRecorder
//! ([`voice`]), and any file read as it is.

pub mod image;
pub mod voice;

use courier_shared::client::media_type::safe_type;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// The bytes of `blob` (a file or a recording).
pub async fn bytes_of(blob: &web_sys::Blob) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(blob.array_buffer()).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A `blob:` URL of `bytes`, declared by their sender as `declared` (revoke
/// it when done). The URL is on the app's origin, so only an allowed passive
/// type is kept; anything else is `application/octet-stream`, which a
/// browser saves rather than renders ([`safe_type`]).
pub fn object_url(bytes: &[u8], declared: &str) -> Result<String, JsValue> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(safe_type(declared).mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
    web_sys::Url::create_object_url_with_blob(&blob)
}

/// A `data:` URL of a small JPEG (a thumbnail).
pub fn jpeg_data_url(bytes: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        courier_shared::text_encoding::base64(bytes)
    )
}

/// Whether this browser's `<audio>` may play `mime` (`canPlayType` is not
/// empty). Read through `Reflect`, as no other code needs the media
/// element's bindings.
pub fn can_play(mime: &str) -> bool {
    let Some(audio) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("audio").ok())
    else {
        return false;
    };
    let answer = js_sys::Reflect::get(&audio, &"canPlayType".into())
        .ok()
        .and_then(|f| wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(f).ok())
        .and_then(|f| f.call1(&audio, &mime.into()).ok())
        .and_then(|v| v.as_string());
    answer.is_some_and(|a| !a.is_empty())
}
