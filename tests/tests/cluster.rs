//! Several stateless nodes sharing one Postgres: whatever node a device is
//! connected to, it gets messages, presence and typing at once, and signing
//! in on one node closes the device's older connection on another.

use courier_shared::client::Event;
use courier_shared::ids::RequestId;
use courier_shared::proto::ClientFrame;
use courier_tests::{Backend, TestApp, TestDevice, env, spawn_app_with};
use secrecy::ExposeSecret;

/// Two nodes on one fresh Postgres database, or `None` without Postgres.
async fn two_nodes() -> Option<(TestApp, TestApp)> {
    env::optional("TEST_DATABASE_URL", "multi-node tests")?;
    let first = spawn_app_with(Backend::Postgres, |_| {}).await;
    let url = first.settings.database_url().expose_secret().to_owned();
    let second = spawn_app_with(Backend::Postgres, move |s| {
        s.database_url = Some(url.into());
    })
    .await;
    Some((first, second))
}

#[tokio::test]
async fn a_device_on_one_node_gets_at_once_what_is_sent_through_another() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let mut ana = TestDevice::register(&a.ws_url(), "ana").await;
    let mut ben = TestDevice::register(&b.ws_url(), "ben").await;
    for n in 0..10 {
        let text = format!("across nodes {n}");
        let id = ana.send_text(&[ben.device], &text).await;
        assert_eq!(ben.next_message().await, (id, ana.user, text));
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn presence_and_typing_cross_nodes() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let mut ana = TestDevice::register(&a.ws_url(), "ana").await;
    let mut ben = TestDevice::register(&b.ws_url(), "ben").await;
    ana.call(ClientFrame::AddContact {
        request: RequestId::NONE,
        user: ben.user,
    })
    .await
    .expect("contact added");
    let present = ben
        .call(ClientFrame::Subscribe {
            request: RequestId::NONE,
            users: vec![ana.user],
        })
        .await;
    assert!(
        matches!(&present, Ok(courier_shared::proto::ServerFrame::PresenceList { users, .. })
            if users.iter().any(|(u, online, _)| *u == ana.user && *online)),
        "online, seen from the other node: {present:?}"
    );
    ana.notify(ClientFrame::Typing {
        to: ben.user,
        typing: true,
    })
    .await;
    let typing = ben
        .expect(|e| match e {
            Event::Typing { from, typing } => Some((*from, *typing)),
            _ => None,
        })
        .await;
    assert_eq!(typing, (ana.user, true));
    ana.disconnect().await;
    // Ana's own "online" announcement crosses the nodes through NOTIFY and
    // may reach Ben after his subscription already answered "online": wait
    // for the change to offline rather than for the next presence frame.
    let ana_user = ana.user;
    let offline = |e: &Event| match e {
        Event::Presence {
            user,
            online: false,
            ..
        } if *user == ana_user => Some(()),
        _ => None,
    };
    ben.expect(offline).await; // "offline, seen from the other node", or a timeout
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn signing_in_on_another_node_closes_the_older_connection() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let mut first = TestDevice::register(&a.ws_url(), "ana").await;
    let mut second = TestDevice::sign_in(&b.ws_url(), first.device, first.seed).await;
    first.closed_with().await;
    // An eviction another node published before this sign-in may reach the
    // newer node late (notifications from two nodes are not ordered): it
    // must not close the newer connection. Replay one now.
    let url = a.settings.database_url().expose_secret().to_owned();
    let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
    sqlx::query("SELECT pg_notify('courier_events', $1)")
        .bind(format!("1|e|{}", first.device.0))
        .execute(&pool)
        .await
        .expect("notify");
    pool.close().await;
    let mut ben = TestDevice::register(&a.ws_url(), "ben").await;
    let id = ben
        .send_text(&[second.device], "to the newest connection")
        .await;
    assert_eq!(second.next_message().await.0, id);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn metrics_count_connections_frames_and_deliveries() {
    let port = courier_tests::browser::free_port();
    let metrics_addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let app = spawn_app_with(Backend::Sqlite, move |s| {
        s.metrics_listen = Some(metrics_addr)
    })
    .await;
    // Not on the public listener.
    let public = reqwest::get(format!("{}/metrics", app.http_url()))
        .await
        .expect("the public listener answers");
    let body = public.text().await.expect("body");
    assert!(!body.contains("courier_connections"), "{body}");
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
    let id = ana.send_text(&[ben.device], "counted").await;
    ben.next_message().await;
    ana.accepted(id).await;
    let response = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .expect("metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    for needle in [
        "courier_connections ",
        "courier_frames_in_total{type=\"SendFanout\"}",
        "courier_messages_accepted_total ",
        "courier_delivery_latency_seconds_count ",
        "courier_queue_depth ",
    ] {
        assert!(text.contains(needle), "no {needle} in\n{text}");
    }
    let accepted: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("courier_messages_accepted_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a number");
    assert!(accepted >= 1.0);
    app.stop().await;
}
