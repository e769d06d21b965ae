//! A chat's shared media: what both sides sent, newest first, on every
//! device; history from before galleries were kept is found; deleted and
//! disappeared media drop out.

use super::{Device, World, run, say};
use crate::client::chat::ChatId;
use crate::client::messenger::MediaFacts;
use crate::ids::MessageId;

/// `device` sends a media message named `name` of type `mime` to `chat`.
fn send(device: &mut Device, chat: ChatId, name: &str, mime: &str) -> MessageId {
    let facts = MediaFacts {
        mime: mime.into(),
        name: name.into(),
        ..MediaFacts::default()
    };
    let sealed = crate::crypto::media::seal(name.as_bytes(), [7; 32], [1; 12]);
    let draft = run(device.core.draft_media(chat, sealed, facts)).expect("drafted");
    let id = draft.message.id;
    run(device.core.media_uploaded(chat, id, Ok(()))).expect("sent");
    id
}

/// The ids of the newest `limit` media messages `device` lists for `chat`,
/// and whether it has more.
fn listed(device: &mut Device, chat: ChatId, limit: usize) -> (Vec<MessageId>, bool) {
    let shown = run(device.core.shared_media(chat, limit)).expect("listed");
    (shown.messages.iter().map(|m| m.id).collect(), shown.more)
}

#[test]
fn shared_media_lists_both_sides_newest_first_on_every_device_and_drops_deleted_ones() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    let mut laptop = world.link(&mut ana);
    let to_ana = ChatId::User(ana.user());
    let photo = send(&mut ana, to_ben, "beach.jpg", "image/jpeg");
    say(&mut ana, to_ben, "no media here");
    let file = send(&mut ben, to_ana, "plan.pdf", "application/pdf");
    let voice = send(&mut ana, to_ben, "voice.ogg", "audio/ogg");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);

    for (device, chat) in [
        (&mut ana, to_ben),
        (&mut laptop, to_ben),
        (&mut ben, to_ana),
    ] {
        assert_eq!(listed(device, chat, 10), (vec![voice, file, photo], false));
    }
    assert_eq!(listed(&mut ben, to_ana, 2), (vec![voice, file], true));

    run(ana.core.delete_for_everyone(to_ben, photo)).expect("deleted");
    run(ben.core.delete_for_me(to_ana, file)).expect("deleted for Ben");
    world.settle(&mut [&mut ana, &mut ben, &mut laptop]);
    assert_eq!(listed(&mut ben, to_ana, 10).0, [voice]);
    assert_eq!(listed(&mut laptop, to_ben, 10).0, [voice, file]);
    assert_eq!(
        ben.core.store.galleries[&to_ana].ids,
        [voice],
        "the deleted ones are dropped from the record too"
    );
}

#[test]
fn media_stored_before_galleries_were_kept_is_found_once() {
    let world = World::new();
    let (mut ana, mut ben, to_ben) = world.pair();
    let to_ana = ChatId::User(ana.user());
    let old = send(&mut ana, to_ben, "old.png", "image/png");
    world.settle(&mut [&mut ana, &mut ben]);
    // As a build before galleries left it: the message, no gallery.
    ben.core.store.galleries.clear();
    let new = send(&mut ana, to_ben, "new.png", "image/png");
    world.settle(&mut [&mut ana, &mut ben]);
    let gallery = &ben.core.store.galleries[&to_ana];
    assert!(!gallery.scanned && gallery.ids == [new], "{gallery:?}");

    assert_eq!(listed(&mut ben, to_ana, 10).0, [new, old]);
    assert!(ben.core.store.galleries[&to_ana].scanned);
}
