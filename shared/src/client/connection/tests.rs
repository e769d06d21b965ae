//! Tests of the connection state machine, driven frame by frame.

use super::{Action, Connection, ConnectionState, Event};
use crate::crypto::identity::{DeviceKey, verify};
use crate::ids::{Challenge, DeviceId, MessageId, UserId, Username};
use crate::proto::{self, ClientFrame, ErrorCode, PROTOCOL_VERSION, Payload, ServerFrame, auth};

const CHALLENGE: Challenge = Challenge::new_const([9; 32]);

fn bytes(frame: &ServerFrame) -> Vec<u8> {
    proto::encode(frame).expect("encodes")
}

fn welcome() -> Vec<u8> {
    bytes(&ServerFrame::Welcome {
        version: PROTOCOL_VERSION,
        max_frame: 65_536,
        heartbeat_secs: 10,
        challenge: CHALLENGE,
    })
}

fn sent(actions: &[Action]) -> Vec<&ClientFrame> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(frame) => Some(frame),
            _ => None,
        })
        .collect()
}

fn emitted(actions: &[Action]) -> Vec<&Event> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(event) => Some(event),
            _ => None,
        })
        .collect()
}

fn message(n: u8) -> ClientFrame {
    ClientFrame::SendFanout {
        id: MessageId::v7(1, [n; 10]),
        to: vec![DeviceId(2)],
        payload: Payload::new(vec![n]).expect("small"),
    }
}

fn online_as_device() -> Connection {
    let mut conn = Connection::new("test");
    conn.sign_in(DeviceId(5), DeviceKey::from_seed([1; 32]));
    conn.on_open(0.0);
    conn.on_message(&welcome(), 0.0);
    conn.on_message(
        &bytes(&ServerFrame::Authenticated {
            user: UserId(4),
            device: DeviceId(5),
        }),
        0.0,
    );
    conn
}

#[test]
fn handshake_brings_the_connection_online() {
    let mut conn = Connection::new("test");
    assert_eq!(conn.state(), ConnectionState::Connecting);
    let actions = conn.on_open(0.0);
    assert!(matches!(
        sent(&actions)[..],
        [ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            ..
        }]
    ));
    assert!(
        conn.on_message(&welcome(), 5.0).is_empty(),
        "no identity yet"
    );
    assert_eq!(conn.state(), ConnectionState::Online);
}

#[test]
fn registration_signs_the_challenge_and_later_connections_authenticate() {
    let key = DeviceKey::from_seed([3; 32]);
    let public = key.public_key();
    let name = Username::parse("ana").expect("valid");
    let mut conn = Connection::new("test");
    conn.on_open(0.0);
    conn.on_message(&welcome(), 0.0);
    let actions = conn.register(name.clone(), key);
    let [
        ClientFrame::Register {
            username,
            key,
            signature,
        },
    ] = sent(&actions)[..]
    else {
        panic!("expected Register, got {actions:?}");
    };
    assert_eq!((username, key), (&name, &public));
    assert!(verify(
        key,
        &auth::register_message(&CHALLENGE, &name),
        signature
    ));

    let signed_in = ServerFrame::Authenticated {
        user: UserId(1),
        device: DeviceId(2),
    };
    let actions = conn.on_message(&bytes(&signed_in), 0.0);
    assert_eq!(
        emitted(&actions),
        [&Event::SignedIn {
            user: UserId(1),
            device: DeviceId(2)
        }]
    );
    assert_eq!(conn.signed_in(), Some((UserId(1), DeviceId(2))));

    conn.on_close(0.0);
    conn.on_open(1.0);
    let actions = conn.on_message(&welcome(), 1.0);
    let [ClientFrame::Authenticate { device, signature }] = sent(&actions)[..] else {
        panic!("expected Authenticate, got {actions:?}");
    };
    assert_eq!(*device, DeviceId(2));
    assert!(verify(
        &public,
        &auth::authenticate_message(&CHALLENGE),
        signature
    ));
}

#[test]
fn the_outbox_resends_after_a_reconnect_until_accepted() {
    let mut conn = Connection::new("test");
    conn.sign_in(DeviceId(5), DeviceKey::from_seed([1; 32]));
    assert!(conn.send(message(1)).is_empty(), "offline: held");
    let mut conn = {
        conn.on_open(0.0);
        conn.on_message(&welcome(), 0.0);
        conn
    };
    let actions = conn.on_message(
        &bytes(&ServerFrame::Authenticated {
            user: UserId(4),
            device: DeviceId(5),
        }),
        0.0,
    );
    assert_eq!(sent(&actions), [&message(1)], "flushed on sign-in");
    assert_eq!(
        sent(&conn.send(message(2))),
        [&message(2)],
        "online: at once"
    );

    let accepted = ServerFrame::Accepted {
        id: MessageId::v7(1, [1; 10]),
    };
    conn.on_message(&bytes(&accepted), 0.0);
    conn.on_close(0.0);
    conn.on_open(1.0);
    conn.on_message(&welcome(), 1.0);
    let actions = conn.on_message(
        &bytes(&ServerFrame::Authenticated {
            user: UserId(4),
            device: DeviceId(5),
        }),
        1.0,
    );
    assert_eq!(
        sent(&actions),
        [&message(2)],
        "only the unaccepted one again"
    );
}

