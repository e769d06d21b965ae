//! Group invite links: made by an admin, joined by anyone holding one (who
//! then reads and writes in the group, the others told), revoked.

use super::{World, last, run, say};
use crate::client::chat::ChatId;

#[test]
fn a_link_lets_someone_join_and_talk_until_it_is_revoked() {
    let world = World::new();
    let (mut ana, mut ben, mut cyd, group) = world.trip("cyd");
    let mut dee = world.register("dee");
    let mut eve = world.register("eve");
    let refused = run(ben.core.invite(group));
    assert!(refused.is_err(), "not an admin");
    assert!(run(ana.core.invite(ChatId::User(ben.user()))).is_err());

    let code = run(ana.core.invite(group)).expect("link made");
    assert!(run(dee.core.join_group("not a link")).is_err());
    let joined = run(dee.core.join_group(&code)).expect("joined");
    assert_eq!(joined, group);
    world.settle(&mut [&mut ana, &mut ben, &mut cyd, &mut dee]);
    let entry = dee.core.chats().iter().find(|c| c.chat == group).cloned();
    assert_eq!(
        entry.expect("the group").name,
        "Trip",
        "named from the link"
    );
    assert_eq!(
        last(&ben, group).text.as_deref(),
        Some("dee joined through the invite link")
    );
    say(&mut ben, group, "welcome dee");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd, &mut dee]);
    assert_eq!(last(&dee, group).text.as_deref(), Some("welcome dee"));
    say(&mut dee, group, "thanks");
    world.settle(&mut [&mut ana, &mut ben, &mut cyd, &mut dee]);
    assert_eq!(last(&cyd, group).text.as_deref(), Some("thanks"));

    // A new link replaces the old; a revoked one lets nobody in.
    let newer = run(ana.core.invite(group)).expect("link made");
    assert!(run(eve.core.join_group(&code)).is_err(), "the old link");
    run(ana.core.revoke_invite(group)).expect("revoked");
    let refused = run(eve.core.join_group(&newer));
    assert!(refused.is_err_and(|e| e.to_string().contains("invite link")));
    assert!(eve.core.chats().iter().all(|c| c.chat != group));
}
