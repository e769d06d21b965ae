//! Whom a group's messages are believed from: members only, and the
//! members' key changes are told in the group.

use super::{World, last, run, say};
use crate::client::Event;
use crate::client::chat::ChatId;
use crate::client::messenger::GroupAction;
use crate::crypto::content::{Content, GroupEventKind};
use crate::crypto::group_flow::encrypt_group;
use crate::proto::Text;
use crate::time::Env;

#[test]
fn a_removed_members_text_and_forged_rename_are_dropped() {
    let world = World::new();
    let (mut ana, mut ben, mut dan, group) = world.trip("dan");
    let ChatId::Group(id) = group else {
        panic!("a group chat");
    };
    say(&mut dan, group, "hi from dan");
    world.settle(&mut [&mut ana, &mut ben, &mut dan]);
    assert_eq!(
        last(&ben, group).text.as_deref(),
        Some("hi from dan"),
        "a member's text is shown"
    );
    run(ana.core.change_group(id, GroupAction::Remove(dan.user()))).expect("removed");
    world.settle(&mut [&mut ana, &mut ben, &mut dan]);
    let shown = ben.messages(group).len();

    // Dan kept his sender key; a server that forwards anything (or a
    // pairwise path around its group check) brings his messages to Ben.
    let forged = [
        Content::Text {
            text: Text::truncating("still here"),
            reply_to: None,
        },
        Content::GroupEvent {
            kind: GroupEventKind::Renamed,
            users: Vec::new(),
            name: Text::truncating("Hacked"),
        },
    ];
    for content in forged {
        let message = world.env().message_id();
        let crypto = dan.core.crypto_mut().expect("an account");
        let payload = encrypt_group(crypto, id, message, content).expect("encrypted");
        let event = Event::Message {
            id: message,
            from: dan.user(),
            from_device: dan.device(),
            sent_at: message.unix_ms(),
            payload,
        };
        world.hub.borrow_mut().push(ben.device(), event);
    }
    world.settle(&mut [&mut ben]);
    let texts: Vec<_> = ben
        .messages(group)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(ben.messages(group).len(), shown, "nothing new: {texts:?}");
    let name = ben
        .core
        .chats()
        .iter()
        .find(|c| c.chat == group)
        .map(|c| c.name.clone());
    assert_eq!(
        name.as_deref(),
        Some("Trip"),
        "the forged rename did nothing"
    );
}

#[test]
fn a_members_new_device_is_told_in_the_group_when_there_is_no_direct_chat() {
    let world = World::new();
    let (mut ana, mut ben, mut cyd, group) = world.trip("cyd");
    say(&mut ben, group, "hello");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);

    let mut tablet = world.link(&mut cyd);
    say(&mut ben, group, "who is here?");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd, &mut tablet]);
    assert!(
        ben.core
            .chats()
            .iter()
            .all(|c| c.chat != ChatId::User(cyd.user())),
        "ben never wrote to cyd one to one"
    );
    let lines: Vec<_> = ben
        .messages(group)
        .into_iter()
        .filter(|m| m.system)
        .filter_map(|m| m.text)
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cyd") && l.contains("device")),
        "the group says cyd's devices changed: {lines:?}"
    );
}

#[test]
fn a_member_renames_the_group_for_every_member_with_a_line() {
    let world = World::new();
    let (mut ana, mut ben, mut cyd, group) = world.trip("cyd");
    let ChatId::Group(id) = group else {
        panic!("a group chat");
    };
    let blank = run(ben.core.change_group(id, GroupAction::Rename("  ".into())));
    assert!(blank.is_err_and(|e| e.to_string().contains("name")));
    run(ben
        .core
        .change_group(id, GroupAction::Rename(" Ski trip ".into())))
    .expect("renamed");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    for device in [&ana, &ben, &cyd] {
        let name = device
            .core
            .chats()
            .iter()
            .find(|c| c.chat == group)
            .map(|c| c.name.clone());
        assert_eq!(name.as_deref(), Some("Ski trip"));
    }
    assert_eq!(
        last(&cyd, group).text.as_deref(),
        Some("ben renamed the group \u{201c}Ski trip\u{201d}")
    );
    assert_eq!(
        last(&ben, group).text.as_deref(),
        Some("You renamed the group \u{201c}Ski trip\u{201d}")
    );
}
