//! One-time pre-keys cannot be drained: each claiming device gets a few of
//! another device's one-time keys a day and the fallback key after that,
//! and a device whose stock runs low is told (`KeyCount`) and uploads more.

use courier_shared::crypto::keys::{ONE_TIME_KEY_LOW, ONE_TIME_KEY_TARGET};
use courier_shared::ids::{CurveKey, DeviceId, RequestId};
use courier_shared::proto::{ClientFrame, ServerFrame};
use courier_tests::secure::SecureDevice;
use courier_tests::{Backend, TestDevice, backends, spawn_app, spawn_app_with};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Claims one key of `target` as `claimer`.
async fn claim(claimer: &mut TestDevice, target: DeviceId) -> CurveKey {
    let frame = ClientFrame::ClaimKeys {
        request: RequestId::NONE,
        devices: vec![target],
    };
    match claimer.call(frame).await {
        Ok(ServerFrame::ClaimedKeys { keys, .. }) => {
            assert_eq!(keys.len(), 1, "one key of the one device");
            keys[0].1.key
        }
        other => panic!("unexpected answer {other:?}"),
    }
}

#[tokio::test]
async fn a_claimer_takes_its_budget_of_one_time_keys_then_the_fallback() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| s.prekey_claims_per_day = 3).await;
        let alice = SecureDevice::register(&app.ws_url(), "alice").await;
        let target = alice.device();
        let mut eve = TestDevice::register(&app.ws_url(), "eve").await;
        let mut keys = Vec::new();
        for _ in 0..6 {
            keys.push(claim(&mut eve, target).await);
        }
        let distinct: HashSet<CurveKey> = keys.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            4,
            "three one-time keys, then the fallback ({backend:?})"
        );
        assert!(keys[3] == keys[4] && keys[4] == keys[5]);
        let store = app.store().await;
        let left = store.one_time_key_count(target).await.expect("count");
        assert_eq!(left, ONE_TIME_KEY_TARGET - 3, "{backend:?}");
        // Another claimer still gets a one-time key.
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        assert!(!distinct.contains(&claim(&mut ben, target).await));
        assert_eq!(
            store.one_time_key_count(target).await.expect("count"),
            left - 1
        );
        store.close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn a_device_low_on_one_time_keys_is_told_and_uploads_more() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut alice = SecureDevice::register(&app.ws_url(), "alice").await;
    let target = alice.device();
    let store = app.store().await;
    // Claims straight at the store leave exactly the low mark.
    for _ in ONE_TIME_KEY_LOW..ONE_TIME_KEY_TARGET {
        store
            .claim_prekeys(&[(target, true)])
            .await
            .expect("claimed");
    }
    assert_eq!(
        store.one_time_key_count(target).await.expect("count"),
        ONE_TIME_KEY_LOW
    );
    // One claim through the server takes it below: Alice is told and tops up.
    let mut eve = TestDevice::register(&app.ws_url(), "eve").await;
    claim(&mut eve, target).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        alice.run_for(Duration::from_millis(200)).await;
        let stock = store.one_time_key_count(target).await.expect("count");
        if stock >= ONE_TIME_KEY_TARGET {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "alice still has {stock} one-time keys on the server"
        );
    }
    store.close().await;
    app.stop().await;
}
