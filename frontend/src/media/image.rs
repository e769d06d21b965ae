//! Photos: decoded by the browser, scaled so the longest side is at most
//! 1600 px and re-encoded as JPEG through a canvas, with a tiny preview
//! (at most 32 px, about 1 KB) that travels inside the message and is shown
//! blurred until the photo itself is downloaded. A canvas that cannot
//! make JPEG gives PNG instead (the HTML standard's fallback): the photo is
//! then sent as the PNG it is, with its real type. Compression is a lazily
//! loaded feature (`photos`, see [`crate::lazy`]): [`compress`] loads its
//! module.

use crate::lazy::Work;
use courier_shared::crypto::media::MAX_THUMBNAIL_BYTES;
use courier_shared::text_encoding;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap};

/// Longest side of a sent photo, in pixels.
pub const MAX_SIDE: u32 = 1_600;
/// Longest side of a preview, in pixels.
const PREVIEW_SIDE: u32 = 32;

/// A photo ready to seal.
pub struct Photo {
    /// The encoded bytes (JPEG, or PNG where the canvas makes no JPEG).
    pub jpeg: Vec<u8>,
    /// Their type: `image/jpeg`, or `image/png`.
    pub mime: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The tiny JPEG preview.
    pub preview: Vec<u8>,
}

/// Compresses the picture in `blob`.
pub async fn compress(blob: &web_sys::Blob) -> Result<Photo, JsValue> {
    compress_in_module(blob.clone())
        .await
        .map_err(|err| JsValue::from_str(&err.to_string()))?
        .await
}

crate::lazy! { photos, preload_photos:
    /// [`compress`], in the photos module.
    pub(crate) fn compress_in_module(blob: web_sys::Blob) -> Work<Result<Photo, JsValue>> {
        Box::pin(async move { compress_now(&blob).await })
    }
}

/// Longest side of a profile photo, in pixels.
const AVATAR_SIDE: u32 = 256;

/// The picture in `blob` as a profile photo: its middle square, at most
/// 256 px a side, as JPEG within
/// [`courier_shared::crypto::profile::MAX_PHOTO_BYTES`].
pub async fn avatar(blob: &web_sys::Blob) -> Result<Vec<u8>, JsValue> {
    avatar_in_module(blob.clone())
        .await
        .map_err(|err| JsValue::from_str(&err.to_string()))?
        .await
}

/// Makes the picture chosen in the file input of `ev` a profile photo
/// ([`avatar`]) and hands it to `done` (or why it cannot be one); nothing
/// if no file was chosen.
pub fn on_avatar_picked(ev: &web_sys::Event, done: impl FnOnce(Result<Vec<u8>, String>) + 'static) {
    let Some(file) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
    else {
        return;
    };
    leptos::task::spawn_local(async move {
        let made = avatar(&file).await.map_err(|err| {
            format!(
                "This picture cannot be used: {}",
                crate::state::js_text(err)
            )
        });
        done(made);
    });
}

crate::lazy! { photos, preload_avatar:
    /// [`avatar`], in the photos module.
    pub(crate) fn avatar_in_module(blob: web_sys::Blob) -> Work<Result<Vec<u8>, JsValue>> {
        Box::pin(async move { avatar_now(&blob).await })
    }
}

async fn avatar_now(blob: &web_sys::Blob) -> Result<Vec<u8>, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(blob)?)
        .await?
        .dyn_into()?;
    let side = bitmap.width().min(bitmap.height()).max(1);
    let square = Region {
        x: (bitmap.width() - side) / 2,
        y: (bitmap.height() - side) / 2,
        width: side,
        height: side,
    };
    let (out, _) = fit(side, side, AVATAR_SIDE);
    let mut attempts = [(out, 0.82), (out, 0.6), (out * 3 / 4, 0.5)].into_iter();
    let result = loop {
        let Some((size, quality)) = attempts.next() else {
            break Err("the photo does not fit a profile; pick a simpler one".into());
        };
        let (jpeg, _) = encode_region(&bitmap, square, size.max(1), size.max(1), quality)?;
        if jpeg.len() <= courier_shared::crypto::profile::MAX_PHOTO_BYTES {
            break Ok(jpeg);
        }
    };
    bitmap.close();
    result
}

async fn compress_now(blob: &web_sys::Blob) -> Result<Photo, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(blob)?)
        .await?
        .dyn_into()?;
    let (width, height) = fit(bitmap.width(), bitmap.height(), MAX_SIDE);
    let (jpeg, mime) = encode(&bitmap, width, height, 0.82)?;
    let (small_w, small_h) = fit(width, height, PREVIEW_SIDE);
    let (mut preview, _) = encode(&bitmap, small_w, small_h, 0.5)?;
    if preview.len() > MAX_THUMBNAIL_BYTES {
        (preview, _) = encode(&bitmap, small_w / 2 + 1, small_h / 2 + 1, 0.3)?;
    }
    bitmap.close();
    Ok(Photo {
        jpeg,
        mime,
        width,
        height,
        preview,
    })
}

/// `width`×`height` scaled down (never up) so the longest side is `side`.
fn fit(width: u32, height: u32, side: u32) -> (u32, u32) {
    let longest = width.max(height).max(1);
    if longest <= side {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(side) / f64::from(longest);
    let scaled = |n: u32| ((f64::from(n) * scale).round() as u32).max(1);
    (scaled(width), scaled(height))
}

/// A rectangle of a picture, in its pixels.
#[derive(Debug, Clone, Copy)]
struct Region {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

/// `bitmap` drawn at `width`×`height` and encoded as JPEG at `quality`
/// (or as PNG, where the canvas makes no JPEG), with the type it got.
fn encode(
    bitmap: &ImageBitmap,
    width: u32,
    height: u32,
    quality: f64,
) -> Result<(Vec<u8>, &'static str), JsValue> {
    let whole = Region {
        x: 0,
        y: 0,
        width: bitmap.width(),
        height: bitmap.height(),
    };
    encode_region(bitmap, whole, width, height, quality)
}

/// The `from` part of `bitmap`, drawn and encoded as [`encode`] does.
fn encode_region(
    bitmap: &ImageBitmap,
    from: Region,
    width: u32,
    height: u32,
    quality: f64,
) -> Result<(Vec<u8>, &'static str), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvas: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or("no 2d canvas")?
        .dyn_into()?;
    context.draw_image_with_image_bitmap_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
        bitmap,
        f64::from(from.x),
        f64::from(from.y),
        f64::from(from.width),
        f64::from(from.height),
        0.0,
        0.0,
        f64::from(width),
        f64::from(height),
    )?;
    let url = canvas.to_data_url_with_type_and_encoder_options("image/jpeg", &quality.into())?;
    let (head, base64) = url.split_once(',').unwrap_or_default();
    let mime = match head {
        "data:image/jpeg;base64" => "image/jpeg",
        "data:image/png;base64" => "image/png",
        _ => return Err(format!("the canvas gave neither JPEG nor PNG: {head}").into()),
    };
    let bytes = text_encoding::base64_decode(base64).ok_or("the canvas gave no image")?;
    Ok((bytes, mime))
}
