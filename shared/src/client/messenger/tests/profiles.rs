//! Profiles: set on one device, told to every chat that may see them and
//! to the user's other devices, fetched and opened by each; a newer tell
//! wins whatever the order; a contact removed is not told the next key.

use super::{Device, World, run, say};
use crate::client::chat::ChatId;
use crate::client::messenger::PhotoChange;
use crate::ids::UserId;

fn name_of(device: &Device, user: UserId) -> Option<String> {
    device.core.profile(user).map(|p| p.name.clone())
}

#[test]
fn a_profile_reaches_contacts_groups_and_own_devices_and_a_removed_contact_keeps_the_old_one() {
    let world = World::new();
    let (mut ana, mut ben, mut cyd, group) = world.trip("cyd");
    let mut ana2 = world.link(&mut ana);
    let to_ben = run(ana.core.start_chat("ben")).expect("chat started");
    let me = ana.user();

    let refused = run(ana.core.set_profile(&"n".repeat(41), "", PhotoChange::Keep));
    assert!(refused.is_err_and(|e| e.to_string().contains("at most 40")));
    run(ana
        .core
        .set_profile("Ana Lima", "Hiking", PhotoChange::Set(vec![0xff, 0xd8])))
    .expect("profile set");
    world.settle(&mut [&mut ana, &mut ana2, &mut ben, &mut cyd]);
    for device in [&ana, &ana2, &ben, &cyd] {
        assert_eq!(name_of(device, me).as_deref(), Some("Ana Lima"));
    }
    assert_eq!(
        run(cyd.core.photo(ChatId::User(me))).expect("read"),
        Some(vec![0xff, 0xd8])
    );
    let uploads = |world: &World| {
        let hub = world.hub.borrow();
        hub.sent.iter().filter(|(_, f)| *f == "SetProfile").count()
    };
    assert_eq!(uploads(&world), 1, "sealed and stored once");
    say(&mut ana, to_ben, "hi");
    world.settle(&mut [&mut ana, &mut ana2, &mut ben, &mut cyd]);
    assert!(
        !world.hub.borrow().profiles[&me]
            .windows(4)
            .any(|w| w == b"Lima")
    );

    // Cyd leaves the group and stops being a contact of Ana's: the next
    // profile is sealed under a key nobody tells her.
    let to_cyd = run(ana.core.start_chat("cyd")).expect("chat started");
    // Her other device has the chat too (from the copy of this message),
    // and must not tell Cyd the new key either.
    say(&mut ana, to_cyd, "see you");
    world.settle(&mut [&mut ana, &mut ana2, &mut ben, &mut cyd]);
    assert!(ana2.core.chats().iter().any(|c| c.chat == to_cyd));
    run(ana.core.change_group(
        group.group().expect("a group"),
        crate::client::messenger::GroupAction::Remove(cyd.user()),
    ))
    .expect("removed");
    run(ana.core.set_contact(cyd.user(), false)).expect("not a contact");
    world.settle(&mut [&mut ana, &mut ana2, &mut ben, &mut cyd]);
    let contact = |device: &Device| {
        let chat = device.core.chats().iter().find(|c| c.chat == to_cyd);
        chat.expect("the chat").contact
    };
    assert!(!contact(&ana2), "her other device knows Cyd is no contact");
    run(ana2.core.set_profile("Ana L.", "", PhotoChange::Remove)).expect("changed");
    world.settle(&mut [&mut ana, &mut ana2, &mut ben, &mut cyd]);
    for device in [&mut ana, &mut ana2, &mut ben] {
        assert_eq!(name_of(device, me).as_deref(), Some("Ana L."));
        assert_eq!(
            run(device.core.photo(ChatId::User(me))).expect("read"),
            None
        );
    }
    assert_eq!(name_of(&cyd, me).as_deref(), Some("Ana Lima"), "not told");
    assert_eq!(
        uploads(&world),
        3,
        "sealed anew on removal and on the change"
    );
    assert!(
        ana.core
            .chats()
            .iter()
            .any(|c| c.chat == ChatId::User(cyd.user()))
    );
}
