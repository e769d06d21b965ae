//! The end-to-end encryption core, run the same way natively (`cargo test`)
//! and in headless Chromium (`wasm-bindgen-test`): the browser runs exactly
//! the code these tests prove.
//!
//! The key directory here is an in-memory map standing in for the server's
//! (the server's own is tested end to end in `tests/tests/encryption.rs`).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use courier_shared::crypto::content::{Content, Plaintext};
use courier_shared::crypto::device::{KeyChange, KeyChangeNotice};
use courier_shared::crypto::device_list::SignedDeviceList;
use courier_shared::crypto::flow::{self, KeyServer};
use courier_shared::crypto::group::GroupPlaintext;
use courier_shared::crypto::keys::SignedKey;
use courier_shared::crypto::link::{LinkHello, LinkSecret};
use courier_shared::crypto::{CryptoError, DeviceCrypto};
use courier_shared::ids::{DeviceId, GroupId, MessageId, UserId, Username};
use courier_shared::proto::{Payload, Text};
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Runs a future that never waits (the in-memory directory answers at once).
fn run<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the in-memory directory never waits"),
    }
}

#[derive(Default)]
struct Directory {
    lists: HashMap<UserId, SignedDeviceList>,
    one_time: HashMap<DeviceId, Vec<SignedKey>>,
    fallback: HashMap<DeviceId, SignedKey>,
}

impl KeyServer for Directory {
    async fn fetch_list(&mut self, user: UserId) -> Result<Option<SignedDeviceList>, CryptoError> {
        Ok(self.lists.get(&user).cloned())
    }
    async fn claim(
        &mut self,
        devices: Vec<DeviceId>,
    ) -> Result<Vec<(DeviceId, SignedKey)>, CryptoError> {
        Ok(devices
            .into_iter()
            .filter_map(|d| {
                let key = self.one_time.get_mut(&d).and_then(Vec::pop);
                key.or_else(|| self.fallback.get(&d).copied())
                    .map(|k| (d, k))
            })
            .collect())
    }
}

impl Directory {
    fn publish_keys(&mut self, device: &mut DeviceCrypto) {
        let (_, id) = device.me().unwrap();
        let (one_time, fallback) = device.prekeys_to_publish(0, NOW);
        self.one_time.entry(id).or_default().extend(one_time);
        if let Some(fallback) = fallback {
            self.fallback.insert(id, fallback);
        }
    }

    fn publish_list(&mut self, device: &mut DeviceCrypto, list: SignedDeviceList) {
        let (user, _) = device.me().unwrap();
        device.accept_list(user, &list).unwrap();
        self.lists.insert(user, list);
    }

    /// A user's first device, approved and with keys published.
    fn first_device(&mut self, user: u64, device: u64) -> DeviceCrypto {
        let mut crypto = DeviceCrypto::new(seed(user as u8 * 16 + device as u8));
        crypto.set_me(UserId(user), DeviceId(device));
        let list = crypto.found_account(seed(200 + user as u8)).unwrap();
        self.publish_list(&mut crypto, list);
        self.publish_keys(&mut crypto);
        crypto
    }

    /// Links a new device to the account of `existing`, as the link code does.
    fn link(&mut self, existing: &mut DeviceCrypto, device: u64) -> DeviceCrypto {
        let (user, _) = existing.me().unwrap();
        let secret = LinkSecret::from_random([device as u8; 16]);
        let mut new = DeviceCrypto::new(seed(user.0 as u8 * 16 + device as u8));
        new.set_me(user, DeviceId(device));
        self.publish_keys(&mut new);
        // The new device reads the code and sends its hello; the existing
        // device opens it, approves, and answers with the welcome.
        let code = LinkSecret::parse(&secret.code()).unwrap();
        let hello = LinkHello {
            device: DeviceId(device),
            signing_key: new.signing_public(),
            identity_key: new.identity_key(),
        };
        let sealed = code.seal_hello(&hello, [1; 12]).unwrap();
        let opened = secret.open_hello(&sealed).unwrap();
        let (list, welcome) = existing
            .approve_link(
                &opened,
                &new.signing_public(),
                &Username::parse("ana").unwrap(),
            )
            .unwrap();
        self.publish_list(existing, list);
        let sealed = secret.seal_welcome(&welcome, [2; 12]).unwrap();
        new.accept_welcome(&code.open_welcome(&sealed).unwrap())
            .unwrap();
        assert!(new.is_approved());
        new
    }
}