#[test]
fn deliveries_are_acked_every_time_but_emitted_once() {
    let mut conn = online_as_device();
    let deliver = bytes(&ServerFrame::Deliver {
        id: MessageId::v7(7, [7; 10]),
        from: UserId(1),
        from_device: DeviceId(2),
        payload: Payload::new(b"hi".to_vec()).expect("small"),
    });
    let first = conn.on_message(&deliver, 0.0);
    let again = conn.on_message(&deliver, 0.0);
    assert_eq!(emitted(&first).len(), 1);
    assert!(emitted(&again).is_empty());
    for actions in [&first, &again] {
        assert_eq!(
            sent(actions),
            [&ClientFrame::Ack {
                ids: vec![MessageId::v7(7, [7; 10])]
            }]
        );
    }
}

#[test]
fn with_app_acks_every_delivery_is_emitted_and_nothing_is_acked_for_the_app() {
    let mut conn = online_as_device().acked_by_app();
    let deliver = bytes(&ServerFrame::Deliver {
        id: MessageId::v7(7, [7; 10]),
        from: UserId(1),
        from_device: DeviceId(2),
        payload: Payload::new(b"hi".to_vec()).expect("small"),
    });
    // The second delivery is the server's redelivery of an unacked message.
    for _ in 0..2 {
        let actions = conn.on_message(&deliver, 0.0);
        assert_eq!(emitted(&actions).len(), 1);
        assert!(
            sent(&actions).is_empty(),
            "the app acks once it has stored it"
        );
    }
}

#[test]
fn refusals_drop_the_message_except_rate_limits() {
    let mut conn = online_as_device();
    conn.send(message(1));
    conn.send(message(2));
    let id = |n: u8| MessageId::v7(1, [n; 10]);
    conn.on_message(
        &bytes(&ServerFrame::rejected(
            Some(id(1)),
            ErrorCode::RateLimited,
            "slow",
        )),
        0.0,
    );
    conn.on_message(
        &bytes(&ServerFrame::rejected(
            Some(id(2)),
            ErrorCode::NotFound,
            "no",
        )),
        0.0,
    );
    assert!(conn.outbox().contains(&id(1)));
    assert!(!conn.outbox().contains(&id(2)));
    assert_eq!(sent(&conn.on_tick(999.0)), Vec::<&ClientFrame>::new());
    assert_eq!(
        sent(&conn.on_tick(1_000.0)),
        [&message(1)],
        "retried after a pause"
    );
}

#[test]
fn drops_back_off_and_a_welcome_resets_the_delay() {
    let mut conn = Connection::new("test");
    assert_eq!(conn.on_close(0.0), vec![Action::ReconnectAfter(250)]);
    assert_eq!(conn.on_close(0.0), vec![Action::ReconnectAfter(500)]);
    assert_eq!(conn.state(), ConnectionState::Reconnecting { attempt: 2 });
    conn.on_open(0.0);
    conn.on_message(&welcome(), 1.0);
    assert_eq!(conn.on_close(0.0), vec![Action::ReconnectAfter(250)]);
}

#[test]
fn heartbeats_ping_and_a_silent_server_is_dropped() {
    let mut conn = Connection::new("test");
    conn.on_open(0.0);
    conn.on_message(&welcome(), 0.0);
    assert!(conn.on_tick(9_999.0).is_empty());
    assert_eq!(
        conn.on_tick(10_000.0),
        vec![Action::Send(ClientFrame::Ping { nonce: 1 })]
    );
    assert_eq!(conn.on_tick(20_001.0), vec![Action::Close]);
}

#[test]
fn server_pings_are_answered_and_errors_remembered() {
    let mut conn = Connection::new("test");
    let ping = bytes(&ServerFrame::Ping { nonce: 9 });
    assert_eq!(
        conn.on_message(&ping, 0.0),
        vec![Action::Send(ClientFrame::Pong { nonce: 9 })]
    );
    conn.on_message(
        &bytes(&ServerFrame::error(ErrorCode::Internal, "oops")),
        0.0,
    );
    assert_eq!(
        conn.last_error(),
        Some(&(ErrorCode::Internal, "oops".to_owned()))
    );
    assert_eq!(conn.on_message(&[0xff], 0.0), vec![Action::Close]);
}
