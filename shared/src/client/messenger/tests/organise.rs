//! Pinned, muted, archived and marked-unread chats: the same on every
//! device of the user, the newest change winning.

use super::{World, run, say};
use crate::client::Effect;
use crate::client::chat::{ChatId, ChatSettings, MUTED_ALWAYS};

#[test]
fn settings_reach_the_other_device_and_a_muted_chat_does_not_notify() {
    let world = World::new();
    let mut ana = world.register("ana");
    let mut ben = world.register("ben");
    let mut laptop = world.link(&mut ana);
    let to_ben = run(ana.core.start_chat("ben")).expect("chat started");
    say(&mut ana, to_ben, "hi");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);

    let muted = ChatSettings {
        pinned: true,
        muted_until: MUTED_ALWAYS,
        ..ChatSettings::default()
    };
    run(ana.core.organise(to_ben, muted)).expect("organised");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert_eq!(laptop.core.settings(to_ben), muted, "on the laptop too");

    ana.effects.clear();
    let to_ana = ChatId::User(ana.user());
    say(&mut ben, to_ana, "are you there?");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert_eq!(ana.core.chats()[0].unread, 1, "counted, as WhatsApp does");
    assert!(
        !ana.effects
            .iter()
            .any(|e| matches!(e, Effect::Notify { .. })),
        "a muted chat does not notify"
    );

    // Marked unread on the laptop, then opened on the phone: unmarked on
    // both.
    let marked = ChatSettings {
        marked_unread: true,
        ..muted
    };
    run(laptop.core.organise(to_ben, marked)).expect("marked");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert!(ana.core.settings(to_ben).marked_unread);
    run(ana.core.open(Some(to_ben))).expect("opened");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert!(!laptop.core.settings(to_ben).marked_unread);
    assert!(laptop.core.settings(to_ben).pinned, "the rest stays");
}

#[test]
fn at_most_three_chats_are_pinned() {
    let world = World::new();
    let mut ana = world.register("ana");
    let pin = ChatSettings {
        pinned: true,
        ..ChatSettings::default()
    };
    for name in ["ben", "cyd", "dan", "eve"] {
        world.register(name);
        let chat = run(ana.core.start_chat(name)).expect("chat started");
        let pinned = run(ana.core.organise(chat, pin));
        assert_eq!(pinned.is_ok(), name != "eve", "{name}");
    }
    world.settle(&mut [&mut ana]);
}

#[test]
fn a_mention_in_a_muted_group_notifies_and_other_messages_do_not() {
    let world = World::new();
    let (mut ana, mut ben, mut cyd, group) = world.trip("cyd");
    let muted = ChatSettings {
        muted_until: MUTED_ALWAYS,
        ..ChatSettings::default()
    };
    run(ben.core.organise(group, muted)).expect("muted");
    let notified = |device: &super::Device| {
        device
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Notify { .. }))
    };
    ben.effects.clear();
    say(&mut ana, group, "dinner at 8?");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    assert!(!notified(&ben), "muted");
    assert!(notified(&cyd), "not muted for Cyd");
    ben.effects.clear();
    say(&mut ana, group, "@Ben are you coming?");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    assert!(notified(&ben), "a mention notifies even when muted");
}
