//! Before sign-in a connection gets a few tries, not an endless supply:
//! refused registrations (a taken name) close the socket after
//! `MAX_REFUSED_SIGN_INS`; one address may register only so many accounts
//! and hold only so many connections that have not signed in; a request's
//! headers must arrive within a deadline. The server keeps serving everyone
//! else.

use courier_backend::session::task::MAX_REFUSED_SIGN_INS;
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{RequestId, Username};
use courier_shared::proto::{ClientFrame, ErrorCode, ServerFrame, auth};
use courier_tests::client::Received;
use courier_tests::device::random_seed;
use courier_tests::{Backend, TestClient, TestDevice, spawn_app, spawn_app_with};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn refused_registrations_close_the_socket_after_a_few() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    let mut client = TestClient::connect(&app.ws_url()).await;
    let challenge = client.hello().await;
    let name = Username::parse("ana").expect("valid");
    let mut refused = 0;
    let closed = loop {
        let key = DeviceKey::from_seed(random_seed());
        client
            .send(&ClientFrame::Register {
                request: RequestId::NONE,
                username: name.clone(),
                key: key.public_key(),
                signature: key.sign(&auth::register_message(&challenge, &name)),
            })
            .await;
        match client.recv().await {
            Received::Frame(ServerFrame::Rejected { code, .. }) => {
                assert_eq!(code, ErrorCode::UsernameTaken);
                refused += 1;
                assert!(refused < 1_000, "never closed");
            }
            Received::Frame(ServerFrame::Error { code, .. }) => break code,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(closed, ErrorCode::RateLimited);
    assert_eq!(
        refused, MAX_REFUSED_SIGN_INS,
        "each refusal is answered, then it closes"
    );
    assert!(matches!(client.recv().await, Received::Closed(_)));
    // Everyone else is still served.
    let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
    let id = ana.send_text(&[ben.device], "still here").await;
    assert_eq!(ben.next_message().await.0, id);
    app.stop().await;
}

/// A `Register` of `name` with a fresh key, on a connection past `Hello`.
async fn register(client: &mut TestClient, name: &str) -> ServerFrame {
    let challenge = client.hello().await;
    let name = Username::parse(name).expect("valid");
    let key = DeviceKey::from_seed(random_seed());
    client
        .send(&ClientFrame::Register {
            request: RequestId(1),
            username: name.clone(),
            key: key.public_key(),
            signature: key.sign(&auth::register_message(&challenge, &name)),
        })
        .await;
    match client.recv().await {
        Received::Frame(frame) => frame,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn registrations_over_the_per_address_limit_are_refused_clearly() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.registrations_per_hour = 2;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("valid")];
    })
    .await;
    TestDevice::register(&app.ws_url(), "ana").await;
    TestDevice::register(&app.ws_url(), "ben").await;
    let mut client = TestClient::connect(&app.ws_url()).await;
    match register(&mut client, "carol").await {
        ServerFrame::Rejected { code, message, .. } => {
            assert_eq!(code, ErrorCode::RateLimited);
            assert!(message.as_str().contains("address"), "{message:?}");
        }
        other => panic!("a third registration from one address: {other:?}"),
    }
    // A client at another address, through the trusted proxy, registers.
    let mut other = TestClient::connect_forwarded_for(&app.ws_url(), "203.0.113.7").await;
    assert!(matches!(
        register(&mut other, "carol").await,
        ServerFrame::Authenticated { .. }
    ));
    // A client cannot pose as another address without the proxy.
    let direct = spawn_app_with(Backend::Sqlite, |s| s.registrations_per_hour = 1).await;
    TestDevice::register(&direct.ws_url(), "ana").await;
    let mut posing = TestClient::connect_forwarded_for(&direct.ws_url(), "203.0.113.8").await;
    assert!(matches!(
        register(&mut posing, "dan").await,
        ServerFrame::Rejected {
            code: ErrorCode::RateLimited,
            ..
        }
    ));
    direct.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn an_address_holds_only_a_few_connections_before_sign_in() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.max_unsigned_per_address = 4).await;
    let mut waiting = Vec::new();
    for _ in 0..4 {
        waiting.push(TestClient::connect(&app.ws_url()).await);
    }
    assert_eq!(
        TestClient::try_connect(&app.ws_url()).await.err(),
        Some(429),
        "a fifth connection that has not signed in"
    );
    // A sign-in frees its slot; signed-in devices do not count.
    assert!(matches!(
        register(&mut waiting[0], "ana").await,
        ServerFrame::Authenticated { .. }
    ));
    let mut fifth = TestClient::try_connect(&app.ws_url())
        .await
        .expect("admitted");
    assert!(matches!(
        register(&mut fifth, "ben").await,
        ServerFrame::Authenticated { .. }
    ));
    // So does a close.
    waiting.truncate(1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TestClient::try_connect(&app.ws_url()).await.is_err() {
        assert!(Instant::now() < deadline, "closed connections still count");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

/// Sends a request head one header line at a time, every 300 ms, until the
/// server closes the connection; when it did (`None`: not within `limit`).
async fn trickle(addr: std::net::SocketAddr, limit: Duration) -> Option<Instant> {
    let mut socket = TcpStream::connect(addr).await.expect("connects");
    let start = Instant::now();
    socket
        .write_all(b"GET /ws HTTP/1.1\r\nHost: courier\r\n")
        .await
        .ok()?;
    let mut buffer = [0u8; 512];
    let mut n = 0u32;
    while start.elapsed() < limit {
        tokio::select! {
            read = socket.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return Some(Instant::now()),
                Ok(_) => {}
            },
            () = tokio::time::sleep(Duration::from_millis(300)) => {
                n += 1;
                if socket.write_all(format!("X-Slow-{n}: 1\r\n").as_bytes()).await.is_err() {
                    return Some(Instant::now());
                }
            }
        }
    }
    None
}

#[tokio::test]
async fn sockets_trickling_headers_are_closed_and_others_are_served_meanwhile() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.header_read_timeout_secs = 2).await;
    let started = Instant::now();
    let tricklers: Vec<_> = (0..1_000)
        .map(|_| tokio::spawn(trickle(app.addr, Duration::from_secs(12))))
        .collect();
    // Meanwhile two people register and chat.
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
    let id = ana.send_text(&[ben.device], "served").await;
    assert_eq!(ben.next_message().await.0, id);
    let mut closed = 0;
    for trickler in tricklers {
        let at = trickler.await.expect("trickler");
        let at = at.expect("a trickling socket was still open after 12 s");
        assert!(
            at.duration_since(started) >= Duration::from_millis(1_500),
            "closed before its deadline"
        );
        closed += 1;
    }
    assert_eq!(closed, 1_000);
    app.stop().await;
}
