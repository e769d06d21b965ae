//! Where the vault's database lives. IndexedDB keeps overwritten and deleted
//! values in its files until the browser compacts them, so a value deleted
//! through IndexedDB may still be read from a copy of the profile. Where the
//! browser has Storage Buckets (Chromium), the vault therefore lives in a
//! bucket of its own, `courier-vault-N`: a move (turning the app lock on)
//! writes the vault whole into bucket N+1, then deletes bucket N, and the
//! browser removes that bucket's files. Elsewhere, and for vaults made
//! before buckets were used until their first move, it lives in the origin's
//! default IndexedDB.

use super::idb::{DATABASE, Db};
use js_sys::{Array, Function, Promise, Reflect};
use std::cell::{Cell, RefCell};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::IdbFactory;

/// The name of bucket N is this prefix and N.
const PREFIX: &str = "courier-vault-";

/// One place the vault can live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The origin's default IndexedDB.
    Default,
    /// The storage bucket `courier-vault-N`.
    Bucket(u32),
}

thread_local! {
    /// The place found at start, or moved to since.
    static CURRENT: Cell<Option<Place>> = const { Cell::new(None) };
    /// The buckets opened, kept for the page's life: Chromium closes the
    /// connections of a bucket whose `StorageBucket` object was collected,
    /// without an event, and their requests then never finish.
    static OPENED: RefCell<Vec<JsValue>> = const { RefCell::new(Vec::new()) };
}

/// `navigator.storageBuckets`, where the browser has it.
fn buckets() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    Reflect::get(&navigator, &"storageBuckets".into())
        .ok()
        .filter(|api| !api.is_undefined() && !api.is_null())
}

/// Calls `api.name(args…)` and awaits the promise it returns.
async fn call(api: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let method: Function = Reflect::get(api, &name.into())?.dyn_into()?;
    let promise: Promise = method
        .apply(api, &args.iter().collect::<Array>())?
        .dyn_into()?;
    JsFuture::from(promise).await
}

fn bucket_name(n: u32) -> String {
    format!("{PREFIX}{n}")
}

fn default_factory() -> Result<IdbFactory, JsValue> {
    web_sys::window()
        .ok_or("no window")?
        .indexed_db()?
        .ok_or_else(|| "IndexedDB is not available".into())
}

/// The IndexedDB factory of `place`.
pub async fn factory(place: Place) -> Result<IdbFactory, JsValue> {
    match (place, buckets()) {
        (Place::Default, _) => default_factory(),
        (Place::Bucket(n), Some(api)) => {
            let bucket = call(&api, "open", &[bucket_name(n).into()]).await?;
            let factory = Reflect::get(&bucket, &"indexedDB".into())?.dyn_into();
            OPENED.with(|opened| opened.borrow_mut().push(bucket));
            factory
        }
        (Place::Bucket(_), None) => Err("this browser has no storage buckets".into()),
    }
}

/// The numbers of the vault's buckets, highest first.
async fn bucket_numbers(api: &JsValue) -> Result<Vec<u32>, JsValue> {
    let names: Array = call(api, "keys", &[]).await?.dyn_into()?;
    let mut numbers: Vec<u32> = names
        .iter()
        .filter_map(|name| name.as_string()?.strip_prefix(PREFIX)?.parse().ok())
        .collect();
    numbers.sort_unstable_by(|a, b| b.cmp(a));
    Ok(numbers)
}

/// Whether the default IndexedDB has Courier's database (asked without
/// opening it, which would make an empty one).
async fn default_exists() -> Result<bool, JsValue> {
    let factory = JsValue::from(default_factory()?);
    let listed: Array = call(&factory, "databases", &[]).await?.dyn_into()?;
    Ok(listed.iter().any(|info| {
        Reflect::get(&info, &"name".into())
            .ok()
            .and_then(|name| name.as_string())
            .is_some_and(|name| name == DATABASE)
    }))
}

/// Where the vault lives; found once, at the first call. A bucket holding
/// any of the records `marks` is complete (a move writes the vault in one
/// transaction, and every vault holds one of them): one without is what a
/// page closed halfway through a move left behind.
pub async fn current(marks: &[&str]) -> Result<Place, JsValue> {
    if let Some(place) = CURRENT.get() {
        return Ok(place);
    }
    let place = find(marks).await?;
    CURRENT.set(Some(place));
    Ok(place)
}

/// The highest complete bucket (removing leftovers: half-written buckets
/// above it, and the places a finished move did not get to delete); the
/// default IndexedDB if it holds a vault and no bucket does; a first bucket
/// for a new vault.
async fn find(marks: &[&str]) -> Result<Place, JsValue> {
    let Some(api) = buckets() else {
        return Ok(Place::Default);
    };
    let (numbers, in_default) =
        futures_util::future::join(bucket_numbers(&api), default_exists()).await;
    let (numbers, in_default) = (numbers?, in_default?);
    for (at, &n) in numbers.iter().enumerate() {
        let db = Db::open_in(&factory(Place::Bucket(n)).await?).await?;
        let mut whole = false;
        for mark in marks {
            whole = whole || !db.get(mark).await?.is_undefined();
        }
        drop(db);
        if !whole {
            remove(Place::Bucket(n)).await?;
            continue;
        }
        for &older in &numbers[at + 1..] {
            remove(Place::Bucket(older)).await?;
        }
        if in_default {
            remove(Place::Default).await?;
        }
        return Ok(Place::Bucket(n));
    }
    Ok(if in_default {
        Place::Default
    } else {
        Place::Bucket(1)
    })
}

/// Where a move from `from` goes: the next bucket; `None` where the
/// browser has no buckets (the vault is then rewritten where it is).
pub fn next(from: Place) -> Option<Place> {
    buckets()?;
    Some(match from {
        Place::Default => Place::Bucket(1),
        Place::Bucket(n) => Place::Bucket(n + 1),
    })
}

/// Records that the vault now lives at `to`, then deletes `from` (its
/// connections must be closed). A failure to delete is left to the next
/// start, which removes what a finished move left behind.
pub async fn moved(from: Place, to: Place) {
    CURRENT.set(Some(to));
    if let Err(err) = remove(from).await {
        web_sys::console::warn_2(
            &"the vault's old place stays until the next start:".into(),
            &err,
        );
    }
}

/// Deletes the vault's database at `place` (a bucket whole, with its files).
async fn remove(place: Place) -> Result<(), JsValue> {
    match (place, buckets()) {
        (Place::Bucket(n), Some(api)) => call(&api, "delete", &[bucket_name(n).into()])
            .await
            .map(|_| ()),
        (Place::Bucket(_), None) => Ok(()),
        (Place::Default, _) => {
            let request = default_factory()?.delete_database(DATABASE)?;
            super::idb::finished(&request).await.map(|_| ())
        }
    }
}
