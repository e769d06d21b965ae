//! Tests of the connection state machine, driven frame by frame.

use super::{ANSWER_TIMEOUT_MS, Action, Connection, ConnectionState, Event, MAX_REQUEST_ID};
use crate::crypto::identity::{DeviceKey, verify};
use crate::ids::{Challenge, DeviceId, MessageId, RequestId, UserId, Username};
use crate::proto::{
    self, ClientFrame, ErrorCode, PROTOCOL_VERSION, Payload, Refusal, ServerFrame, auth,
};

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

fn lookup() -> ClientFrame {
    ClientFrame::LookupUserId {
        request: RequestId::NONE,
        user: UserId(9),
    }
}

fn authenticated(request: RequestId) -> Vec<u8> {
    bytes(&ServerFrame::Authenticated {
        request,
        user: UserId(4),
        device: DeviceId(5),
    })
}

fn online_as_device() -> Connection {
    let mut conn = Connection::new("test");
    conn.sign_in(DeviceId(5), DeviceKey::from_seed([1; 32]));
    conn.on_open(0.0);
    let actions = conn.on_message(&welcome(), 0.0);
    let request = sent(&actions)[0].request().expect("sign-in has an id");
    conn.on_message(&authenticated(request), 0.0);
    conn
}

fn answer(actions: &[Action]) -> Option<(RequestId, Result<ServerFrame, Refusal>)> {
    emitted(actions).into_iter().find_map(|e| match e {
        Event::Answer { request, answer } => Some((*request, answer.clone())),
        _ => None,
    })
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
            request,
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
        request: *request,
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
    let [
        ClientFrame::Authenticate {
            device, signature, ..
        },
    ] = sent(&actions)[..]
    else {
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
fn answers_reach_the_request_they_name_and_nothing_else() {
    let mut conn = online_as_device();
    let (first, actions) = conn.request(lookup(), 0.0);
    assert_eq!(sent(&actions)[0].request(), Some(first));
    let (second, _) = conn.request(lookup(), 0.0);
    assert_ne!(first, second);
    // A refusal naming the second request answers the second only.
    let refused = conn.on_message(
        &bytes(&ServerFrame::rejected(
            second,
            ErrorCode::RateLimited,
            "slow",
        )),
        0.0,
    );
    assert_eq!(
        answer(&refused),
        Some((second, Err(Refusal::new(ErrorCode::RateLimited, "slow"))))
    );
    assert_eq!(conn.waiting(), 1);
    // An answer to no waiting request is dropped.
    let stray = conn.on_message(
        &bytes(&ServerFrame::Accepted {
            request: RequestId(77),
        }),
        0.0,
    );
    assert!(emitted(&stray).is_empty());
    let accepted = ServerFrame::Accepted { request: first };
    let actions = conn.on_message(&bytes(&accepted), 0.0);
    assert_eq!(answer(&actions), Some((first, Ok(accepted))));
    assert_eq!(conn.waiting(), 0);
}

#[test]
fn request_ids_count_up_are_not_reused_at_once_and_go_around() {
    let mut conn = online_as_device();
    let (first, actions) = conn.request(lookup(), 0.0);
    let encoded = proto::encode(sent(&actions)[0]).expect("encodes");
    assert_eq!(
        encoded.len(),
        4,
        "an early id costs one byte: {encoded:02x?}"
    );
    conn.on_message(&bytes(&ServerFrame::Accepted { request: first }), 0.0);
    // Answered, but its answer may still wait in the app's queue: the next
    // request gets a new id.
    let (second, _) = conn.request(lookup(), 0.0);
    assert_ne!(second, first);
    // Around the top of the count, ids still waiting are skipped.
    let mut last = second;
    for _ in 0..MAX_REQUEST_ID {
        let (id, _) = conn.request(lookup(), 0.0);
        conn.on_message(&bytes(&ServerFrame::Accepted { request: id }), 0.0);
        last = id;
    }
    assert!(last.0 <= MAX_REQUEST_ID && last != second, "{last:?}");
}

#[test]
fn requests_before_sign_in_wait_for_it_and_a_drop_answers_the_rest() {
    let mut conn = Connection::new("test");
    conn.sign_in(DeviceId(5), DeviceKey::from_seed([1; 32]));
    let (early, actions) = conn.request(lookup(), 0.0);
    assert!(actions.is_empty(), "offline: held");
    conn.on_open(0.0);
    let hello = conn.on_message(&welcome(), 0.0);
    let sign_in = sent(&hello)[0].request().expect("an id");
    assert_ne!(sign_in, early, "the sign-in's id is not the held request's");
    let actions = conn.on_message(&authenticated(sign_in), 0.0);
    assert_eq!(
        sent(&actions)
            .iter()
            .map(|f| f.request())
            .collect::<Vec<_>>(),
        [Some(early)],
        "sent on sign-in"
    );
    let actions = conn.on_close(0.0);
    assert_eq!(answer(&actions), Some((early, Err(Refusal::unanswered()))));
    assert_eq!(conn.waiting(), 0);
}

#[test]
fn an_unanswered_request_times_out_and_its_late_answer_matches_nothing() {
    let mut conn = online_as_device();
    let (late, _) = conn.request(lookup(), 0.0);
    // The server is alive (it pings) but never answers this request.
    conn.on_message(&bytes(&ServerFrame::Ping { nonce: 1 }), ANSWER_TIMEOUT_MS);
    let actions = conn.on_tick(ANSWER_TIMEOUT_MS + 1.0);
    assert_eq!(answer(&actions), Some((late, Err(Refusal::unanswered()))));
    let (next, _) = conn.request(lookup(), ANSWER_TIMEOUT_MS + 2.0);
    assert_ne!(next, late, "the timed-out id stays reserved");
    let stray = conn.on_message(
        &bytes(&ServerFrame::Accepted { request: late }),
        ANSWER_TIMEOUT_MS + 3.0,
    );
    assert!(emitted(&stray).is_empty());
}

#[test]
fn a_refused_registration_is_reported_and_stops_retrying() {
    let mut conn = Connection::new("test");
    conn.on_open(0.0);
    conn.on_message(&welcome(), 0.0);
    let actions = conn.register(
        Username::parse("ana").expect("valid"),
        DeviceKey::from_seed([3; 32]),
    );
    let request = sent(&actions)[0].request().expect("an id");
    let refused = ServerFrame::rejected(request, ErrorCode::UsernameTaken, "taken");
    let actions = conn.on_message(&bytes(&refused), 0.0);
    assert_eq!(
        emitted(&actions),
        [&Event::SignInRefused(Refusal::new(
            ErrorCode::UsernameTaken,
            "taken"
        ))]
    );
    assert!(!conn.has_identity());
    conn.on_close(0.0);
    conn.on_open(1.0);
    assert!(sent(&conn.on_message(&welcome(), 1.0)).is_empty());
}

#[test]
fn a_registration_cut_short_by_the_connection_goes_on_on_the_next() {
    let mut conn = Connection::new("test");
    assert!(!conn.has_identity());
    conn.on_open(0.0);
    conn.on_message(&welcome(), 0.0);
    conn.register(
        Username::parse("ana").expect("valid"),
        DeviceKey::from_seed([3; 32]),
    );
    let timeout = ServerFrame::error(ErrorCode::HandshakeTimeout, "too slow");
    let actions = conn.on_message(&bytes(&timeout), 10_000.0);
    assert!(matches!(emitted(&actions)[..], [Event::Failed(_)]));
    conn.on_close(0.0);
    assert!(conn.has_identity());
    conn.on_open(11_000.0);
    let again = conn.on_message(&welcome(), 11_000.0);
    assert!(matches!(sent(&again)[..], [ClientFrame::Register { .. }]));
}

#[test]
fn raw_drivers_ack_every_delivery_but_see_it_once() {
    let mut conn = online_as_device().acking_on_arrival();
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
fn apps_store_before_they_ack_so_every_delivery_is_emitted() {
    let mut conn = online_as_device();
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
fn drops_back_off_and_a_welcome_resets_the_delay() {
    let mut conn = Connection::new("test");
    let disconnected = Action::Emit(Event::Disconnected);
    assert_eq!(
        conn.on_close(0.0),
        vec![disconnected.clone(), Action::ReconnectAfter(250)]
    );
    assert_eq!(
        conn.on_close(0.0),
        vec![disconnected.clone(), Action::ReconnectAfter(500)]
    );
    assert_eq!(conn.state(), ConnectionState::Reconnecting { attempt: 2 });
    conn.on_open(0.0);
    conn.on_message(&welcome(), 1.0);
    assert_eq!(
        conn.on_close(0.0),
        vec![disconnected, Action::ReconnectAfter(250)]
    );
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
        Some(&Refusal::new(ErrorCode::Internal, "oops"))
    );
    assert_eq!(conn.on_message(&[0xff], 0.0), vec![Action::Close]);
}
