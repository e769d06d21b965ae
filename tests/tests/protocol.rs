//! The WebSocket protocol against a real server: handshake, heartbeats, limits
//! and bad input. A broken client gets an error frame and a close; everyone
//! else keeps being served.

use courier_shared::proto::{
    ClientFrame, ErrorCode, MAX_FRAME_BYTES, PROTOCOL_VERSION, ServerFrame, Text,
};
use courier_tests::client::Received;
use courier_tests::{Backend, TestClient, backends, spawn_app, spawn_app_with};
use tokio_tungstenite::tungstenite::Message;

/// Expects an error frame with `code`, then a close with `close_code`.
async fn expect_failure(client: &mut TestClient, code: ErrorCode, close_code: u16) {
    match client.recv().await {
        Received::Frame(ServerFrame::Error { code: got, message }) => {
            assert_eq!(got, code, "{message}");
            assert!(!message.as_str().is_empty());
        }
        other => panic!("expected an error frame {code:?}, got {other:?}"),
    }
    match client.recv().await {
        Received::Closed(Some((got, _))) => assert_eq!(got, close_code),
        other => panic!("expected close {close_code}, got {other:?}"),
    }
}

#[tokio::test]
async fn handshake_then_ping_pong_on_every_backend() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut client = TestClient::connect(&app.ws_url()).await;
        client
            .send(&ClientFrame::Hello {
                version: PROTOCOL_VERSION,
                agent: Text::truncating("test"),
            })
            .await;
        match client.recv().await {
            Received::Frame(ServerFrame::Welcome {
                version,
                max_frame,
                heartbeat_secs,
                challenge,
            }) => {
                assert_ne!(challenge.as_bytes(), &[0u8; 32], "a random challenge");
                assert_eq!(version, PROTOCOL_VERSION);
                assert_eq!(max_frame as usize, MAX_FRAME_BYTES);
                assert_eq!(heartbeat_secs, 25);
            }
            other => panic!("expected Welcome, got {other:?}"),
        }
        client.ping(1).await;
        client.ping(u64::MAX).await;
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_other_clients_carry_on() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut bystander = TestClient::connect_and_hello(&app.ws_url()).await;

    let cases: Vec<(Message, ErrorCode, u16)> = vec![
        (
            Message::Binary(vec![0xff, 0x00].into()),
            ErrorCode::Malformed,
            1002,
        ),
        (
            Message::Binary(vec![0x82, 0x18, 0x63, 0x00].into()),
            ErrorCode::UnknownFrame,
            1002,
        ),
        (
            Message::Binary(vec![0u8; MAX_FRAME_BYTES + 1].into()),
            ErrorCode::FrameTooLarge,
            1009,
        ),
        (
            Message::Text("{\"hello\":1}".into()),
            ErrorCode::TextNotSupported,
            1003,
        ),
    ];
    for (message, code, close_code) in cases {
        let mut client = TestClient::connect_and_hello(&app.ws_url()).await;
        client.send_raw(message).await;
        expect_failure(&mut client, code, close_code).await;
        bystander.ping(u64::from(close_code)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn the_handshake_is_enforced() {
    let app = spawn_app(Backend::Sqlite).await;

    let mut early = TestClient::connect(&app.ws_url()).await;
    early.send(&ClientFrame::Ping { nonce: 1 }).await;
    expect_failure(&mut early, ErrorCode::HandshakeRequired, 1002).await;

    let mut future = TestClient::connect(&app.ws_url()).await;
    future
        .send(&ClientFrame::Hello {
            version: PROTOCOL_VERSION + 1,
            agent: Text::truncating("from the future"),
        })
        .await;
    expect_failure(&mut future, ErrorCode::UnsupportedVersion, 1002).await;

    // A page still running the previous build (protocol 1) is told to
    // reload, which brings it the current client.
    let mut old = TestClient::connect(&app.ws_url()).await;
    old.send(&ClientFrame::Hello {
        version: 1,
        agent: Text::truncating("courier-web/0.1.0"),
    })
    .await;
    match old.recv().await {
        Received::Frame(ServerFrame::Error {
            code: ErrorCode::UnsupportedVersion,
            message,
        }) => assert!(message.as_str().contains("reload"), "{message}"),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }

    let mut twice = TestClient::connect_and_hello(&app.ws_url()).await;
    twice
        .send(&ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            agent: Text::truncating("again"),
        })
        .await;
    expect_failure(&mut twice, ErrorCode::HandshakeRequired, 1002).await;
    app.stop().await;
}

#[tokio::test]
async fn silent_clients_are_timed_out() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.handshake_timeout_secs = 3;
        s.heartbeat_secs = 1;
    })
    .await;
    let mut mute = TestClient::connect(&app.ws_url()).await;
    expect_failure(&mut mute, ErrorCode::HandshakeTimeout, 1008).await;

    let mut unsigned = TestClient::connect_and_hello(&app.ws_url()).await;
    expect_failure(&mut unsigned, ErrorCode::HandshakeTimeout, 1008).await;

    let mut idle = courier_tests::TestDevice::register(&app.ws_url(), "idler").await;
    assert_eq!(idle.closed_with().await, Some(ErrorCode::IdleTimeout));
    app.stop().await;
}

#[tokio::test]
async fn the_connection_cap_refuses_extra_sockets_with_503() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.max_connections = 1).await;
    let mut first = TestClient::connect_and_hello(&app.ws_url()).await;
    let err = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .expect_err("second socket refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("expected HTTP 503, got {other}"),
    }
    first.ping(7).await;
    app.stop().await;
}

#[tokio::test]
async fn shutdown_asks_every_client_to_reconnect() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut client = TestClient::connect_and_hello(&app.ws_url()).await;
    let stopping = tokio::spawn(app.stop());
    match client.recv().await {
        Received::Closed(Some((code, _))) => assert_eq!(code, 1012),
        other => panic!("expected close 1012, got {other:?}"),
    }
    drop(client);
    stopping.await.expect("run returned cleanly");
}
