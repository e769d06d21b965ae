//! End-to-end encryption through the real server, on every backend: the
//! shared crypto core on native devices (the browser runs the same core),
//! the server's key directory, linking, removal and the device check.

use courier_backend::store::Store;
use courier_shared::client::Event;
use courier_shared::crypto::content::Plaintext;
use courier_shared::crypto::keys::SignedKey;
use courier_shared::ids::{CurveKey, MessageId, RequestId, Signature, UserId};
use courier_shared::proto::{ClientFrame, ErrorCode, Payload, ReceiptKind};
use courier_tests::device::new_message_id;
use courier_tests::secure::{SecureDevice, user_with_two_devices};
use courier_tests::{Backend, backends, spawn_app};
use std::collections::HashSet;
use std::time::Duration;

/// Every one of `devices` reads `expected` next.
async fn all_read<const N: usize>(
    devices: [&mut SecureDevice; N],
    expected: (MessageId, UserId, &str),
) {
    for device in devices {
        let (id, from, text) = device.next_text().await;
        assert_eq!(
            (id, from, text.as_str()),
            expected,
            "device {:?}",
            device.device()
        );
    }
}

#[tokio::test]
async fn two_users_with_two_devices_each_read_every_message_and_read_state_syncs() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let (mut a1, mut a2) = user_with_two_devices(&ws, "alice").await;
        let (mut b1, mut b2) = user_with_two_devices(&ws, "bob").await;
        let (alice, bob) = (a1.user(), b1.user());

        let hello = a1.send_text(bob, "hello bob").await;
        all_read([&mut b1, &mut b2, &mut a2], (hello, alice, "hello bob")).await;
        let reply = b2.send_text(alice, "hi alice").await;
        all_read([&mut a1, &mut a2, &mut b1], (reply, bob, "hi alice")).await;
        let more = a2.send_text(bob, "from my other device").await;
        all_read(
            [&mut b1, &mut b2, &mut a1],
            (more, alice, "from my other device"),
        )
        .await;

        // Alice's first device goes offline: the linked one carries on alone,
        // and the first catches up when it returns.
        a1.net().disconnect().await;
        let alone = b1.send_text(alice, "only your second device is on").await;
        all_read(
            [&mut a2, &mut b2],
            (alone, bob, "only your second device is on"),
        )
        .await;
        let answer = a2.send_text(bob, "it works on its own").await;
        for device in [&mut b1, &mut b2] {
            assert_eq!(device.next_text().await.0, answer, "{backend:?}");
        }
        a1.net().reconnect().await;
        assert_eq!(a1.next_text().await.0, alone, "{backend:?}");
        assert_eq!(a1.next_text().await.0, answer, "{backend:?}");

        // Bob reads on one device: Alice's devices see it read, and so does
        // Bob's other device.
        b1.net()
            .send(ClientFrame::Receipt {
                request: RequestId::NONE,
                to: alice,
                kind: ReceiptKind::Read,
                ids: vec![hello],
            })
            .await;
        for device in [&mut a1, &mut a2, &mut b2] {
            let (from, ids) = device
                .net()
                .expect(|e| match e {
                    Event::Receipt {
                        from,
                        kind: ReceiptKind::Read,
                        ids,
                        ..
                    } => Some((*from, ids.clone())),
                    _ => None,
                })
                .await;
            assert_eq!((from, ids), (bob, vec![hello]), "{backend:?}");
        }
        // Both people see the same safety number.
        assert_eq!(
            a1.crypto().safety_number(bob),
            b2.crypto().safety_number(alice)
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_replayed_or_tampered_ciphertext_is_refused_clearly_and_the_session_recovers() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let mut alice = SecureDevice::register(&ws, "alice").await;
        let mut bob = SecureDevice::register(&ws, "bob").await;
        let (a, b) = (alice.user(), bob.user());

        // The first message, captured as it was sent.
        let plain = Plaintext::text(new_message_id(), b, "first", None);
        let to = alice.encrypt(&plain).await.expect("encrypts");
        alice
            .net()
            .send(ClientFrame::Send {
                request: RequestId::NONE,
                id: plain.id,
                to: to.clone(),
            })
            .await;
        alice.net().accepted(plain.id).await;
        assert_eq!(bob.next_text().await.2, "first");

        // Sent again under the same id: the server already accepted it once
        // and does not deliver it again.
        alice
            .net()
            .send(ClientFrame::Send {
                request: RequestId::NONE,
                id: plain.id,
                to: to.clone(),
            })
            .await;
        alice.net().accepted(plain.id).await;
        // Replayed under a new id: delivered, but Olm refuses it.
        let replay = new_message_id();
        alice
            .net()
            .send(ClientFrame::Send {
                request: RequestId::NONE,
                id: replay,
                to: to.clone(),
            })
            .await;
        alice.net().accepted(replay).await;
        let (id, _, result) = bob.next_message().await;
        assert_eq!(
            id, replay,
            "the same-id resend was not delivered twice ({backend:?})"
        );
        let err = result.expect_err("a replay does not decrypt");
        assert!(
            err.starts_with("cannot decrypt the message from user"),
            "{err}"
        );

        // A tampered ciphertext fails with a clear error.
        let plain = Plaintext::text(new_message_id(), b, "tampered", None);
        let mut to = alice.encrypt(&plain).await.expect("encrypts");
        let mut bytes = to[0].1.as_bytes().to_vec();
        let at = bytes.len() - 12;
        bytes[at] ^= 0x20;
        to[0].1 = Payload::new(bytes).expect("small");
        alice
            .net()
            .send(ClientFrame::Send {
                request: RequestId::NONE,
                id: plain.id,
                to,
            })
            .await;
        alice.net().accepted(plain.id).await;
        let (_, from, result) = bob.next_message().await;
        let err = result.expect_err("tampered");
        assert_eq!(from.0, a);
        assert!(
            err.to_string()
                .starts_with("cannot decrypt the message from user"),
            "{err}"
        );

        // The failure renewed Bob's session: both ways work afterwards.
        assert!(
            bob.crypto_mut()
                .needs_session(alice.device(), courier_tests::secure::unix_ms())
        );
        let id = bob.send_text(a, "renewed").await;
        assert_eq!(alice.next_text().await, (id, b, "renewed".into()));
        let id = alice.send_text(b, "and back").await;
        assert_eq!(bob.next_text().await, (id, a, "and back".into()));
        app.stop().await;
    }
}

