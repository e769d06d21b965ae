//! Bad input and misbehaving devices: each gets a clear error and changes
//! nothing else — no queue is drained, lost or corrupted.

use courier_shared::client::Event;
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, RequestId, Username};
use courier_shared::proto::{ClientFrame, ErrorCode, MAX_FRAME_BYTES, Payload, ServerFrame, auth};
use courier_tests::client::Received;
use courier_tests::device::new_message_id;
use courier_tests::{TestClient, TestDevice, backends, spawn_app, spawn_app_with};
use std::collections::HashSet;
use tokio_tungstenite::tungstenite::Message;

async fn expect_error(client: &mut TestClient, code: ErrorCode) {
    match client.recv().await {
        Received::Frame(ServerFrame::Error { code: got, .. }) => assert_eq!(got, code),
        other => panic!("expected error {code:?}, got {other:?}"),
    }
    assert!(matches!(client.recv().await, Received::Closed(_)));
}

#[tokio::test]
async fn a_device_cannot_drain_another_devices_queue_or_sign_in_as_it() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let store = app.store().await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        let mut eve = TestDevice::register(&app.ws_url(), "eve").await;
        ben.disconnect().await;
        let id = ana.send_text(&[ben.device], "for ben only").await;
        ana.accepted(id).await;

        eve.send(ClientFrame::Ack { ids: vec![id] }).await;
        eve.idle(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            store.queue_depth(ben.device).await.expect("depth"),
            1,
            "{backend:?}"
        );

        // Eve signs Ben's device in with her own key: refused.
        let mut client = TestClient::connect(&app.ws_url()).await;
        let challenge = client.hello().await;
        let eve_key = DeviceKey::from_seed(eve.seed);
        client
            .send(&ClientFrame::Authenticate {
                request: RequestId::NONE,
                device: ben.device,
                signature: eve_key.sign(&auth::authenticate_message(&challenge)),
            })
            .await;
        expect_error(&mut client, ErrorCode::AuthFailed).await;

        // A signature from an earlier connection (another challenge) is refused too.
        let mut client = TestClient::connect(&app.ws_url()).await;
        let _fresh = client.hello().await;
        let ben_key = DeviceKey::from_seed(ben.seed);
        client
            .send(&ClientFrame::Authenticate {
                request: RequestId::NONE,
                device: ben.device,
                signature: ben_key.sign(&auth::authenticate_message(&challenge)),
            })
            .await;
        expect_error(&mut client, ErrorCode::AuthFailed).await;

        // Unknown devices and forged registrations fail the same way.
        let mut client = TestClient::connect(&app.ws_url()).await;
        let challenge = client.hello().await;
        client
            .send(&ClientFrame::Authenticate {
                request: RequestId::NONE,
                device: DeviceId(987_654),
                signature: eve_key.sign(&auth::authenticate_message(&challenge)),
            })
            .await;
        expect_error(&mut client, ErrorCode::AuthFailed).await;
        let mut client = TestClient::connect(&app.ws_url()).await;
        let challenge = client.hello().await;
        let name = Username::parse("mallory").expect("valid");
        client
            .send(&ClientFrame::Register {
                request: RequestId::NONE,
                username: name.clone(),
                key: ben_key.public_key(),
                signature: eve_key.sign(&auth::register_message(&challenge, &name)),
            })
            .await;
        expect_error(&mut client, ErrorCode::AuthFailed).await;

        ben.reconnect().await;
        assert_eq!(ben.next_message().await.0, id, "Ben still gets his message");
        store.close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn requests_before_sign_in_are_refused() {
    let app = spawn_app(courier_tests::Backend::Sqlite).await;
    let mut client = TestClient::connect(&app.ws_url()).await;
    client.hello().await;
    client.send(&ClientFrame::Ack { ids: vec![] }).await;
    expect_error(&mut client, ErrorCode::AuthRequired).await;
    app.stop().await;
}

#[tokio::test]
async fn bad_frames_from_signed_in_devices_leave_every_queue_intact() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let store = app.store().await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        ben.disconnect().await;
        let id = ana.send_text(&[ben.device], "still here").await;
        ana.accepted(id).await;

        let attacks = [
            Message::Binary(vec![0x9f, 0xff, 0x00].into()),
            Message::Binary(vec![0x83, 0x0b, 0x81, 0x41].into()),
            Message::Binary(vec![0x82, 0x18, 0x77, 0x00].into()),
            Message::Binary(vec![0u8; MAX_FRAME_BYTES + 10].into()),
            Message::Text("{\"send\":1}".into()),
        ];
        let expected = [
            ErrorCode::Malformed,
            ErrorCode::Malformed,
            ErrorCode::UnknownFrame,
            ErrorCode::FrameTooLarge,
            ErrorCode::TextNotSupported,
        ];
        for (n, (attack, code)) in attacks.into_iter().zip(expected).enumerate() {
            let mut eve = TestDevice::register(&app.ws_url(), &format!("eve{n}")).await;
            eve.send_raw(attack).await;
            assert_eq!(eve.closed_with().await, Some(code), "{backend:?}");
            assert_eq!(store.queue_depth(ben.device).await.expect("depth"), 1);
        }
        ben.reconnect().await;
        assert_eq!(ben.next_message().await.0, id);
        store.close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn the_rate_limit_holds_and_the_outbox_delivers_everything_once() {
    let app = spawn_app_with(courier_tests::Backend::Sqlite, |s| {
        s.rate_limit_per_sec = 10;
        s.rate_limit_burst = 5;
    })
    .await;
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
    let mut sent = Vec::new();
    for n in 0..20 {
        let id = new_message_id();
        let frame = ClientFrame::SendFanout {
            request: RequestId::NONE,
            id,
            to: vec![ben.device],
            payload: Payload::new(format!("burst {n}").into_bytes()).expect("small"),
        };
        ana.send_durable(id, frame).await;
        sent.push(id);
    }
    let limited = ana
        .run_outbox(std::time::Duration::from_millis(300))
        .await
        .into_iter()
        .any(|e| matches!(e, Event::Answer { answer: Err(r), .. } if r.code == ErrorCode::RateLimited));
    assert!(limited, "the burst is over the limit");

    // Both devices run side by side: Ana's outbox retries what was refused.
    let mut received = HashSet::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while received.len() < sent.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} arrived",
            received.len()
        );
        ana.run_outbox(std::time::Duration::from_millis(200)).await;
        for event in ben.idle(std::time::Duration::from_millis(200)).await {
            if let Event::Message { id, .. } = event {
                assert!(received.insert(id), "a message was shown twice");
            }
        }
    }
    assert_eq!(received, sent.into_iter().collect::<HashSet<_>>());
    // The last acceptances may still be on their way.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ana.outbox.is_empty() && std::time::Instant::now() < deadline {
        ana.run_outbox(std::time::Duration::from_millis(200)).await;
    }
    assert!(ana.outbox.is_empty(), "every send was accepted");
    app.stop().await;
}
