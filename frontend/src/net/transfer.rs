//! Moving media ciphertext to and from the object store over signed URLs,
//! with progress and cancel (XMLHttpRequest: `fetch` reports no upload
//! progress).

use futures_channel::oneshot;
use js_sys::{ArrayBuffer, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{ProgressEvent, XmlHttpRequest, XmlHttpRequestResponseType};

/// A transfer under way: abort it to cancel.
#[derive(Clone)]
pub struct Transfer(XmlHttpRequest);

impl Transfer {
    /// Stops the transfer; it then fails with "cancelled".
    pub fn cancel(&self) {
        let _ = self.0.abort();
    }
}

/// How a transfer ended: the downloaded body (none for uploads), or why not.
type Outcome = Result<Option<Vec<u8>>, String>;

type Done = Rc<RefCell<Option<oneshot::Sender<Outcome>>>>;

fn finish(done: &Done, outcome: Outcome) {
    if let Some(sender) = done.borrow_mut().take() {
        let _ = sender.send(outcome);
    }
}

/// Starts `PUT body` (upload) or `GET` (download) of `url`; progress goes
/// to `progress` (0–1). Returns the transfer and its outcome: the body
/// downloaded, or why it failed.
fn start<P: Fn(f64) + 'static>(
    method: &str,
    url: &str,
    upload: Option<(&[u8], &str)>,
    progress: P,
) -> Result<
    (
        Transfer,
        impl std::future::Future<Output = Outcome> + use<P>,
    ),
    String,
> {
    let xhr = XmlHttpRequest::new().map_err(|_| "no XMLHttpRequest")?;
    xhr.open(method, url).map_err(|_| "bad URL")?;
    let (sender, receiver) = oneshot::channel();
    let done: Done = Rc::new(RefCell::new(Some(sender)));
    let on_progress = Closure::<dyn Fn(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            progress(e.loaded() / e.total());
        }
    });
    let request = xhr.clone();
    let finished = done.clone();
    let on_load = Closure::<dyn Fn()>::new(move || {
        let status = request.status().unwrap_or(0);
        let outcome = if (200..300).contains(&status) {
            Ok(request
                .response()
                .ok()
                .and_then(|r| r.dyn_into::<ArrayBuffer>().ok())
                .map(|buffer| Uint8Array::new(&buffer).to_vec()))
        } else {
            Err(format!("the media store answered {status}"))
        };
        finish(&finished, outcome);
    });
    let failed = done.clone();
    let on_error = Closure::<dyn Fn()>::new(move || {
        finish(&failed, Err("the transfer failed (network)".into()));
    });
    let aborted = done;
    let on_abort = Closure::<dyn Fn()>::new(move || finish(&aborted, Err("cancelled".into())));
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    match upload {
        Some((body, checksum)) => {
            if let Ok(target) = xhr.upload() {
                target.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            }
            // A bucket checks the body against this (bound to the URL).
            xhr.set_request_header("x-amz-checksum-sha256", checksum)
                .map_err(|_| "cannot set the checksum")?;
            // Also bound to the URL: stored inert, created once.
            for (name, value) in courier_shared::crypto::media::UPLOAD_HEADERS {
                xhr.set_request_header(name, value)
                    .map_err(|_| "cannot set an upload header")?;
            }
            xhr.send_with_opt_u8_array(Some(body))
                .map_err(|_| "cannot send")?;
        }
        None => {
            xhr.set_response_type(XmlHttpRequestResponseType::Arraybuffer);
            xhr.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            xhr.send().map_err(|_| "cannot send")?;
        }
    }
    let outcome = async move {
        let result = receiver.await.unwrap_or(Err("cancelled".into()));
        // The handlers live until the request is over.
        drop((on_progress, on_load, on_error, on_abort));
        result
    };
    Ok((Transfer(xhr), outcome))
}

/// Uploads `body` to `url` (declaring its base64 SHA-256 `checksum`).
pub fn upload<P: Fn(f64) + 'static>(
    url: &str,
    body: &[u8],
    checksum: &str,
    progress: P,
) -> Result<
    (
        Transfer,
        impl std::future::Future<Output = Result<(), String>> + use<P>,
    ),
    String,
> {
    let (transfer, outcome) = start("PUT", url, Some((body, checksum)), progress)?;
    Ok((transfer, async move { outcome.await.map(|_| ()) }))
}

/// Downloads `url`.
pub fn download<P: Fn(f64) + 'static>(
    url: &str,
    progress: P,
) -> Result<impl std::future::Future<Output = Result<Vec<u8>, String>> + use<P>, String> {
    let (_, outcome) = start("GET", url, None, progress)?;
    Ok(async move { outcome.await.map(Option::unwrap_or_default) })
}