#[tokio::test]
async fn unapproved_and_removed_devices_receive_nothing_and_stale_sends_are_redone() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let (mut a1, mut a2) = user_with_two_devices(&ws, "alice").await;
        let mut bob = SecureDevice::register(&ws, "bob").await;
        let alice = a1.user();

        // A device that joined by link but that no device approved.
        let secret = a1.open_link().await;
        let (mut stranger, _) = SecureDevice::start_link(&ws, &secret.code()).await;
        assert!(!stranger.crypto().is_approved());
        let _hello = a1.next_raw().await;
        let _hello = a2.next_raw().await;

        let id = bob.send_text(alice, "for approved devices").await;
        assert_eq!(a1.next_text().await.0, id);
        assert_eq!(a2.next_text().await.0, id);
        let seen = stranger.net().idle(Duration::from_millis(700)).await;
        assert!(
            !seen
                .iter()
                .any(|e| matches!(e, Event::Message { from, .. } if *from == bob.user())),
            "an unapproved device got a message ({backend:?}): {seen:?}"
        );

        // Alice removes her second device: the server deletes it and closes
        // its connection; Bob's next send is refused as stale, redone, and
        // reaches only the first device.
        let removed = a2.device();
        a1.remove_device(removed).await;
        a2.net().closed_with().await; // panics unless the server closes it
        let before = bob.stale_retries();
        let id = bob.send_text(alice, "after the removal").await;
        assert_eq!(
            bob.stale_retries(),
            before + 1,
            "the out-of-date send was refused ({backend:?})"
        );
        assert_eq!(a1.next_text().await.0, id);
        let store = app.store().await;
        assert_eq!(
            store.device(removed).await.expect("query"),
            None,
            "{backend:?}"
        );
        assert_eq!(store.queue_depth(removed).await.expect("depth"), 0);
        store.close().await;

        // A send that leaves out one of a user's listed devices is refused
        // with a clear code.
        let (carol, _) = user_with_two_devices(&ws, "carol").await;
        let lone = new_message_id();
        let payload = Payload::new(vec![1]).expect("small");
        bob.net()
            .send(ClientFrame::Send {
                request: RequestId::NONE,
                id: lone,
                to: vec![(carol.device(), payload)],
            })
            .await;
        let code = bob.net().outcome(lone).await;
        assert_eq!(code, Err(ErrorCode::StaleDevices), "{backend:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn one_one_time_key_is_claimed_exactly_once_under_50_concurrent_claims() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let device = SecureDevice::register(&app.ws_url(), "alice").await;
        // A pool wide enough for the claims to really run at once.
        let store = Store::open(&app.settings.database_url(), 50)
            .await
            .expect("opens");
        // Ten one-time keys on top of the fifty the device published.
        let extra: Vec<SignedKey> = (0..10u8)
            .map(|n| SignedKey {
                key: CurveKey::new_const([n; 32]),
                signature: Signature::new_const([n; 64]),
            })
            .collect();
        store
            .publish_prekeys(device.device(), &extra, None)
            .await
            .expect("stored");
        let stock = store
            .one_time_key_count(device.device())
            .await
            .expect("count");
        assert_eq!(stock, 60, "{backend:?}");

        let claims = (0..50).map(|_| {
            let store = store.clone();
            let target = device.device();
            tokio::spawn(async move { store.claim_prekeys(&[(target, true)]).await })
        });
        let mut keys = Vec::new();
        for claim in claims {
            keys.extend(claim.await.expect("task").expect("claimed").keys);
        }
        assert_eq!(keys.len(), 50);
        let distinct: HashSet<CurveKey> = keys.iter().map(|(_, k)| k.key).collect();
        assert_eq!(
            distinct.len(),
            50,
            "a one-time key was handed out twice ({backend:?})"
        );
        let left = store
            .one_time_key_count(device.device())
            .await
            .expect("count");
        assert_eq!(left, 10, "{backend:?}");
        store.close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn when_one_time_keys_run_out_claims_get_the_fallback_and_the_device_tops_up() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut device = SecureDevice::register(&app.ws_url(), "alice").await;
    let store: Store = app.store().await;
    let target = [(device.device(), true)];
    let mut keys = HashSet::new();
    for _ in 0..52 {
        let claimed = store.claim_prekeys(&target).await.expect("claimed");
        keys.insert(claimed.keys[0].1.key);
    }
    assert_eq!(
        keys.len(),
        51,
        "fifty one-time keys, then the fallback again and again"
    );
    assert_eq!(
        device.publish_prekeys().await,
        50,
        "the device tops its stock up"
    );
    store.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_forged_device_list_or_prekey_is_refused_by_the_server() {
    let app = spawn_app(Backend::Sqlite).await;
    let ws = app.ws_url();
    let mut alice = SecureDevice::register(&ws, "alice").await;
    let mut mallory = SecureDevice::register(&ws, "mallory").await;
    // Mallory signs a list naming Alice's user with her own account key.
    let mut forger = courier_shared::crypto::DeviceCrypto::new([9; 32]);
    forger.set_me(alice.user(), mallory.device());
    let forged = forger.found_account([8; 32]).expect("signs");
    let refused = mallory.publish_list(forged).await.expect_err("refused");
    assert!(refused.to_string().contains("another user"), "{refused}");
    // A pre-key not signed by the publishing device.
    let bad = SignedKey {
        key: CurveKey::new_const([1; 32]),
        signature: Signature::new_const([2; 64]),
    };
    let refused = alice
        .net()
        .call(ClientFrame::PublishKeys {
            request: RequestId::NONE,
            one_time: vec![bad],
            fallback: None,
        })
        .await
        .expect_err("refused");
    assert_eq!(refused.code, ErrorCode::InvalidRequest);
    assert!(refused.message.contains("signature"), "{refused}");
    app.stop().await;
}

/// `pg_dump`: on `PATH`, or in Debian's versioned Postgres directory.
fn pg_dump() -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("pg_dump"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| {
            let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin/pg_dump"))
                .filter(|p| p.is_file())
                .collect();
            found.sort();
            found.pop()
        })
        .expect("pg_dump is installed with Postgres")
}

