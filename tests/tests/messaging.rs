//! Store-and-forward delivery over real WebSockets, on every backend: the
//! queue holds a message until its device acknowledges it; online devices get
//! it at once; retries and redeliveries are shown once.

use courier_shared::client::Event;
use courier_shared::ids::{DeviceId, RequestId};
use courier_shared::proto::{ClientFrame, ErrorCode, Payload, ServerFrame};
use courier_tests::device::new_message_id;
use courier_tests::{TestDevice, backends, spawn_app, spawn_app_with};
use std::time::Duration;

/// Polls until `device`'s queue holds `depth` entries (at most ten seconds).
async fn wait_depth(store: &courier_backend::store::Store, device: DeviceId, depth: u64) {
    for _ in 0..200 {
        if store.queue_depth(device).await.expect("depth") == depth {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "queue of {device:?} holds {}, expected {depth}",
        store.queue_depth(device).await.expect("depth")
    );
}

#[tokio::test]
async fn an_offline_device_receives_on_connect_and_its_row_goes_after_the_ack() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let store = app.store().await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        ben.disconnect().await;

        let id = ana
            .send_text(&[ben.device], "hello while you were out")
            .await;
        ana.accepted(id).await;
        assert_eq!(
            store.queue_depth(ben.device).await.expect("depth"),
            1,
            "{backend:?}"
        );

        ben.reconnect().await;
        let (got, from, text) = ben.next_message().await;
        assert_eq!(
            (got, from, text.as_str()),
            (id, ana.user, "hello while you were out")
        );
        wait_depth(&store, ben.device, 0).await;
        store.close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn an_online_device_gets_the_message_pushed_at_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        for n in 0..20 {
            let text = format!("message {n}");
            let id = ana.send_text(&[ben.device], &text).await;
            let (got, _, received) = ben.next_message().await;
            assert_eq!((got, received), (id, text), "{backend:?}: in order");
            ana.accepted(id).await;
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn retried_sends_and_redeliveries_are_shown_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let store = app.store().await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        let id = new_message_id();
        let frame = ClientFrame::SendFanout {
            request: RequestId::NONE,
            id,
            to: vec![ben.device],
            payload: Payload::new(b"once".to_vec()).expect("small"),
        };
        // The same message twice on the wire, as after a lost `Accepted`:
        // both are accepted, and it is queued once.
        ana.send(frame.clone()).await;
        ana.send(frame).await;
        ana.accepted(id).await;
        ana.accepted(id).await;
        assert_eq!(store.queue_depth(ben.device).await.expect("depth"), 1);

        // Ben receives it but his acknowledgement is lost; he reconnects and
        // the server delivers it again.
        ben.net.withhold_acks = true;
        assert_eq!(ben.next_message().await.0, id);
        ben.reconnect().await;
        ben.net.withhold_acks = false;
        let events = ben.idle(Duration::from_millis(700)).await;
        let shown = events
            .iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count();
        assert_eq!(shown, 0, "{backend:?}: the redelivery is not shown again");
        wait_depth(&store, ben.device, 0).await;

        // Sending the same id after it was delivered queues nothing.
        ana.send(ClientFrame::SendFanout {
            request: RequestId::NONE,
            id,
            to: vec![ben.device],
            payload: Payload::new(b"once".to_vec()).expect("small"),
        })
        .await;
        ana.accepted(id).await;
        assert_eq!(store.queue_depth(ben.device).await.expect("depth"), 0);
        store.close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn receipts_reach_every_device_of_the_sender() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        // A second device of Ana's, joined through a link.
        let link = courier_shared::ids::LinkId::new_const([7; 16]);
        ana.call(ClientFrame::CreateLink {
            request: RequestId::NONE,
            link,
        })
        .await
        .expect("link opened");
        let second_seed = courier_tests::device::random_seed();
        let mut ana2 = TestDevice::link(&app.ws_url(), link, second_seed).await;
        assert_eq!(ana2.user, ana.user);
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;

        let id = ana.send_text(&[ben.device], "did you get this?").await;
        ben.next_message().await;
        for kind in [
            courier_shared::proto::ReceiptKind::Delivered,
            courier_shared::proto::ReceiptKind::Read,
        ] {
            ben.send(ClientFrame::Receipt {
                request: RequestId::NONE,
                to: ana.user,
                kind,
                ids: vec![id],
            })
            .await;
            for device in [&mut ana, &mut ana2] {
                let (from, got_kind, ids) = device
                    .expect(|e| match e {
                        Event::Receipt {
                            from, kind, ids, ..
                        } => Some((*from, *kind, ids.clone())),
                        _ => None,
                    })
                    .await;
                assert_eq!(
                    (from, got_kind, ids),
                    (ben.user, kind, vec![id]),
                    "{backend:?}"
                );
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn presence_and_typing_reach_contacts_only() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        let mut eve = TestDevice::register(&app.ws_url(), "eve").await;
        // Ana shares her presence and typing with Ben, not with Eve.
        let added = ana
            .call(ClientFrame::AddContact {
                request: RequestId::NONE,
                user: ben.user,
            })
            .await;
        assert!(matches!(
            added,
            Ok(ServerFrame::ContactUpdated { added: true, .. })
        ));

        let mut answers = Vec::new();
        for watcher in [&mut ben, &mut eve] {
            let answer = watcher
                .call(ClientFrame::Subscribe {
                    request: RequestId::NONE,
                    users: vec![ana.user],
                })
                .await;
            answers.push(answer);
        }
        let [
            Ok(ServerFrame::PresenceList {
                users: ben_sees, ..
            }),
            Ok(ServerFrame::PresenceList {
                users: eve_sees, ..
            }),
        ] = &answers[..]
        else {
            panic!("subscriptions answered: {answers:?}");
        };
        assert_eq!(
            ben_sees
                .iter()
                .map(|(u, online, _)| (*u, *online))
                .collect::<Vec<_>>(),
            [(ana.user, true)],
            "{backend:?}"
        );
        assert!(eve_sees.is_empty(), "a non-contact learns nothing");

        ana.notify(ClientFrame::Typing {
            to: ben.user,
            typing: true,
        })
        .await;
        ana.notify(ClientFrame::Typing {
            to: eve.user,
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
        let (online, last_seen) = ben
            .expect(|e| match e {
                Event::Presence {
                    online, last_seen, ..
                } => Some((*online, *last_seen)),
                _ => None,
            })
            .await;
        assert!(!online && last_seen > 0, "offline with a last-seen time");

        let leaked: Vec<_> = eve
            .idle(Duration::from_millis(500))
            .await
            .into_iter()
            .filter(|e| matches!(e, Event::Presence { .. } | Event::Typing { .. }))
            .collect();
        assert!(leaked.is_empty(), "{backend:?}: Eve saw {leaked:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn look_ups_find_users_and_their_devices_and_names_are_unique() {
    let app = spawn_app(courier_tests::Backend::Sqlite).await;
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    let ben = TestDevice::register(&app.ws_url(), "ben").await;
    let answer = ana
        .call(ClientFrame::LookupUser {
            request: RequestId::NONE,
            username: courier_shared::ids::Username::parse("ben").expect("valid"),
        })
        .await;
    let Ok(ServerFrame::UserInfo { user, devices, .. }) = answer else {
        panic!("looked up: {answer:?}");
    };
    assert_eq!(user, ben.user);
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].0, ben.device);

    let answer = ana
        .call(ClientFrame::LookupUser {
            request: RequestId::NONE,
            username: courier_shared::ids::Username::parse("nobody").expect("valid"),
        })
        .await;
    assert_eq!(answer.map_err(|r| r.code), Err(ErrorCode::NotFound));

    let mut client = courier_tests::TestClient::connect(&app.ws_url()).await;
    let welcome = client.hello().await;
    let key = courier_shared::crypto::identity::DeviceKey::from_seed([42; 32]);
    let username = courier_shared::ids::Username::parse("ana").expect("valid");
    client
        .send(&ClientFrame::Register {
            request: RequestId::NONE,
            key: key.public_key(),
            signature: key.sign(&courier_shared::proto::auth::register_message(
                &welcome, &username,
            )),
            username,
        })
        .await;
    match client.recv().await {
        courier_tests::client::Received::Frame(courier_shared::proto::ServerFrame::Rejected {
            code,
            ..
        }) => assert_eq!(code, ErrorCode::UsernameTaken),
        other => panic!("expected UsernameTaken, got {other:?}"),
    }
    app.stop().await;
}

#[tokio::test]
async fn sends_to_unknown_devices_are_refused_and_queue_nothing() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let store = app.store().await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let ben = TestDevice::register(&app.ws_url(), "ben").await;
        let id = ana
            .send_text(&[ben.device, DeviceId(999_999)], "half")
            .await;
        assert_eq!(
            ana.outcome(id).await,
            Err(ErrorCode::StaleDevices),
            "{backend:?}: an unknown device means the sender's device list is out of date"
        );
        assert_eq!(
            store.total_queued().await.expect("count"),
            0,
            "all or nothing"
        );
        store.close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn undelivered_entries_expire_after_the_ttl() {
    for backend in backends() {
        let app = spawn_app_with(backend, |s| {
            s.message_ttl_secs = 1;
            s.sweep_interval_secs = 1;
        })
        .await;
        let store = app.store().await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        ben.disconnect().await;
        let id = ana.send_text(&[ben.device], "too late").await;
        ana.accepted(id).await;
        wait_depth(&store, ben.device, 0).await;
        ben.reconnect().await;
        let events = ben.idle(Duration::from_millis(500)).await;
        assert!(
            !events.iter().any(|e| matches!(e, Event::Message { .. })),
            "{backend:?}: expired message delivered"
        );
        store.close().await;
        app.stop().await;
    }
}