fn seed(n: u8) -> [u8; 32] {
    [n; 32]
}

fn id(n: u8) -> MessageId {
    MessageId::v7(1_700_000_000_000 + u64::from(n), [n; 10])
}

const NOW: u64 = 1_700_000_000_000;

fn send(
    from: &mut DeviceCrypto,
    dir: &mut Directory,
    to: UserId,
    n: u8,
    text: &str,
) -> Vec<(DeviceId, Payload)> {
    let plain = Plaintext::text(id(n), to, text, None);
    run(flow::encrypt_for(from, dir, &plain, NOW)).expect("encrypts")
}

fn read(
    device: &mut DeviceCrypto,
    dir: &mut Directory,
    from: (UserId, DeviceId),
    n: u8,
    payloads: &[(DeviceId, Payload)],
) -> Result<String, CryptoError> {
    let (_, me) = device.me().unwrap();
    let payload = &payloads
        .iter()
        .find(|(d, _)| *d == me)
        .expect("addressed")
        .1;
    let plain = run(flow::decrypt_from(
        device,
        dir,
        from,
        id(n),
        payload.as_bytes(),
        NOW,
    ))?;
    match plain.content {
        Content::Text { text, .. } => Ok(text.as_str().to_owned()),
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn two_users_with_two_devices_each_all_read_every_message() {
    let mut dir = Directory::default();
    let mut a1 = dir.first_device(1, 11);
    let mut a2 = dir.link(&mut a1, 12);
    let mut b1 = dir.first_device(2, 21);
    let mut b2 = dir.link(&mut b1, 22);
    let (alice, bob) = (UserId(1), UserId(2));

    let sent = send(&mut a1, &mut dir, bob, 1, "hello bob");
    let mut to: Vec<u64> = sent.iter().map(|(d, _)| d.0).collect();
    to.sort_unstable();
    assert_eq!(to, [12, 21, 22], "bob's devices and alice's other device");
    for device in [&mut a2, &mut b1, &mut b2] {
        assert_eq!(
            read(device, &mut dir, (alice, DeviceId(11)), 1, &sent).unwrap(),
            "hello bob"
        );
    }
    // Each reader opened a session with one of its one-time keys: each says
    // so once, for the app to refill the server's stock.
    for device in [&mut a2, &mut b1, &mut b2] {
        assert!(device.take_one_time_key_used());
        assert!(!device.take_one_time_key_used());
    }
    let reply = send(&mut b2, &mut dir, alice, 2, "hi alice");
    for device in [&mut a1, &mut a2, &mut b1] {
        assert_eq!(
            read(device, &mut dir, (bob, DeviceId(22)), 2, &reply).unwrap(),
            "hi alice"
        );
    }
    // Bob's device answered over the session Alice's device opened: no
    // one-time key of hers was used.
    assert!(!a1.take_one_time_key_used());
    // Both sides compute the same safety number.
    assert_eq!(a1.safety_number(bob), b2.safety_number(alice));
    assert!(a1.safety_number(bob).is_some());
}

#[test]
fn late_and_out_of_order_messages_decrypt_and_replays_and_tampering_fail() {
    let mut dir = Directory::default();
    let mut a = dir.first_device(1, 11);
    let mut b = dir.first_device(2, 21);
    let (alice, bob) = (UserId(1), UserId(2));
    let from_a = (alice, DeviceId(11));

    let first = send(&mut a, &mut dir, bob, 1, "one");
    let second = send(&mut a, &mut dir, bob, 2, "two");
    let third = send(&mut a, &mut dir, bob, 3, "three");
    assert_eq!(read(&mut b, &mut dir, from_a, 3, &third).unwrap(), "three");
    assert_eq!(read(&mut b, &mut dir, from_a, 1, &first).unwrap(), "one");
    assert_eq!(read(&mut b, &mut dir, from_a, 2, &second).unwrap(), "two");

    let replay = read(&mut b, &mut dir, from_a, 2, &second).expect_err("replay");
    assert!(
        matches!(replay, CryptoError::Undecryptable { .. }),
        "{replay}"
    );

    let reply = send(&mut b, &mut dir, alice, 4, "four");
    assert_eq!(
        read(&mut a, &mut dir, (bob, DeviceId(21)), 4, &reply).unwrap(),
        "four"
    );
    let mut tampered = send(&mut a, &mut dir, bob, 5, "five");
    let mut bytes = tampered[0].1.as_bytes().to_vec();
    let last = bytes.len() - 12;
    bytes[last] ^= 0x01;
    tampered[0].1 = Payload::new(bytes).unwrap();
    let err = read(&mut b, &mut dir, from_a, 5, &tampered).expect_err("tampered");
    assert!(err.to_string().contains("cannot decrypt"), "{err}");
    // The failure renews the session: Bob's next message opens a new one
    // that Alice reads.
    assert!(b.needs_session(DeviceId(11), NOW));
    let after = send(&mut b, &mut dir, alice, 6, "six");
    assert_eq!(
        read(&mut a, &mut dir, (bob, DeviceId(21)), 6, &after).unwrap(),
        "six"
    );

    // A ciphertext delivered under another message id is refused.
    let moved = send(&mut a, &mut dir, bob, 7, "seven");
    let err = read(&mut b, &mut dir, from_a, 8, &moved).expect_err("moved");
    assert!(err.to_string().contains("another message id"), "{err}");
}

#[test]
fn sessions_renew_after_a_week() {
    use courier_shared::crypto::device::SESSION_MAX_AGE_MS;
    let mut dir = Directory::default();
    let mut a = dir.first_device(1, 11);
    let mut b = dir.first_device(2, 21);
    let sent = send(&mut a, &mut dir, UserId(2), 1, "now");
    read(&mut b, &mut dir, (UserId(1), DeviceId(11)), 1, &sent).unwrap();
    assert!(!a.needs_session(DeviceId(21), NOW));
    let later = NOW + SESSION_MAX_AGE_MS + 1;
    assert!(
        a.needs_session(DeviceId(21), later),
        "a week-old session is replaced"
    );
    let plain = Plaintext::text(id(2), UserId(2), "a week later", None);
    let sent = run(flow::encrypt_for(&mut a, &mut dir, &plain, later)).unwrap();
    assert!(!a.needs_session(DeviceId(21), later));
    assert_eq!(
        read(&mut b, &mut dir, (UserId(1), DeviceId(11)), 2, &sent).unwrap(),
        "a week later"
    );
}

#[test]
fn state_survives_a_snapshot_and_restore() {
    let mut dir = Directory::default();
    let mut a = dir.first_device(1, 11);
    let b = dir.first_device(2, 21);
    let mut b = DeviceCrypto::restore(&b.snapshot()).unwrap();
    let sent = send(&mut a, &mut dir, UserId(2), 1, "before");
    let mut a = DeviceCrypto::restore(&a.snapshot()).unwrap();
    assert_eq!(
        read(&mut b, &mut dir, (UserId(1), DeviceId(11)), 1, &sent).unwrap(),
        "before"
    );
    let mut b = DeviceCrypto::restore(&b.snapshot()).unwrap();
    let sent = send(&mut a, &mut dir, UserId(2), 2, "after");
    assert_eq!(
        read(&mut b, &mut dir, (UserId(1), DeviceId(11)), 2, &sent).unwrap(),
        "after"
    );
    assert!(DeviceCrypto::restore(b"not a state").is_err());
}

#[test]
fn removed_and_unapproved_devices_get_nothing_and_changes_are_reported() {
    let mut dir = Directory::default();
    let mut a = dir.first_device(1, 11);
    let mut b1 = dir.first_device(2, 21);
    let b2 = dir.link(&mut b1, 22);
    let bob = UserId(2);
    assert_eq!(send(&mut a, &mut dir, bob, 1, "x").len(), 2);

    // Bob removes device 22; Alice learns of it and stops encrypting to it.
    let list = b1.remove_device(b2.me().unwrap().1).unwrap();
    dir.publish_list(&mut b1, list);
    let change = run(flow::refresh(&mut a, &mut dir, bob)).unwrap();
    assert_eq!(
        change,
        KeyChange::DevicesChanged {
            added: vec![],
            removed: vec![DeviceId(22)]
        }
    );
    let to: Vec<DeviceId> = send(&mut a, &mut dir, bob, 2, "y")
        .iter()
        .map(|(d, _)| *d)
        .collect();
    assert_eq!(to, [DeviceId(21)]);

    // A list signed by another account key (a new install, or a server's
    // forgery) is taken as an identity change, never silently: the user is
    // told, and a verified contact loses its mark.
    // Every change is kept for the app to show, wherever it was found.
    assert_eq!(
        a.take_key_changes(),
        [KeyChangeNotice {
            user: bob,
            change: KeyChange::DevicesChanged {
                added: vec![],
                removed: vec![DeviceId(22)]
            },
            was_verified: false,
        }]
    );
    a.mark_verified(bob);
    assert!(a.is_verified(bob));
    let mut mallory = DeviceCrypto::new(seed(99));
    mallory.set_me(bob, DeviceId(23));
    let forged = mallory.found_account(seed(98)).unwrap();
    assert_eq!(
        a.accept_list(bob, &forged).unwrap(),
        KeyChange::IdentityChanged
    );
    assert!(!a.is_verified(bob), "the verified mark is gone");
    assert_eq!(
        a.take_key_changes(),
        [KeyChangeNotice {
            user: bob,
            change: KeyChange::IdentityChanged,
            was_verified: true,
        }]
    );
    assert!(a.take_key_changes().is_empty(), "each change is taken once");
    // An older list is a rollback.
    let mut c = dir.first_device(3, 31);
    let old = dir.lists[&bob].clone();
    let newer = b1.remove_device(DeviceId(99)).unwrap();
    c.accept_list(bob, &newer).unwrap();
    assert!(matches!(
        c.accept_list(bob, &old),
        Err(CryptoError::Rollback { .. })
    ));
}

#[test]
fn the_fallback_key_rotates_weekly_and_the_previous_one_opens_sessions_until_the_next() {
    const DAY: u64 = 24 * 3_600 * 1_000;
    let mut dir = Directory::default();
    let mut alice = dir.first_device(1, 11);
    let mut bob = dir.first_device(2, 21);
    let mut carol = dir.first_device(3, 31);
    let mut dave = dir.first_device(4, 41);
    let bob_device = (UserId(2), DeviceId(21));
    // Bob's one-time keys are all claimed: senders get his fallback key.
    dir.one_time.remove(&bob_device.1);
    let first = dir.fallback[&bob_device.1];
    let sent = send(&mut alice, &mut dir, bob_device.0, 1, "on the first key");

    // Six days on, nothing to publish; a week on, a new fallback key.
    assert_eq!(bob.prekeys_to_publish(50, NOW + 6 * DAY), (vec![], None));
    let second = bob
        .prekeys_to_publish(50, NOW + 7 * DAY)
        .1
        .expect("rotated");
    assert_ne!(second.key, first.key);
    dir.fallback.insert(bob_device.1, second);
    // A message built on the first key before the rotation still opens.
    let alice_device = (UserId(1), DeviceId(11));
    assert_eq!(
        read(&mut bob, &mut dir, alice_device, 1, &sent).unwrap(),
        "on the first key"
    );
    let sent = send(&mut carol, &mut dir, bob_device.0, 2, "on the second key");
    assert_eq!(
        read(&mut bob, &mut dir, (UserId(3), DeviceId(31)), 2, &sent).unwrap(),
        "on the second key"
    );

    // After the next rotation the first key is gone for good.
    let third = bob
        .prekeys_to_publish(50, NOW + 14 * DAY)
        .1
        .expect("rotated");
    assert!(third.key != first.key && third.key != second.key);
    dir.fallback.insert(bob_device.1, first);
    let sent = send(&mut dave, &mut dir, bob_device.0, 3, "on a forgotten key");
    assert!(read(&mut bob, &mut dir, (UserId(4), DeviceId(41)), 3, &sent).is_err());
}

#[test]
fn a_pre_key_signed_by_another_device_opens_no_session() {
    let mut dir = Directory::default();
    let mut alice = dir.first_device(1, 11);
    let _bob = dir.first_device(2, 21);
    // The server hands out Mallory's keys as if they were Bob's device's.
    let mut mallory = DeviceCrypto::new(seed(66));
    mallory.set_me(UserId(3), DeviceId(31));
    let (forged, fallback) = mallory.prekeys_to_publish(0, NOW);
    dir.one_time.insert(DeviceId(21), forged);
    dir.fallback
        .insert(DeviceId(21), fallback.expect("a fallback key"));
    let plain = Plaintext::text(id(1), UserId(2), "for bob only", None);
    let refused = run(flow::encrypt_for(&mut alice, &mut dir, &plain, NOW)).unwrap_err();
    assert!(
        matches!(refused, CryptoError::BadSignature(_)),
        "{refused:?}"
    );
}

/// Hands `from`'s current sender key for `group` to every device in
/// `members`, over pairwise Olm sessions, one Olm message per member user.
fn share_key(
    from: &mut DeviceCrypto,
    dir: &mut Directory,
    group: GroupId,
    members: &mut [&mut DeviceCrypto],
    n: u8,
) {
    let ids: Vec<DeviceId> = members.iter().map(|m| m.me().unwrap().1).collect();
    let shares = from
        .groups()
        .shares(group, &Text::truncating("Crew"), &ids, NOW);
    let Some((_, content)) = shares.first().cloned() else {
        return;
    };
    let wanted: Vec<DeviceId> = shares.iter().map(|(d, _)| *d).collect();
    let (from_user, from_device) = from.me().unwrap();
    let mut users: Vec<UserId> = members.iter().map(|m| m.me().unwrap().0).collect();
    users.sort_unstable();
    users.dedup();
    for (k, user) in users.into_iter().enumerate() {
        let id = id(n + k as u8);
        let plain = Plaintext {
            id,
            to: user,
            content: content.clone(),
        };
        let payloads = run(flow::encrypt_for(from, dir, &plain, NOW)).unwrap();
        for member in members.iter_mut() {
            let (_, me) = member.me().unwrap();
            let Some((_, payload)) = payloads.iter().find(|(d, _)| *d == me) else {
                continue;
            };
            let opened = run(flow::decrypt_from(
                member,
                dir,
                (from_user, from_device),
                id,
                payload.as_bytes(),
                NOW,
            ))
            .unwrap();
            if let Content::GroupKey { group, key, .. } = opened.content
                && wanted.contains(&me)
            {
                member
                    .groups()
                    .receive_key(group, from_device, key.as_bytes())
                    .unwrap();
            }
        }
    }
    from.groups().shared(group, &wanted);
}

fn group_text(
    from: &mut DeviceCrypto,
    group: GroupId,
    n: u8,
    text: &str,
) -> (MessageId, courier_shared::proto::Payload) {
    let content = Plaintext::text(id(n), UserId(0), text, None).content;
    let plaintext = GroupPlaintext {
        id: id(n),
        group,
        content,
    };
    let payload = from.groups().encrypt(group, &plaintext).unwrap();
    (id(n), payload)
}

fn group_read(
    device: &mut DeviceCrypto,
    from: (UserId, DeviceId),
    message: &(MessageId, courier_shared::proto::Payload),
) -> Result<String, CryptoError> {
    let plain = device
        .groups()
        .decrypt(from, message.0, message.1.as_bytes())?;
    match plain.content {
        Content::Text { text, .. } => Ok(text.as_str().to_owned()),
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn a_group_message_is_encrypted_once_and_every_member_device_reads_it() {
    let mut dir = Directory::default();
    let mut a1 = dir.first_device(1, 11);
    let mut a2 = dir.link(&mut a1, 12);
    let mut b1 = dir.first_device(2, 21);
    let mut b2 = dir.link(&mut b1, 22);
    let mut c1 = dir.first_device(3, 31);
    let mut c2 = dir.link(&mut c1, 32);
    let group = GroupId(7);
    let from = (UserId(1), DeviceId(11));
    share_key(
        &mut a1,
        &mut dir,
        group,
        &mut [&mut a2, &mut b1, &mut b2, &mut c1, &mut c2],
        100,
    );

    let first = group_text(&mut a1, group, 1, "hello group");
    for device in [&mut a2, &mut b1, &mut b2, &mut c1, &mut c2] {
        assert_eq!(group_read(device, from, &first).unwrap(), "hello group");
    }
    // A replayed group message is refused.
    let replay = group_read(&mut b1, from, &first).unwrap_err();
    assert!(replay.to_string().contains("replay"), "{replay}");
    // So is one moved under another id.
    let moved = (id(99), first.1.clone());
    assert!(group_read(&mut b2, from, &moved).is_err());

    // Carol leaves: Ana's next message needs a new key, which Carol's
    // devices never get, so they cannot read on.
    let remaining = [DeviceId(12), DeviceId(21), DeviceId(22)];
    assert!(a1.groups().needs_rotation(group, &remaining, NOW));
    share_key(
        &mut a1,
        &mut dir,
        group,
        &mut [&mut a2, &mut b1, &mut b2],
        110,
    );
    let after = group_text(&mut a1, group, 2, "carol has gone");
    for device in [&mut a2, &mut b1, &mut b2] {
        assert_eq!(group_read(device, from, &after).unwrap(), "carol has gone");
    }
    for device in [&mut c1, &mut c2] {
        let err = group_read(device, from, &after).unwrap_err();
        assert!(matches!(err, CryptoError::Undecryptable { .. }), "{err}");
    }

    // Dave joins later: he reads what comes next, not what came before.
    let mut d1 = dir.first_device(4, 41);
    share_key(
        &mut a1,
        &mut dir,
        group,
        &mut [&mut a2, &mut b1, &mut b2, &mut d1],
        120,
    );
    let later = group_text(&mut a1, group, 3, "welcome dave");
    assert_eq!(group_read(&mut d1, from, &later).unwrap(), "welcome dave");
    assert!(
        group_read(&mut d1, from, &after).is_err(),
        "history before joining stays closed"
    );

    // State survives a snapshot, group keys included.
    let mut b1 = DeviceCrypto::restore(&b1.snapshot()).unwrap();
    let mut a1 = DeviceCrypto::restore(&a1.snapshot()).unwrap();
    let again = group_text(&mut a1, group, 4, "after a restart");
    assert_eq!(
        group_read(&mut b1, from, &again).unwrap(),
        "after a restart"
    );
}

#[test]
fn sender_keys_rotate_after_a_hundred_messages_or_a_week() {
    use courier_shared::crypto::group::{GROUP_KEY_MAX_AGE_MS, GROUP_KEY_MAX_MESSAGES};
    let mut dir = Directory::default();
    let mut a = dir.first_device(1, 11);
    let mut b = dir.first_device(2, 21);
    let group = GroupId(9);
    let members = [DeviceId(21)];
    share_key(&mut a, &mut dir, group, &mut [&mut b], 100);
    assert!(!a.groups().needs_rotation(group, &members, NOW));
    assert!(
        a.groups()
            .needs_rotation(group, &members, NOW + GROUP_KEY_MAX_AGE_MS + 1)
    );
    for n in 0..GROUP_KEY_MAX_MESSAGES {
        group_text(&mut a, group, (n % 200) as u8, "x");
    }
    assert!(a.groups().needs_rotation(group, &members, NOW));
}
