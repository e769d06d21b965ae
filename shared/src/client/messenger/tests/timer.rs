//! Disappearing messages: a chat's timer reaches every device of everyone
//! in it, the newest setting wins in any order, and each device deletes
//! the messages written under it once their time is up.

use super::{Device, World, run, say};
use crate::client::chat::ChatId;
use crate::ids::MessageId;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// The lines `device` shows in `chat`, oldest first.
fn lines(device: &Device, chat: ChatId) -> Vec<String> {
    device
        .messages(chat)
        .into_iter()
        .filter(|m| m.system)
        .filter_map(|m| m.text)
        .collect()
}

/// Whether `device` still shows message `id` of `chat`.
fn shown(device: &Device, chat: ChatId, id: MessageId) -> bool {
    let message = device.message(chat, id);
    !message.hidden && message.text.is_some()
}

/// The timer `device` has for `chat`, in seconds.
fn timer(device: &Device, chat: ChatId) -> u32 {
    device
        .core
        .chats()
        .iter()
        .find(|c| c.chat == chat)
        .expect("chat")
        .timer
        .seconds
}

#[test]
fn messages_written_under_the_timer_disappear_on_every_device_when_their_time_is_up() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    let mut laptop = world.link(&mut ana);
    let to_ana = ChatId::User(ana.user());
    let before = say(&mut ana, to_ben, "kept for good");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);

    run(ana.core.set_timer(to_ben, 24 * 3600)).expect("timer set");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    for (device, chat) in [(&ana, to_ben), (&laptop, to_ben), (&ben, to_ana)] {
        assert_eq!(timer(device, chat), 24 * 3600);
    }
    assert_eq!(
        lines(&ben, to_ana),
        [
            "ana turned on disappearing messages: new messages disappear 24 hours after they are sent."
        ]
    );
    assert!(
        lines(&ana, to_ben)[0].starts_with("You turned on"),
        "{:?}",
        lines(&ana, to_ben)
    );

    let gone = say(&mut ana, to_ben, "gone tomorrow");
    let reply = say(&mut ben, to_ana, "me too");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    let expected = Some(gone.unix_ms() + DAY_MS);
    assert_eq!(ben.message(to_ana, gone).expires_at, expected);
    assert_eq!(laptop.message(to_ben, gone).expires_at, expected);
    assert_eq!(
        ana.message(to_ben, before).expires_at,
        None,
        "written before"
    );
    assert!(ben.core.next_retry().is_some(), "a wake-up is asked for");

    world.tick(DAY_MS - 60_000, &mut [&mut ana, &mut ben, &mut laptop]);
    assert!(shown(&ben, to_ana, gone), "not yet");
    world.tick(120_000, &mut [&mut ana, &mut ben, &mut laptop]);
    for (device, chat) in [(&ana, to_ben), (&laptop, to_ben), (&ben, to_ana)] {
        assert!(!shown(device, chat, gone), "gone");
        assert!(!shown(device, chat, reply), "the reply too");
        assert!(device.message(chat, gone).content.is_none());
        assert!(shown(device, chat, before), "the older message stays");
    }
    let preview = &ben
        .core
        .chats()
        .iter()
        .find(|c| c.chat == to_ana)
        .expect("chat")
        .preview;
    assert!(
        !preview.contains("me too"),
        "the preview forgets it: {preview}"
    );
}

#[test]
fn the_newest_timer_wins_whatever_order_settings_arrive_in() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    say(&mut ana, to_ben, "hi");
    world.settle(&mut [&mut ana, &mut ben]);
    let to_ana = ChatId::User(ana.user());

    run(ana.core.set_timer(to_ben, 7 * 24 * 3600)).expect("set");
    run(ana.core.set_timer(to_ben, 0)).expect("off");
    // Ben gets the two settings newest first.
    let mut events = world.hub.borrow_mut().take_events(ben.device());
    events.reverse();
    for event in events {
        run(ben.core.on_event(event)).expect("handled");
    }
    world.settle(&mut [&mut ana, &mut ben]);
    assert_eq!(timer(&ben, to_ana), 0, "off, the newest");
    assert_eq!(timer(&ana, to_ben), 0);
    assert_eq!(
        lines(&ben, to_ana),
        ["ana turned off disappearing messages."],
        "the older one is not shown"
    );

    // A message Ben wrote after his setting, which reaches Ana first,
    // follows the setting once it arrives.
    run(ben.core.set_timer(to_ana, 90 * 24 * 3600)).expect("set");
    let late = say(&mut ben, to_ana, "written under 90 days");
    let mut events = world.hub.borrow_mut().take_events(ana.device());
    events.reverse();
    for event in events {
        run(ana.core.on_event(event)).expect("handled");
    }
    world.settle(&mut [&mut ana, &mut ben]);
    assert_eq!(
        ana.message(to_ben, late).expires_at,
        Some(late.unix_ms() + 90 * DAY_MS)
    );
    assert_eq!(
        lines(&ana, to_ben).last().map(String::as_str),
        Some(
            "ben turned on disappearing messages: new messages disappear 90 days after they are sent."
        )
    );
}

#[test]
fn a_group_member_sets_the_timer_for_everyone_and_odd_values_are_refused() {
    let world = World::new();
    let (mut ana, mut ben, mut cleo, group) = world.trip("cleo");
    run(cleo.core.set_timer(group, 7 * 24 * 3600)).expect("set");
    world.settle(&mut [&mut ana, &mut ben, &mut cleo]);
    for device in [&ana, &ben, &cleo] {
        assert_eq!(timer(device, group), 7 * 24 * 3600);
    }
    assert_eq!(
        lines(&ben, group).last().map(String::as_str),
        Some(
            "cleo turned on disappearing messages: new messages disappear 7 days after they are sent."
        )
    );
    let id = say(&mut ben, group, "for a week");
    world.settle(&mut [&mut ana, &mut ben, &mut cleo]);
    world.tick(7 * DAY_MS + 1_000, &mut [&mut ana, &mut ben, &mut cleo]);
    for device in [&ana, &ben, &cleo] {
        assert!(!shown(device, group, id));
    }

    let refused = run(ana.core.set_timer(group, 60));
    assert!(refused.is_err(), "only the four choices");
}
