//! Group chats through the real server on every backend: sender keys shared
//! over the pairwise sessions, one upload fanned out per member device,
//! rotation on removal, no history for later members, aggregated receipts.

use courier_shared::client::{Event, GroupMarks};
use courier_shared::crypto::content::{Content, GroupEventKind};
use courier_shared::ids::{GroupId, MessageId, UserId};
use courier_shared::proto::{ClientFrame, ErrorCode, Payload, ReceiptKind, device_set_digest};
use courier_tests::secure::{SecureDevice, unix_ms, user_with_two_devices};
use courier_tests::{Backend, backends, spawn_app};
use std::time::Duration;

/// Every one of `devices` reads group text `expected` next.
async fn all_read(devices: &mut [&mut SecureDevice], expected: (MessageId, UserId, GroupId, &str)) {
    for device in devices.iter_mut() {
        let (id, from, group, text) = device.next_group_text().await;
        assert_eq!(
            (id, from, group, text.as_str()),
            expected,
            "device {:?}",
            device.device()
        );
    }
}

/// `device` cannot decrypt `payload`, group message `id` from `from`.
fn cannot_decrypt(
    device: &mut SecureDevice,
    from: &SecureDevice,
    id: MessageId,
    payload: &Payload,
) {
    let result =
        device
            .crypto
            .groups()
            .decrypt((from.user(), from.device()), id, payload.as_bytes());
    assert!(result.is_err(), "device {:?} decrypted it", device.device());
}

