//! Group chats through the real server on every backend: sender keys shared
//! over the pairwise sessions, one upload fanned out per member device,
//! rotation on removal, no history for later members, aggregated receipts.

use courier_shared::client::chat::{ChatId, Mark};
use courier_shared::client::messenger::GroupAction;
use courier_shared::client::{Event, GroupMarks};
use courier_shared::crypto::content::{Content, GroupEventKind};
use courier_shared::crypto::envelope::Envelope;
use courier_shared::ids::{GroupId, MessageId, RequestId, UserId};
use courier_shared::proto::{ClientFrame, ErrorCode, Payload, ReceiptKind, device_set_digest};
use courier_tests::secure::{SecureDevice, user_with_two_devices};
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
            .crypto_mut()
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
            let (_, from, line) = device.next_group_message().await;
            assert_eq!((from.0, line.chat), (ana, ChatId::Group(group)));
            let Some(Content::GroupEvent { kind, users, name }) = line.content else {
                panic!("expected the group's creation, got {line:?}");
            };
            assert_eq!(kind, GroupEventKind::Created);
            assert_eq!(users, vec![ana, ben, cy]);
            assert_eq!(name.as_str(), "Hiking club", "{backend:?}");
            assert_eq!(device.group_name(group), "Hiking club");
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
        let stale = ben.stale_retries();

        let before = ana.send_group_text(group, "before the change").await;
        ben.next_group_text().await;
        cy.next_group_text().await;
        let before_payload = cy.last_payload.clone().expect("received");

        // Only admins change members; non-members see no group.
        let grab = ClientFrame::RemoveMember {
            request: RequestId::NONE,
            group,
            user: ana.user(),
        };
        assert_eq!(ben.group_request(grab).await, Err(ErrorCode::Forbidden));
        let peek = ClientFrame::FetchGroup {
            request: RequestId::NONE,
            group,
        };
        assert_eq!(dan.group_request(peek).await, Err(ErrorCode::NotFound));

        let remove = ClientFrame::RemoveMember {
            request: RequestId::NONE,
            group,
            user: cy.user(),
        };
        let _ = remove;
        ana.change_group(group, GroupAction::Remove(cy.user()))
            .await
            .expect("removed");
        let (_, _, event) = ben.next_group_message().await;
        assert!(matches!(
            event.content,
            Some(Content::GroupEvent {
                kind: GroupEventKind::Removed,
                ..
            })
        ));

        let after = ana.send_group_text(group, "cy is gone").await;
        assert_eq!(ben.next_group_text().await.3, "cy is gone");
        let after_payload = ben.last_payload.clone().expect("received");
        cannot_decrypt(&mut cy, &ana, after, &after_payload);
        // Ben learns of the removal when the server refuses his stale send,
        // and starts a new sender key that Cy never gets.
        // Ben's core learnt of the removal from the event (and the server
        // would refuse a stale send): his new sender key skips Cy.
        let _ = stale;
        let from_ben = ben.send_group_text(group, "ben's news").await;
        assert_eq!(ana.next_group_text().await.3, "ben's news");
        let ben_payload = ana.last_payload.clone().expect("received");
        cannot_decrypt(&mut cy, &ben, from_ben, &ben_payload);
        let events = cy.net().idle(Duration::from_millis(500)).await;
        let group_messages: Vec<_> = events
            .iter()
            .filter(|e| match e {
                Event::Message { payload, .. } => matches!(
                    Envelope::from_payload(payload.as_bytes()),
                    Ok(Envelope::Group { .. })
                ),
                _ => false,
            })
            .collect();
        assert!(
            group_messages.is_empty(),
            "the server routes no group message to a removed member: {group_messages:?}"
        );
        let sneak = ClientFrame::SendGroup {
            request: RequestId::NONE,
            id: courier_tests::device::new_message_id(),
            group,
            devices: device_set_digest(&[]),
            payload: Payload::new(vec![1]).expect("small"),
        };
        let refused = cy.net().call(sneak).await.map_err(|r| r.code);
        assert_eq!(refused, Err(ErrorCode::Forbidden));

        // Dan joins later: he reads from now on, nothing from before.
        let add = ClientFrame::AddMembers {
            request: RequestId::NONE,
            group,
            users: vec![dan.user()],
        };
        let _ = add;
        ana.change_group(group, GroupAction::Add("dan".into()))
            .await
            .expect("added");
        let (_, _, added) = dan.next_group_message().await;
        assert!(matches!(
            added.content,
            Some(Content::GroupEvent {
                kind: GroupEventKind::Added,
                ..
            })
        ));
        assert_eq!(dan.group_name(group), "Plans");
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
    let chat = ChatId::Group(group);
    // Each member's core tells Ana's once it has the message, and again
    // once its user looks at the chat; her mark follows every member.
    let state = |device: &SecureDevice| {
        let message = device.stored(&id).expect("stored");
        message.marks.as_ref().and_then(GroupMarks::state)
    };
    assert_eq!(ben.next_group_text().await.0, id);
    ana.until(|ana| {
        ana.stored(&id)
            .and_then(|m| m.marks.as_ref())
            .is_some_and(|m| m.info().any(|(_, delivered, _)| delivered.is_some()))
    })
    .await;
    assert_eq!(state(&ana), None, "one member has it, the other not yet");
    assert_eq!(cy.next_group_text().await.0, id);
    ana.until(|ana| state(ana) == Some(ReceiptKind::Delivered))
        .await;
    ben.core.open(Some(chat)).await.expect("opened");
    ana.until(|ana| {
        ana.stored(&id)
            .and_then(|m| m.marks.as_ref())
            .is_some_and(|m| m.info().any(|(_, _, read)| read.is_some()))
    })
    .await;
    assert_eq!(
        state(&ana),
        Some(ReceiptKind::Delivered),
        "blue only once everyone read it"
    );
    cy.core.open(Some(chat)).await.expect("opened");
    ana.until(|ana| state(ana) == Some(ReceiptKind::Read)).await;
    assert_eq!(ana.stored(&id).expect("stored").mark, Mark::Read);
    let readers = ana
        .stored(&id)
        .and_then(|m| m.marks.clone())
        .expect("marks")
        .info()
        .filter(|(_, _, read)| read.is_some())
        .count();
    assert_eq!(readers, 2);
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
            member.net().disconnect().await;
            others.push(member.user());
        }
        let group = ana.create_group("Everyone", &others).await;
        assert_eq!(ana.group_users(group).len(), 256);

        let text = "x".repeat(1_000);
        let before = ana.net().net.bytes_sent;
        let id = ana.send_group_text(group, &text).await;
        let sent = ana.net().net.bytes_sent - before;
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
        request: RequestId::NONE,
        members: vec![UserId(999_999)],
    };
    assert_eq!(ana.group_request(ghost).await, Err(ErrorCode::NotFound));
    let crowd = ClientFrame::CreateGroup {
        request: RequestId::NONE,
        members: (1..=1_024).map(UserId).collect(),
    };
    assert_eq!(
        ana.group_request(crowd).await,
        Err(ErrorCode::InvalidRequest)
    );
    let missing = ClientFrame::FetchGroup {
        request: RequestId::NONE,
        group: GroupId(424_242),
    };
    assert_eq!(ana.group_request(missing).await, Err(ErrorCode::NotFound));
    // Leaving as the last admin hands the group to the longest-standing
    // member; the last one out deletes it.
    let mut ben = SecureDevice::register(&ws, "ben").await;
    let (group, _, _) = ana
        .group_request(ClientFrame::CreateGroup {
            request: RequestId::NONE,
            members: vec![ben.user()],
        })
        .await
        .expect("created");
    let leave = ClientFrame::RemoveMember {
        request: RequestId::NONE,
        group,
        user: ana.user(),
    };
    let (_, _, members) = ana.group_request(leave).await.expect("left");
    assert_eq!(members, vec![(ben.user(), true)]);
    let last = ClientFrame::RemoveMember {
        request: RequestId::NONE,
        group,
        user: ben.user(),
    };
    let (_, _, members) = ben.group_request(last).await.expect("left");
    assert!(members.is_empty());
    assert_eq!(
        ben.group_request(ClientFrame::FetchGroup {
            request: RequestId::NONE,
            group
        })
        .await,
        Err(ErrorCode::NotFound)
    );
    app.stop().await;
}
