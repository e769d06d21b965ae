//! Tests of the session state machine.

use super::{Phase, Session, SignIn, Step};
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{Challenge, DeviceId, MessageId, RequestId, UserId, Username};
use courier_shared::proto::{
    self, ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame, Text, auth,
};

const CHALLENGE: Challenge = Challenge::new_const([4; 32]);

fn bytes(frame: &ClientFrame) -> Vec<u8> {
    proto::encode(frame).expect("encodes")
}

fn hello(version: u16) -> Vec<u8> {
    bytes(&ClientFrame::Hello {
        version,
        agent: Text::truncating("unit"),
    })
}

fn welcomed() -> Session {
    let mut session = Session::new(25, CHALLENGE);
    session.on_binary(&hello(PROTOCOL_VERSION));
    session
}

#[test]
fn hello_gets_a_welcome_with_the_challenge() {
    let mut session = Session::new(25, CHALLENGE);
    assert!(matches!(
        session.on_binary(&hello(PROTOCOL_VERSION)),
        Step::Reply(ServerFrame::Welcome {
            version: PROTOCOL_VERSION,
            heartbeat_secs: 25,
            challenge: CHALLENGE,
            ..
        })
    ));
    assert_eq!(session.phase(), Phase::AwaitingSignIn);
    assert_eq!(session.agent(), "unit");
    assert_eq!(
        session.on_binary(&bytes(&ClientFrame::Ping { nonce: 4 })),
        Step::Reply(ServerFrame::Pong { nonce: 4 })
    );
}

#[test]
fn registration_needs_a_signature_over_this_challenge() {
    let key = DeviceKey::from_seed([1; 32]);
    let username = Username::parse("ana").expect("valid");
    let good = key.sign(&auth::register_message(&CHALLENGE, &username));
    let other_challenge = Challenge::new_const([5; 32]);
    let replayed = key.sign(&auth::register_message(&other_challenge, &username));

    let mut session = welcomed();
    let frame = |signature| ClientFrame::Register {
        request: RequestId(3),
        username: username.clone(),
        key: key.public_key(),
        signature,
    };
    assert!(matches!(
        session.on_binary(&bytes(&frame(replayed))),
        Step::Fail(ErrorCode::AuthFailed, _)
    ));
    let mut session = welcomed();
    assert_eq!(
        session.on_binary(&bytes(&frame(good))),
        Step::SignIn(SignIn::Register {
            request: RequestId(3),
            username: username.clone(),
            key: key.public_key()
        })
    );
}

#[test]
fn authentication_is_verified_against_the_stored_key() {
    let key = DeviceKey::from_seed([2; 32]);
    let session = welcomed();
    let good = key.sign(&auth::authenticate_message(&CHALLENGE));
    let wrong_key = DeviceKey::from_seed([3; 32]).sign(&auth::authenticate_message(&CHALLENGE));
    assert!(session.verify(&key.public_key(), &good));
    assert!(!session.verify(&key.public_key(), &wrong_key));
}

#[test]
fn requests_need_a_signed_in_device() {
    let send = ClientFrame::Ack {
        ids: vec![MessageId::v7(1, [1; 10])],
    };
    let mut session = welcomed();
    assert!(matches!(
        session.on_binary(&bytes(&send)),
        Step::Fail(ErrorCode::AuthRequired, _)
    ));
    let mut session = welcomed();
    session.signed_in(UserId(1), DeviceId(2));
    assert_eq!(session.on_binary(&bytes(&send)), Step::Request(send));
}

#[test]
fn anything_before_hello_or_a_second_hello_fails_the_handshake() {
    let mut session = Session::new(25, CHALLENGE);
    let step = session.on_binary(&bytes(&ClientFrame::Ping { nonce: 1 }));
    assert!(matches!(step, Step::Fail(ErrorCode::HandshakeRequired, _)));
    let mut session = welcomed();
    assert!(matches!(
        session.on_binary(&hello(PROTOCOL_VERSION)),
        Step::Fail(ErrorCode::HandshakeRequired, _)
    ));
}

#[test]
fn unsupported_versions_and_text_are_refused() {
    let mut session = Session::new(25, CHALLENGE);
    assert!(matches!(
        session.on_binary(&hello(99)),
        Step::Fail(ErrorCode::UnsupportedVersion, _)
    ));
    assert_eq!(session.phase(), Phase::AwaitingHello);
    // A page still running the previous build speaks version 1: it is told
    // to reload, which brings it the current client.
    let Step::Fail(ErrorCode::UnsupportedVersion, message) = session.on_binary(&hello(1)) else {
        panic!("version 1 is refused");
    };
    assert!(message.contains("reload"), "{message}");
    assert!(matches!(
        session.on_text(),
        Step::Fail(ErrorCode::TextNotSupported, _)
    ));
}
