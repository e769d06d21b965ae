//! The shared core's behaviour inside a real browser (headless Chromium).
//!
//! Runs with `cargo test -p courier-shared --target wasm32-unknown-unknown` and
//! `wasm-bindgen-test-runner`; `cargo xtask test` sets that up.
#![cfg(target_arch = "wasm32")]

use courier_shared::client::{Action, Connection, ConnectionState};
use courier_shared::crypto::identity::{DeviceKey, verify};
use courier_shared::ids::{Challenge, DeviceId, UserId};
use courier_shared::proto::{self, ClientFrame, ErrorCode, ServerFrame, Text, auth};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn frames_encode_to_the_same_bytes_as_natively() {
    let hello = ClientFrame::Hello {
        version: 1,
        agent: Text::truncating("web"),
    };
    let bytes = proto::encode(&hello).expect("encodes");
    assert_eq!(bytes, [0x83, 0x00, 0x01, 0x63, 0x77, 0x65, 0x62]);
    assert_eq!(proto::decode::<ClientFrame>(&bytes), Ok(hello));
}

#[wasm_bindgen_test]
fn bad_bytes_are_classified_in_the_browser_too() {
    let unknown = proto::decode::<ServerFrame>(&[0x82, 0x18, 0x63, 0x00]).expect_err("unknown");
    assert_eq!(unknown.code(), ErrorCode::UnknownFrame);
    let garbage = proto::decode::<ServerFrame>(&[0xff, 0x00]).expect_err("garbage");
    assert_eq!(garbage.code(), ErrorCode::Malformed);
}

#[wasm_bindgen_test]
fn the_connection_machine_runs_in_the_browser() {
    let mut conn = Connection::new("wasm-test");
    assert!(matches!(
        conn.on_open(0.0)[..],
        [Action::Send(ClientFrame::Hello { .. })]
    ));
    conn.sign_in(DeviceId(2), DeviceKey::from_seed([5; 32]));
    let challenge = Challenge::new_const([3; 32]);
    let welcome = proto::encode(&ServerFrame::Welcome {
        version: 1,
        max_frame: 65_536,
        heartbeat_secs: 25,
        challenge,
    })
    .expect("encodes");
    let actions = conn.on_message(&welcome, 1.0);
    assert_eq!(conn.state(), ConnectionState::Online);
    let [
        Action::Send(ClientFrame::Authenticate {
            request, signature, ..
        }),
    ] = &actions[..]
    else {
        panic!("expected Authenticate, got {actions:?}");
    };
    let public = DeviceKey::from_seed([5; 32]).public_key();
    assert!(verify(
        &public,
        &auth::authenticate_message(&challenge),
        signature
    ));
    let signed_in = proto::encode(&ServerFrame::Authenticated {
        request: *request,
        user: UserId(1),
        device: DeviceId(2),
    })
    .expect("encodes");
    conn.on_message(&signed_in, 2.0);
    assert_eq!(conn.signed_in(), Some((UserId(1), DeviceId(2))));
}

#[wasm_bindgen_test]
fn ed25519_signs_and_verifies_in_the_browser() {
    let key = DeviceKey::from_seed([9; 32]);
    let signature = key.sign(b"courier");
    assert!(verify(&key.public_key(), b"courier", &signature));
    assert!(!verify(&key.public_key(), b"courieR", &signature));
}
