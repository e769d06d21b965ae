//! Per-device rate limits: kept by the node across the device's
//! connections, and paid by cost — a claim of many keys or an empty
//! acknowledgement (which makes the server read the queue again) is not free.

use courier_shared::ids::{DeviceId, RequestId};
use courier_shared::proto::{ClientFrame, ErrorCode, ServerFrame};
use courier_tests::{Backend, TestApp, TestDevice, spawn_app_with};

/// A server whose devices get `burst` tokens and one more a second.
async fn app(burst: u32) -> TestApp {
    spawn_app_with(Backend::Sqlite, |s| {
        s.rate_limit_per_sec = 1;
        s.rate_limit_burst = burst;
    })
    .await
}

/// Makes `n` one-token requests one after the other; how many were served
/// (the others must be refused `RateLimited`).
async fn served(device: &mut TestDevice, n: usize) -> usize {
    let mut served = 0;
    for _ in 0..n {
        let fetch = ClientFrame::FetchDeviceList {
            request: RequestId::NONE,
            user: device.user,
        };
        match device.call(fetch).await {
            Ok(ServerFrame::DeviceList { .. }) => served += 1,
            Ok(other) => panic!("unexpected answer {other:?}"),
            Err(refusal) => assert_eq!(refusal.code, ErrorCode::RateLimited, "{refusal}"),
        }
    }
    served
}

/// A claim of one key of each of `n` (unknown) devices.
fn claim(n: u64) -> ClientFrame {
    ClientFrame::ClaimKeys {
        request: RequestId::NONE,
        devices: (0..n).map(|d| DeviceId(1_000_000 + d)).collect(),
    }
}

#[tokio::test]
async fn a_reconnect_does_not_refill_the_bucket() {
    let app = app(5).await;
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    assert_eq!(served(&mut ana, 5).await, 5, "the burst is served");
    ana.reconnect().await;
    // Three more right away: a second's refill may serve one, a fresh
    // bucket would serve all three.
    assert!(
        served(&mut ana, 3).await <= 1,
        "the new connection started with a full bucket"
    );
    // Another device is not limited by Ana's bucket.
    let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
    assert_eq!(served(&mut ben, 5).await, 5);
    app.stop().await;
}

#[tokio::test]
async fn a_claim_of_256_keys_drains_more_than_a_claim_of_one() {
    let app = app(300).await;
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
    assert!(matches!(
        ana.call(claim(256)).await,
        Ok(ServerFrame::ClaimedKeys { .. })
    ));
    assert!(matches!(
        ben.call(claim(1)).await,
        Ok(ServerFrame::ClaimedKeys { .. })
    ));
    // Ana has 44 tokens left (and one a second), Ben 299.
    let after_many = served(&mut ana, 100).await;
    assert!(
        (44..60).contains(&after_many),
        "{after_many} served after a 256-key claim"
    );
    assert_eq!(served(&mut ben, 100).await, 100, "a 1-key claim costs one");
    app.stop().await;
}

#[tokio::test]
async fn empty_acks_are_rate_limited() {
    let app = app(5).await;
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    for _ in 0..10 {
        ana.notify(ClientFrame::Ack { ids: vec![] }).await;
    }
    // The acks went first on the socket and spent the burst.
    assert!(
        served(&mut ana, 2).await <= 1,
        "empty acks re-read the queue for free"
    );
    app.stop().await;
}
