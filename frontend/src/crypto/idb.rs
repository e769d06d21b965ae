//! A minimal IndexedDB key–value store on `web-sys`: one database, one object
//! store, values of any structured-cloneable type (bytes, `CryptoKey`s). Where
//! the database lives is [`super::place`]'s business.

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbCursor, IdbCursorDirection, IdbDatabase, IdbFactory, IdbKeyRange, IdbOpenDbRequest,
    IdbRequest, IdbTransactionMode,
};

/// The database's name (in whichever place it lives).
pub const DATABASE: &str = "courier";
const STORE: &str = "vault";

/// A connection to the vault's IndexedDB database; closed when dropped, and
/// when another page asks to delete the database.
pub struct Db(IdbDatabase);

impl Drop for Db {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Resolves when `request` succeeds, with its result.
pub(super) async fn finished(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        let done = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &done.result().unwrap_or(JsValue::UNDEFINED));
        });
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(
                &JsValue::NULL,
                &JsValue::from_str("IndexedDB refused the request"),
            );
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

impl Db {
    /// Opens (creating on first use) the database of `factory`.
    pub async fn open_in(factory: &IdbFactory) -> Result<Self, JsValue> {
        let request: IdbOpenDbRequest = factory.open_with_u32(DATABASE, 1)?;
        let upgrading = request.clone();
        let on_upgrade = Closure::once_into_js(move || {
            if let Ok(db) = upgrading.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                let _ = db.create_object_store(STORE);
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db: IdbDatabase = finished(&request).await?.dyn_into()?;
        let closing = db.clone();
        let on_version_change = Closure::once_into_js(move || closing.close());
        db.set_onversionchange(Some(on_version_change.unchecked_ref()));
        Ok(Self(db))
    }

    /// The value under `key` (`undefined` if none).
    pub async fn get(&self, key: &str) -> Result<JsValue, JsValue> {
        let tx = self.0.transaction_with_str(STORE)?;
        let request = tx.object_store(STORE)?.get(&JsValue::from_str(key))?;
        finished(&request).await
    }

    /// Every key from `lower` (inclusive) to `upper` (exclusive), in order.
    pub async fn keys(&self, lower: &str, upper: &str) -> Result<Vec<String>, JsValue> {
        self.first_keys(lower, upper, u32::MAX).await
    }

    /// The first `limit` keys from `lower` (inclusive) to `upper`
    /// (exclusive), in order.
    pub async fn first_keys(
        &self,
        lower: &str,
        upper: &str,
        limit: u32,
    ) -> Result<Vec<String>, JsValue> {
        let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
            &JsValue::from_str(lower),
            &JsValue::from_str(upper),
            false,
            true,
        )?;
        let tx = self.0.transaction_with_str(STORE)?;
        let store = tx.object_store(STORE)?;
        let request = if limit == u32::MAX {
            store.get_all_keys_with_key(&range)?
        } else {
            store.get_all_keys_with_key_and_limit(&range, limit)?
        };
        let keys: js_sys::Array = finished(&request).await?.dyn_into()?;
        Ok(keys.iter().filter_map(|k| k.as_string()).collect())
    }

    /// The last `limit` keys from `lower` (inclusive) to `upper`
    /// (exclusive), in order: read backwards with a key cursor, so a long
    /// range costs only the keys returned.
    pub async fn last_keys(
        &self,
        lower: &str,
        upper: &str,
        limit: usize,
    ) -> Result<Vec<String>, JsValue> {
        let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
            &JsValue::from_str(lower),
            &JsValue::from_str(upper),
            false,
            true,
        )?;
        let tx = self.0.transaction_with_str(STORE)?;
        let request = tx
            .object_store(STORE)?
            .open_key_cursor_with_range_and_direction(&range, IdbCursorDirection::Prev)?;
        let mut keys = Vec::new();
        while keys.len() < limit {
            // Each step's success comes after its handler is set (events
            // are dispatched later), and the transaction stays active in
            // the promise reaction that continues the cursor.
            let Ok(cursor) = finished(&request).await?.dyn_into::<IdbCursor>() else {
                break;
            };
            keys.push(cursor.key()?.as_string().unwrap_or_default());
            if keys.len() < limit {
                cursor.continue_()?;
            }
        }
        keys.reverse();
        Ok(keys)
    }

    /// Every value from key `first` to key `last` (both inclusive), in key order.
    pub async fn values(&self, first: &str, last: &str) -> Result<Vec<JsValue>, JsValue> {
        let range = IdbKeyRange::bound(&JsValue::from_str(first), &JsValue::from_str(last))?;
        let tx = self.0.transaction_with_str(STORE)?;
        let request = tx.object_store(STORE)?.get_all_with_key(&range)?;
        let values: js_sys::Array = finished(&request).await?.dyn_into()?;
        Ok(values.iter().collect())
    }

    /// Every key and every value, in key order (one read transaction).
    pub async fn all(&self) -> Result<(Vec<String>, Vec<JsValue>), JsValue> {
        let tx = self.0.transaction_with_str(STORE)?;
        let store = tx.object_store(STORE)?;
        let (keys, values) = (store.get_all_keys()?, store.get_all()?);
        // Both handlers are set before either request can finish.
        let (keys, values) = futures_util::future::join(finished(&keys), finished(&values)).await;
        let (keys, values): (js_sys::Array, js_sys::Array) =
            (keys?.dyn_into()?, values?.dyn_into()?);
        let keys = keys.iter().map(|k| k.as_string().unwrap_or_default());
        Ok((keys.collect(), values.iter().collect()))
    }

    /// Stores `value` under `key`; resolves once the transaction committed.
    pub async fn put(&self, key: &str, value: &JsValue) -> Result<(), JsValue> {
        self.commit(&[(key, value.clone())], &[]).await
    }

    /// Stores each of `puts` and deletes each of `deletes` in one
    /// transaction: all or nothing. Resolves once it committed.
    pub async fn commit(&self, puts: &[(&str, JsValue)], deletes: &[&str]) -> Result<(), JsValue> {
        self.write(false, puts, deletes).await
    }

    /// Replaces everything in the store with `puts`, in one transaction.
    pub async fn replace(&self, puts: &[(&str, JsValue)]) -> Result<(), JsValue> {
        self.write(true, puts, &[]).await
    }

    async fn write(
        &self,
        clear: bool,
        puts: &[(&str, JsValue)],
        deletes: &[&str],
    ) -> Result<(), JsValue> {
        let tx = self
            .0
            .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)?;
        let store = tx.object_store(STORE)?;
        if clear {
            store.clear()?;
        }
        for (key, value) in puts {
            store.put_with_key(value, &JsValue::from_str(key))?;
        }
        for key in deletes {
            store.delete(&JsValue::from_str(key))?;
        }
        let committed = Promise::new(&mut |resolve, reject| {
            let on_complete = Closure::once_into_js(move || {
                let _ = resolve.call0(&JsValue::NULL);
            });
            let on_error = Closure::once_into_js(move || {
                let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("the write failed"));
            });
            tx.set_oncomplete(Some(on_complete.unchecked_ref()));
            tx.set_onerror(Some(on_error.unchecked_ref()));
        });
        JsFuture::from(committed).await.map(|_| ())
    }
}