#[tokio::test]
async fn three_users_with_two_devices_each_chat_in_a_group() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let (mut a1, mut a2) = user_with_two_devices(&ws, "ana").await;
        let (mut b1, mut b2) = user_with_two_devices(&ws, "ben").await;
        let (mut c1, mut c2) = user_with_two_devices(&ws, "cyra").await;
        let (ana, ben, cy) = (a1.user(), b1.user(), c1.user());

        let group = a1.create_group("Hiking club", &[ben, cy]).await;
        for device in [&mut a2, &mut b1, &mut b2, &mut c1, &mut c2] {
            let (_, from, plain) = device.next_group_message().await;
            assert_eq!((from.0, plain.1), (ana, group));
            let Content::GroupEvent { kind, users, name } = plain.2 else {
                panic!("expected the group's creation, got {:?}", plain.2);
            };
            assert_eq!(kind, GroupEventKind::Created);
            assert_eq!(users, vec![ana, ben, cy]);
            assert_eq!(name.as_str(), "Hiking club", "{backend:?}");
            assert_eq!(device.groups[&group].name.as_str(), "Hiking club");
        }

        let hello = a1.send_group_text(group, "hello all").await;
        all_read(
            &mut [&mut a2, &mut b1, &mut b2, &mut c1, &mut c2],
            (hello, ana, group, "hello all"),
        )
        .await;
        let mut devices = [a1, a2, b1, b2, c1, c2];
        for sender in [3, 4, 1] {
            // Each sender first learns the members from the server.
            devices[sender].refresh_group(group).await;
            let id = devices[sender].send_group_text(group, "my turn").await;
            let user = devices[sender].user();
            for (n, device) in devices.iter_mut().enumerate() {
                if n != sender {
                    let got = device.next_group_text().await;
                    assert_eq!(got, (id, user, group, "my turn".to_owned()), "{backend:?}");
                }
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn removed_members_cannot_read_on_and_new_members_cannot_read_back() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let mut ana = SecureDevice::register(&ws, "ana").await;
        let mut ben = SecureDevice::register(&ws, "ben").await;
        let mut cy = SecureDevice::register(&ws, "cyra").await;
        let mut dan = SecureDevice::register(&ws, "dan").await;
        let group = ana.create_group("Plans", &[ben.user(), cy.user()]).await;
        ben.next_group_message().await;
        cy.next_group_message().await;
        ben.refresh_group(group).await;
        ben.send_group_text(group, "hi, from ben").await;
        ana.next_group_text().await;
        cy.next_group_text().await;
        ben.stale_retries = 0;

        let before = ana.send_group_text(group, "before the change").await;
        ben.next_group_text().await;
        cy.next_group_text().await;
        let before_payload = cy.last_payload.clone().expect("received");

        // Only admins change members; non-members see no group.
        let grab = ClientFrame::RemoveMember {
            group,
            user: ana.user(),
        };
        assert_eq!(ben.group_request(grab).await, Err(ErrorCode::Forbidden));
        let peek = ClientFrame::FetchGroup { group };
        assert_eq!(dan.group_request(peek).await, Err(ErrorCode::NotFound));

        let remove = ClientFrame::RemoveMember {
            group,
            user: cy.user(),
        };
        ana.change_group(group, remove, GroupEventKind::Removed, vec![cy.user()])
            .await
            .expect("removed");
        let (_, _, event) = ben.next_group_message().await;
        assert!(matches!(
            event.2,
            Content::GroupEvent {
                kind: GroupEventKind::Removed,
                ..
            }
        ));

        let after = ana.send_group_text(group, "cy is gone").await;
        assert_eq!(ben.next_group_text().await.3, "cy is gone");
        let after_payload = ben.last_payload.clone().expect("received");
        cannot_decrypt(&mut cy, &ana, after, &after_payload);
        // Ben learns of the removal when the server refuses his stale send,
        // and starts a new sender key that Cy never gets.
        let from_ben = ben.send_group_text(group, "ben's news").await;
        assert!(ben.stale_retries >= 1, "{backend:?}");
        assert_eq!(ana.next_group_text().await.3, "ben's news");
        let ben_payload = ana.last_payload.clone().expect("received");
        cannot_decrypt(&mut cy, &ben, from_ben, &ben_payload);
        let events = cy.net.idle(Duration::from_millis(500)).await;
        assert!(
            !events.iter().any(|e| matches!(e, Event::Message { .. })),
            "the server routes nothing to a removed member: {events:?}"
        );
        let sneak = ClientFrame::SendGroup {
            id: courier_tests::device::new_message_id(),
            group,
            devices: device_set_digest(&[]),
            payload: Payload::new(vec![1]).expect("small"),
        };
        cy.net.send(sneak).await;
        let refused = cy
            .net
            .expect(|e| match e {
                Event::Rejected { code, .. } => Some(*code),
                _ => None,
            })
            .await;
        assert_eq!(refused, ErrorCode::Forbidden);

        // Dan joins later: he reads from now on, nothing from before.
        let add = ClientFrame::AddMembers {
            group,
            users: vec![dan.user()],
        };
        ana.change_group(group, add, GroupEventKind::Added, vec![dan.user()])
            .await
            .expect("added");
        let (_, _, added) = dan.next_group_message().await;
        assert!(matches!(
            added.2,
            Content::GroupEvent {
                kind: GroupEventKind::Added,
                ..
            }
        ));
        assert_eq!(dan.groups[&group].name.as_str(), "Plans");
        cannot_decrypt(&mut dan, &ana, before, &before_payload);
        cannot_decrypt(&mut dan, &ana, after, &after_payload);
        ben.next_group_message().await;
        let welcome = ben.send_group_text(group, "welcome dan").await;
        let (id, from, _, text) = dan.next_group_text().await;
        assert_eq!(
            (id, from, text.as_str()),
            (welcome, ben.user(), "welcome dan")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn group_receipts_aggregate_over_every_member() {
    let app = spawn_app(Backend::Sqlite).await;
    let ws = app.ws_url();
    let mut ana = SecureDevice::register(&ws, "ana").await;
    let mut ben = SecureDevice::register(&ws, "ben").await;
    let mut cy = SecureDevice::register(&ws, "cyra").await;
    let group = ana.create_group("Marks", &[ben.user(), cy.user()]).await;
    ben.next_group_message().await;
    cy.next_group_message().await;
    let id = ana.send_group_text(group, "did you get it?").await;
    let mut marks = GroupMarks::new([ben.user(), cy.user()]);

    let mut step = async |device: &mut SecureDevice, kind: ReceiptKind| {
        let frame = ClientFrame::Receipt {
            to: ana.user(),
            kind,
            ids: vec![id],
        };
        device.net.send(frame).await;
        let (from, got) = ana
            .net
            .expect(|e| match e {
                Event::Receipt {
                    from, kind, ids, ..
                } if ids.contains(&id) => Some((*from, *kind)),
                _ => None,
            })
            .await;
        marks.record(from, got, unix_ms());
        marks.state()
    };
    assert_eq!(ben.next_group_text().await.0, id);
    assert_eq!(step(&mut ben, ReceiptKind::Delivered).await, None);
    assert_eq!(cy.next_group_text().await.0, id);
    assert_eq!(
        step(&mut cy, ReceiptKind::Delivered).await,
        Some(ReceiptKind::Delivered)
    );
    assert_eq!(
        step(&mut ben, ReceiptKind::Read).await,
        Some(ReceiptKind::Delivered),
        "blue only once everyone read it"
    );
    assert_eq!(
        step(&mut cy, ReceiptKind::Read).await,
        Some(ReceiptKind::Read)
    );
    let readers: Vec<UserId> = marks
        .info()
        .filter(|(_, _, read)| read.is_some())
        .map(|(user, _, _)| user)
        .collect();
    assert_eq!(readers.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_message_to_a_256_member_group_is_uploaded_once_and_stored_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let mut ana = SecureDevice::register(&ws, "ana").await;
        let mut others = Vec::new();
        for n in 0..255 {
            let mut member = SecureDevice::register(&ws, &format!("member{n}")).await;
            member.net.disconnect().await;
            others.push(member.user());
        }
        let group = ana.create_group("Everyone", &others).await;
        assert_eq!(ana.group_users(group).len(), 256);

        let text = "x".repeat(1_000);
        let before = ana.net.bytes_sent;
        let id = ana.send_group_text(group, &text).await;
        let sent = ana.net.bytes_sent - before;
        let (rows, bytes) = app.store().await.queued_copies(id).await.expect("counted");
        println!(
            "{backend:?}: a {}-byte text to 255 members: {sent} bytes sent, {rows} queue rows, \
             {bytes} payload bytes queued",
            text.len()
        );
        assert_eq!(rows, 255, "one row per member device");
        assert!(
            sent < 1_300,
            "uploaded once: {sent} bytes for a 1,000-byte text"
        );
        assert!(
            (1_000..1_300).contains(&bytes),
            "the ciphertext is stored once for all the rows: {bytes} bytes"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn group_requests_are_bounded_and_validated() {
    let app = spawn_app(Backend::Sqlite).await;
    let ws = app.ws_url();
    let mut ana = SecureDevice::register(&ws, "ana").await;
    let ghost = ClientFrame::CreateGroup {
        members: vec![UserId(999_999)],
    };
    assert_eq!(ana.group_request(ghost).await, Err(ErrorCode::NotFound));
    let crowd = ClientFrame::CreateGroup {
        members: (1..=1_024).map(UserId).collect(),
    };
    assert_eq!(
        ana.group_request(crowd).await,
        Err(ErrorCode::InvalidRequest)
    );
    let missing = ClientFrame::FetchGroup {
        group: GroupId(424_242),
    };
    assert_eq!(ana.group_request(missing).await, Err(ErrorCode::NotFound));
    // Leaving as the last admin hands the group to the longest-standing
    // member; the last one out deletes it.
    let mut ben = SecureDevice::register(&ws, "ben").await;
    let (group, _, _) = ana
        .group_request(ClientFrame::CreateGroup {
            members: vec![ben.user()],
        })
        .await
        .expect("created");
    let leave = ClientFrame::RemoveMember {
        group,
        user: ana.user(),
    };
    let (_, _, members) = ana.group_request(leave).await.expect("left");
    assert_eq!(members, vec![(ben.user(), true)]);
    let last = ClientFrame::RemoveMember {
        group,
        user: ben.user(),
    };
    let (_, _, members) = ben.group_request(last).await.expect("left");
    assert!(members.is_empty());
    assert_eq!(
        ben.group_request(ClientFrame::FetchGroup { group }).await,
        Err(ErrorCode::NotFound)
    );
    app.stop().await;
}
