//! The messenger's behaviours, one scenario each.

use super::{World, has_mark, last, run, say, signed_in};
use crate::client::Effect;
use crate::client::chat::{ChatId, Mark};
use crate::client::messenger::GroupAction;
use crate::crypto::content::Content;
use crate::proto::ErrorCode;

#[test]
fn a_message_is_sent_accepted_delivered_and_read() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    let id = say(&mut ana, to_ben, "hello ben");
    world.settle(&mut [&mut ana, &mut ben]);

    let to_ana = ChatId::User(ana.user());
    let got = last(&ben, to_ana);
    assert_eq!((got.id, got.text.as_deref()), (id, Some("hello ben")));
    assert!(!got.outgoing);
    assert_eq!(ben.core.chats()[0].unread, 1);
    assert!(
        ben.effects
            .iter()
            .any(|e| matches!(e, Effect::Notify { body, .. } if body == "hello ben"))
    );
    // Ben's device has it: two grey checks on Ana's.
    assert!(has_mark(&ana, to_ben, id, Mark::Delivered));

    // Ben looks at the chat: two blue checks, and nothing unread.
    run(ben.core.open(Some(to_ana))).expect("opened");
    world.settle(&mut [&mut ana, &mut ben]);
    assert!(has_mark(&ana, to_ben, id, Mark::Read));
    assert_eq!(ben.core.chats()[0].unread, 0);
    assert!(ana.core.index().outbox.is_empty(), "the outbox is empty");
}

#[test]
fn a_message_written_offline_waits_in_the_outbox_and_goes_on_sign_in() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    ana.core.on_disconnected();
    let id = run(ana.core.send_text(to_ben, "later", None))
        .expect("kept")
        .expect("an id");
    world.settle(&mut [&mut ana, &mut ben]);
    assert!(has_mark(&ana, to_ben, id, Mark::Pending));
    assert_eq!(ana.core.index().pending_messages(), [(id, to_ben)]);
    // Saved with the index, so it survives a reload.
    let saved = ana.core.store.index.clone().expect("saved");
    assert_eq!(saved.pending_messages(), [(id, to_ben)]);

    signed_in(&mut ana);
    world.settle(&mut [&mut ana, &mut ben]);
    assert_eq!(last(&ben, ChatId::User(ana.user())).id, id);
    assert!(ana.core.index().outbox.is_empty());
}

#[test]
fn stale_devices_are_fetched_again_and_the_send_retried() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    say(&mut ana, to_ben, "first");
    world.settle(&mut [&mut ana, &mut ben]);

    // Ben links a phone; Ana still holds his old device list.
    let mut phone = world.link(&mut ben);
    let id = say(&mut ana, to_ben, "to both");
    world.settle(&mut [&mut ana, &mut ben, &mut phone]);
    assert_eq!(ana.core.stale_retries(), 1, "refused once as stale");
    assert!(has_mark(&ana, to_ben, id, Mark::Delivered));
    let to_ana = ChatId::User(ana.user());
    assert_eq!(last(&ben, to_ana).id, id);
    assert_eq!(last(&phone, to_ana).id, id);
    // The change shows in Ana's chat with Ben as a line of its own.
    let lines: Vec<String> = ana
        .messages(to_ben)
        .into_iter()
        .filter(|m| m.system)
        .filter_map(|m| m.text)
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ben's devices changed: 1 added")),
        "{lines:?}"
    );
}

#[test]
fn a_rate_limited_send_goes_again_under_the_same_id_and_is_shown_once() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    world
        .hub
        .borrow_mut()
        .refuse_next("Send", ErrorCode::RateLimited);
    let id = say(&mut ana, to_ben, "again");
    world.settle(&mut [&mut ana, &mut ben]);
    assert!(
        has_mark(&ana, to_ben, id, Mark::Pending),
        "waiting to go again"
    );
    assert!(ben.messages(ChatId::User(ana.user())).is_empty());
    // Too early: nothing goes.
    world.tick(500, &mut [&mut ana, &mut ben]);
    assert!(ben.messages(ChatId::User(ana.user())).is_empty());
    world.tick(600, &mut [&mut ana, &mut ben]);
    let got = ben.messages(ChatId::User(ana.user()));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id, "the same message id");
    assert!(has_mark(&ana, to_ben, id, Mark::Delivered));
}

