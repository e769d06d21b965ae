//! Reactions, edits and deletes: on every device of everyone concerned,
//! in whatever order they arrive, and only by whom may make them.

use super::{Device, World, last, run, say};
use crate::client::chat::{ChatId, DELETED_TEXT, Outgoing};
use crate::crypto::content::Content;
use crate::ids::MessageId;
use crate::proto::Text;
use crate::time::Env;

/// Ana (with a laptop) wrote "helo" to Ben; everyone has it.
fn written(world: &World) -> (Device, Device, Device, MessageId) {
    let mut ana = world.register("ana");
    let mut ben = world.register("ben");
    let mut laptop = world.link(&mut ana);
    let to_ben = run(ana.core.start_chat("ben")).expect("chat started");
    let id = say(&mut ana, to_ben, "helo");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    (ana, ben, laptop, id)
}

/// The reactions `device` shows on message `id` of `chat`, as (emoji, count).
fn reactions(device: &Device, chat: ChatId, id: MessageId) -> Vec<String> {
    device
        .message(chat, id)
        .reactions
        .into_iter()
        .filter(|r| !r.emoji.is_empty())
        .map(|r| r.emoji)
        .collect()
}

/// Hands `device` the events waiting for it, newest first.
fn deliver_reversed(world: &World, device: &mut Device) {
    let mut events = world.hub.borrow_mut().take_events(device.device());
    events.reverse();
    for event in events {
        run(device.core.on_event(event)).expect("handled");
    }
}

#[test]
fn a_reaction_reaches_every_device_and_the_newest_wins_in_any_order() {
    let world = World::new();
    let (mut ana, mut ben, mut laptop, id) = written(&world);
    let to_ana = ChatId::User(ana.user());
    let to_ben = ChatId::User(ben.user());

    run(ben.core.react(to_ana, id, "👍")).expect("reacted");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert_eq!(reactions(&ana, to_ben, id), ["👍"]);
    assert_eq!(reactions(&laptop, to_ben, id), ["👍"], "the laptop too");
    assert_eq!(reactions(&ben, to_ana, id), ["👍"], "shown at once to Ben");

    // Ben changes his mind twice; Ana's phone gets the two out of order.
    run(ben.core.react(to_ana, id, "❤️")).expect("reacted");
    run(ben.core.react(to_ana, id, "😂")).expect("reacted");
    deliver_reversed(&world, &mut ana);
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert_eq!(
        reactions(&ana, to_ben, id),
        ["😂"],
        "one per person, newest"
    );
    assert_eq!(reactions(&laptop, to_ben, id), ["😂"]);

    // Taken back, and a late older one does not bring it back.
    run(ana.core.react(to_ben, id, "🎉")).expect("reacted");
    run(ana.core.react(to_ben, id, "")).expect("taken back");
    deliver_reversed(&world, &mut ben);
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert_eq!(reactions(&ben, to_ana, id), ["😂"]);
}

#[test]
fn an_edit_wins_everywhere_only_by_its_author_and_only_for_fifteen_minutes() {
    let world = World::new();
    let (mut ana, mut ben, mut laptop, id) = written(&world);
    let to_ana = ChatId::User(ana.user());
    let to_ben = ChatId::User(ben.user());

    run(ana.core.edit(to_ben, id, "hello")).expect("edited");
    run(ana.core.edit(to_ben, id, "hello!")).expect("edited again");
    deliver_reversed(&world, &mut ben);
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    for (device, chat) in [(&ben, to_ana), (&laptop, to_ben), (&ana, to_ben)] {
        let message = device.message(chat, id);
        assert_eq!(message.text.as_deref(), Some("hello!"), "the newest edit");
        assert!(message.edit.is_some(), "shown as edited");
    }

    // Ben cannot edit Ana's words, neither here nor by a forged change.
    assert!(run(ben.core.edit(to_ana, id, "I owe you")).is_err());
    let forged = Content::Edit {
        target: id,
        text: Text::truncating("I owe you"),
    };
    let change = world.env().message_id();
    run(ana.core.apply_change(to_ben, ben.user(), change, forged)).expect("taken in");
    assert_eq!(ana.message(to_ben, id).text.as_deref(), Some("hello!"));

    world.advance(16 * 60 * 1000);
    let late = run(ana.core.edit(to_ben, id, "too late"));
    assert!(late.is_err_and(|e| e.to_string().contains("15 minutes")));
}

#[test]
fn delete_for_everyone_leaves_a_line_on_every_device_and_delete_for_me_only_on_mine() {
    let world = World::new();
    let (mut ana, mut ben, mut laptop, id) = written(&world);
    let to_ana = ChatId::User(ana.user());
    let to_ben = ChatId::User(ben.user());
    assert!(
        run(ben.core.delete_for_everyone(to_ana, id)).is_err(),
        "not Ben's to delete"
    );

    run(ana.core.delete_for_everyone(to_ben, id)).expect("deleted");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    for (device, chat) in [(&ben, to_ana), (&laptop, to_ben), (&ana, to_ben)] {
        let message = device.message(chat, id);
        assert!(message.deleted);
        assert_eq!(message.text.as_deref(), Some(DELETED_TEXT));
        assert!(message.content.is_none() && message.reply_to.is_none());
    }
    assert_eq!(ben.core.chats()[0].preview, DELETED_TEXT);

    let second = say(&mut ana, to_ben, "see you");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    run(ana.core.delete_for_me(to_ben, second)).expect("deleted for Ana");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert!(ana.message(to_ben, second).hidden, "gone on Ana's phone");
    assert!(laptop.message(to_ben, second).hidden, "and on her laptop");
    assert!(
        laptop.message(to_ben, second).text.is_none(),
        "text forgotten"
    );
    assert!(!ben.message(to_ana, second).hidden, "still on Ben's");
    assert_eq!(last(&ben, to_ana).text.as_deref(), Some("see you"));
}

#[test]
fn only_this_users_own_devices_can_delete_a_message_for_them() {
    let world = World::new();
    let (mut ana, mut ben, mut laptop, id) = written(&world);
    let to_ana = ChatId::User(ana.user());
    // Ben sends Ana a forged "deleted for me" naming her own message.
    let forged = Content::Hidden {
        user: Some(ben.user()),
        group: None,
        target: id,
    };
    let sent = world.env().message_id();
    let change = Outgoing::Change {
        chat: to_ana,
        content: Box::new(forged),
    };
    ben.core.index.outbox.push(sent, change);
    run(ben.core.flush()).expect("sent");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    let to_ben = ChatId::User(ben.user());
    assert!(!ana.message(to_ben, id).hidden && !laptop.message(to_ben, id).hidden);
}

#[test]
fn a_group_members_reaction_and_delete_reach_the_whole_group() {
    let world = World::new();
    let (mut ana, mut ben, mut cyd, group) = world.trip("cyd");
    let id = say(&mut ana, group, "dinner at 8?");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    run(cyd.core.react(group, id, "👍")).expect("reacted");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    assert_eq!(reactions(&ana, group, id), ["👍"]);
    assert_eq!(reactions(&ben, group, id), ["👍"]);
    let by = ben.message(group, id).reactions[0].user;
    assert_eq!(by, cyd.user(), "who reacted is shown");

    assert!(run(ben.core.delete_for_everyone(group, id)).is_err());
    run(ana.core.delete_for_everyone(group, id)).expect("deleted");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    assert!(ben.message(group, id).deleted && cyd.message(group, id).deleted);
}
