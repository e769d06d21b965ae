//! An account's devices are what its latest list names, and no more: a
//! device about to be removed that hid a device of its own (joined by a
//! link it opened, never approved) loses it with the list that removes
//! it, and the hidden device cannot sign in again to publish a list of
//! its own; an account holds at most `MAX_DEVICES` devices.

use courier_backend::store::directory::MAX_DEVICES;
use courier_native::{DriverError, Endpoint, NativeClient};
use courier_shared::client::Connection;
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::proto::ErrorCode;
use courier_tests::secure::{SecureDevice, user_with_two_devices};
use courier_tests::{backends, spawn_app};

#[tokio::test]
async fn a_hidden_device_goes_with_the_list_that_removes_its_maker() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let (mut a1, mut a2) = user_with_two_devices(&ws, "alice").await;
        // The device about to be removed links a hidden one.
        let secret = a2.open_link().await;
        let (mut hidden, _) = SecureDevice::start_link(&ws, &secret.code()).await;
        let hidden_id = hidden.device();
        let store = app.store().await;
        assert!(store.device(hidden_id).await.expect("query").is_some());

        a1.remove_device(a2.device()).await;
        a2.net().closed_with().await;
        hidden.net().closed_with().await; // panics unless the server closes it
        assert_eq!(
            store.device(hidden_id).await.expect("query"),
            None,
            "{backend:?}"
        );
        let again = hidden.net().net.reconnect().await;
        assert!(
            matches!(&again, Err(DriverError::Refused(r)) if r.code == ErrorCode::AuthFailed),
            "{backend:?}: {again:?}"
        );
        store.close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn an_account_holds_at_most_max_devices() {
    let app = spawn_app(courier_tests::Backend::Sqlite).await;
    let ws = app.ws_url();
    let mut first = SecureDevice::register(&ws, "ana").await;
    let mut linked = Vec::new();
    for _ in 1..MAX_DEVICES {
        let secret = first.open_link().await;
        linked.push(SecureDevice::start_link(&ws, &secret.code()).await.0);
    }
    let secret = first.open_link().await;
    let key = DeviceKey::from_seed(courier_tests::device::random_seed());
    let endpoint = Endpoint::from_url(&ws).expect("endpoint");
    let refused = NativeClient::link(endpoint, Connection::new("t"), secret.id(), key).await;
    assert!(
        matches!(&refused, Err(DriverError::Refused(r)) if r.code == ErrorCode::QuotaExceeded),
        "{:?}",
        refused.err()
    );
    app.stop().await;
}