#[test]
fn a_refused_receipt_touches_no_other_request() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    say(&mut ana, to_ben, "hi");
    // Ben's delivery receipt is refused; his own message goes regardless.
    world
        .hub
        .borrow_mut()
        .refuse_next("Receipt", ErrorCode::InvalidRequest);
    let to_ana = ChatId::User(ana.user());
    let devices = [ana.device(), ben.device()];
    world.settle(&mut [&mut ana, &mut ben]);
    let reply = say(&mut ben, to_ana, "hi ana");
    world.settle(&mut [&mut ana, &mut ben]);
    assert!(has_mark(&ben, to_ana, reply, Mark::Delivered));
    assert_eq!(last(&ana, to_ben).id, reply);
    assert!(
        ben.core.index().outbox.is_empty(),
        "the refused receipt left"
    );
    let first = &ana.messages(to_ben)[0];
    assert_eq!(
        first.mark,
        Mark::Sent,
        "its receipt was refused: one grey check"
    );
    assert_eq!(
        world.hub.borrow().count(devices[1], "Receipt"),
        1,
        "a receipt refused for good is not sent again"
    );
}

#[test]
fn a_delivery_that_comes_twice_is_shown_once() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    say(&mut ana, to_ben, "once");
    let events = world.hub.borrow_mut().take_events(ben.device());
    let again = events.clone();
    for event in events.into_iter().chain(again) {
        run(ben.core.on_event(event)).expect("handled");
    }
    let to_ana = ChatId::User(ana.user());
    assert_eq!(ben.messages(to_ana).len(), 1);
    assert!(
        ben.messages(to_ana)[0].problem.is_none(),
        "not undecryptable"
    );
    assert_eq!(ben.core.chats()[0].unread, 1);
    assert_eq!(
        world.hub.borrow().count(ben.device(), "Ack"),
        2,
        "acknowledged both times"
    );
}

#[test]
fn a_removed_member_gets_no_key_and_the_sender_key_rotates() {
    let world = World::new();
    let (mut ana, mut ben, mut cy, group) = world.trip("cyd");
    say(&mut ana, group, "before");
    world.settle(&mut [&mut ana, &mut ben, &mut cy]);
    assert_eq!(last(&ben, group).text.as_deref(), Some("before"));
    assert_eq!(last(&cy, group).text.as_deref(), Some("before"));
    assert_eq!(
        ben.core.chats()[0].name,
        "Trip",
        "the name came with the key"
    );

    let ana_device = ana.device();
    let shares_to_ben = |world: &World| world.hub.borrow().count(ana_device, "Send");
    let before = shares_to_ben(&world);
    let ChatId::Group(id) = group else {
        panic!("a group chat");
    };
    run(ana.core.change_group(id, GroupAction::Remove(cy.user()))).expect("removed");
    say(&mut ana, group, "after");
    world.settle(&mut [&mut ana, &mut ben, &mut cy]);
    assert!(
        shares_to_ben(&world) > before,
        "a new sender key was shared after the removal"
    );
    assert_eq!(last(&ben, group).text.as_deref(), Some("after"));
    let cy_sees: Vec<_> = cy
        .messages(group)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert!(!cy_sees.contains(&"after".to_owned()), "{cy_sees:?}");
    assert!(
        cy_sees.iter().any(|t| t.contains("removed")),
        "cy is told: {cy_sees:?}"
    );
    assert!(matches!(
        last(&ben, group).content,
        None | Some(Content::Text { .. })
    ));
}

#[test]
fn a_failed_send_says_why_and_leaves_the_outbox() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    world
        .hub
        .borrow_mut()
        .refuse_next("Send", ErrorCode::InvalidRequest);
    let id = say(&mut ana, to_ben, "no");
    world.settle(&mut [&mut ana, &mut ben]);
    let message = ana.message(to_ben, id);
    assert_eq!(message.mark, Mark::Failed);
    assert_eq!(message.problem.as_deref(), Some("refused on cue"));
    assert!(ana.core.index().outbox.is_empty());
}

#[test]
fn a_linked_device_sees_what_the_account_sends_and_is_told_of_device_changes() {
    let world = World::new();
    let mut ana = world.register("ana");
    let mut ben = world.register("ben");
    let mut laptop = world.link(&mut ana);
    assert!(
        !ana.effects
            .iter()
            .any(|e| matches!(e, Effect::Notice(n) if n.contains("Your account's devices"))),
        "its own link is no surprise to the approving device"
    );
    let to_ben = run(ana.core.start_chat("ben")).expect("chat started");
    let id = say(&mut ana, to_ben, "from the phone");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    let copy = last(&laptop, to_ben);
    assert_eq!(
        (copy.id, copy.outgoing),
        (id, true),
        "a copy on the other device"
    );
    // The laptop removes the phone: the phone's user is told.
    run(laptop.core.remove_device(ana.device())).expect("removed");
    let to_ana = ChatId::User(ana.user());
    say(&mut ben, to_ana, "still there?");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert_eq!(last(&laptop, to_ben).text.as_deref(), Some("still there?"));
}