/// Everything the server stored, as bytes: the SQLite files, or a Postgres
/// dump of the database.
fn dump(backend: Backend, data_dir: &std::path::Path, url: &str) -> Vec<u8> {
    match backend {
        Backend::Sqlite => {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(data_dir).expect("data dir").flatten() {
                if entry.path().is_file() {
                    bytes.extend(std::fs::read(entry.path()).expect("readable"));
                }
            }
            bytes
        }
        Backend::Postgres => {
            let output = std::process::Command::new(pg_dump())
                .args(["--data-only", "--dbname", url])
                .output()
                .expect("pg_dump runs");
            assert!(
                output.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    courier_shared::text_encoding::hex(bytes)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_plaintext_canary_never_reaches_the_servers_database_or_logs() {
    let Some(bin) = courier_tests::process::courier_bin() else {
        return;
    };
    for backend in backends() {
        let data = tempfile::tempdir().expect("data dir");
        let url = courier_tests::fresh_database_url(backend, data.path()).await;
        let listen = format!("127.0.0.1:{}", courier_tests::browser::free_port());
        let data_dir = data.path().to_str().expect("utf-8").to_owned();
        let args = [
            "--listen",
            &listen,
            "--data-dir",
            &data_dir,
            "--database-url",
            &url,
        ];
        // The most talkative logs the server has.
        let courier =
            courier_tests::process::CourierProcess::start(&bin, &args, &[("COURIER_LOG", "trace")]);
        courier_tests::wait_ready(&courier.url).await;
        let ws = format!("ws://{listen}/ws");

        let mut alice = SecureDevice::register(&ws, "alice").await;
        let mut bob = SecureDevice::register(&ws, "bob").await;
        bob.net().disconnect().await;
        let canary = format!("canary-{}-plaintext", uuid::Uuid::new_v4().simple());
        let id = alice.send_text(bob.user(), &canary).await;

        // The message waits in Bob's queue: what the server holds now is all
        // it ever holds of it. pg_dump writes bytea as hex, so every secret is
        // looked for both as it is and in hex.
        let stored = dump(backend, data.path(), &url);
        let held =
            |secret: &[u8]| contains(&stored, secret) || contains(&stored, hex(secret).as_bytes());
        assert!(
            contains(&stored, b"alice"),
            "the dump holds the server's data ({backend:?})"
        );
        assert!(
            !held(canary.as_bytes()),
            "plaintext in the database ({backend:?})"
        );
        for (what, key) in [
            ("Alice's device key", alice.crypto().signing_key().seed()),
            ("Bob's device key", bob.crypto().signing_key().seed()),
        ] {
            assert!(!held(&key), "{what} in the database ({backend:?})");
        }
        bob.net().reconnect().await;
        assert_eq!(bob.next_text().await, (id, alice.user(), canary.clone()));
        // The check can fail: the ciphertext Bob was handed is in the dump.
        let sealed = bob.last_payload.clone().expect("a payload arrived");
        assert!(
            held(sealed.as_bytes()),
            "the queued ciphertext is in the dump ({backend:?})"
        );

        let log = courier.log();
        assert!(
            log.contains("user registered"),
            "the log was captured ({backend:?})"
        );
        assert!(
            !log.contains(&canary),
            "plaintext in the server's log ({backend:?})"
        );
        drop(courier);
    }
}
