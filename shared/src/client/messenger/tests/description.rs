//! A group's description: set by any member for everyone, the newest
//! setting winning in whatever order settings arrive, with a line.

use super::{Device, World, last, run};
use crate::client::chat::ChatId;
use crate::client::messenger::{GroupAction, MAX_DESCRIPTION_CHARS, MessengerError};
use crate::ids::GroupId;

/// `device` sets the description of group `id` to `text`.
fn describe(device: &mut Device, id: GroupId, text: &str) -> Result<(), MessengerError> {
    run(device
        .core
        .change_group(id, GroupAction::Describe(text.into())))
}

fn description(device: &Device, group: ChatId) -> String {
    device
        .core
        .chats()
        .iter()
        .find(|c| c.chat == group)
        .map(|c| c.description.text.clone())
        .expect("the group")
}

#[test]
fn any_member_describes_the_group_for_everyone_and_the_newest_setting_wins() {
    let world = World::new();
    let (mut ana, mut ben, mut cyd, group) = world.trip("cyd");
    let ChatId::Group(id) = group else {
        panic!("a group chat");
    };
    let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
    let refused = describe(&mut ana, id, &long);
    assert!(refused.is_err_and(|e| e.to_string().contains("at most 512")));

    describe(&mut ben, id, " Bring skis ").expect("described");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    for device in [&ana, &ben, &cyd] {
        assert_eq!(description(device, group), "Bring skis");
    }
    assert_eq!(
        last(&cyd, group).text.as_deref(),
        Some("ben changed the group description.")
    );
    assert_eq!(
        last(&ben, group).text.as_deref(),
        Some("You changed the group description.")
    );

    // Ana's setting is older than Ben's, but reaches Ben after his.
    describe(&mut ana, id, "Meet at 8").expect("described");
    describe(&mut ben, id, "Meet at 9").expect("described");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    for device in [&ana, &ben, &cyd] {
        assert_eq!(description(device, group), "Meet at 9");
    }

    describe(&mut cyd, id, "").expect("removed");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    assert_eq!(description(&ana, group), "");
    assert_eq!(
        last(&ana, group).text.as_deref(),
        Some("cyd removed the group description.")
    );
}

#[test]
fn any_member_sets_the_group_photo_for_everyone_and_the_newest_setting_wins() {
    let world = World::new();
    let (mut ana, mut ben, mut cyd, group) = world.trip("cyd");
    let ChatId::Group(id) = group else {
        panic!("a group chat");
    };
    let photo = |device: &mut Device| run(device.core.photo(group)).expect("read");
    let set = |device: &mut Device, bytes: &[u8]| {
        run(device
            .core
            .change_group(id, GroupAction::Photo(bytes.to_vec())))
    };
    let too_large = vec![0; crate::crypto::profile::MAX_PHOTO_BYTES + 1];
    assert!(set(&mut ana, &too_large).is_err());

    set(&mut ben, &[0xff, 0xd8, 1]).expect("set");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    for device in [&mut ana, &mut ben, &mut cyd] {
        assert_eq!(photo(device), Some(vec![0xff, 0xd8, 1]));
    }
    assert_eq!(
        last(&cyd, group).text.as_deref(),
        Some("ben changed the group photo.")
    );

    // Ana's is older than Cyd's, but reaches Cyd after Cyd's own.
    set(&mut ana, &[0xff, 0xd8, 2]).expect("set");
    set(&mut cyd, &[0xff, 0xd8, 3]).expect("set");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    for device in [&mut ana, &mut ben, &mut cyd] {
        assert_eq!(photo(device), Some(vec![0xff, 0xd8, 3]));
    }
    set(&mut ben, &[]).expect("removed");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd]);
    for device in [&mut ana, &mut ben, &mut cyd] {
        assert_eq!(photo(device), None);
    }
    assert_eq!(
        last(&ana, group).text.as_deref(),
        Some("ben removed the group photo.")
    );
}
