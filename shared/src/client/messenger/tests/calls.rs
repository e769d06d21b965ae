//! Call signals through the messenger: carried end-to-end encrypted to
//! the peer's devices and this user's other devices, handed out as
//! `Effect::Call` and never stored as messages; call lines stored once.

use super::{World, run};
use crate::client::Effect;
use crate::client::call::{Calls, Output, Phase};
use crate::client::chat::ChatId;
use crate::crypto::content::{CallKind, Content};
use crate::time::Env;

#[test]
fn call_signals_reach_every_device_as_effects_and_never_as_messages() {
    let world = World::new();
    let mut ana = world.register("ana");
    let mut ben = world.register("ben");
    let mut laptop = world.link(&mut ben);
    let mut ana_laptop = world.link(&mut ana);
    world.settle(&mut [&mut ana, &mut ben, &mut laptop, &mut ana_laptop]);
    for device in [&mut ana, &mut ben, &mut laptop, &mut ana_laptop] {
        device.effects.clear();
    }
    let (a, b) = (ana.user(), ben.user());
    let chats_before = ben.core.chats().len();

    let id = ana.core.env.message_id();
    let mut calls = Calls::new(ana.device());
    let out = calls.start(b, id, "v=0 offer", false).expect("idle");
    for output in out {
        if let Output::Send { peer, content } = output {
            run(ana.core.send_call(peer, id, *content)).expect("sent");
        }
    }
    world.settle(&mut [&mut ana, &mut ben, &mut laptop, &mut ana_laptop]);

    for (device, own, peer) in [
        (&ben, false, a),
        (&laptop, false, a),
        (&ana_laptop, true, b),
    ] {
        let signal = device.effects.iter().find_map(|e| match e {
            Effect::Call {
                from_device,
                own,
                peer,
                content,
            } => Some((*from_device, *own, *peer, content.clone())),
            _ => None,
        });
        let (from_device, came_own, came_peer, content) = signal.expect("a call signal");
        assert_eq!(
            (from_device, came_own, came_peer),
            (ana.device(), own, peer)
        );
        assert!(matches!(
            content,
            Content::Call {
                kind: CallKind::Offer,
                ..
            }
        ));
        // The callee's machine rings on it.
        let mut theirs = Calls::new(device.device());
        theirs.on_signal(from_device, own, peer, &content, world.now.get());
        let expected = if own {
            Phase::Calling { ringing: false }
        } else {
            Phase::Ringing
        };
        assert_eq!(theirs.call().map(|c| c.phase), Some(expected));
    }
    // No message was stored for it, and no chat appeared.
    assert!(ben.messages(ChatId::User(a)).is_empty());
    assert_eq!(ben.core.chats().len(), chats_before);

    // The call's line is stored once, under the call's id.
    run(ben.core.call_line(a, id, "Missed call".into())).expect("stored");
    run(ben.core.call_line(a, id, "Missed call".into())).expect("stored once");
    let lines = ben.messages(ChatId::User(a));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].system);
    assert_eq!(lines[0].text.as_deref(), Some("Missed call"));

    // Only call signals go this way.
    let text = Content::Retry { id };
    assert!(run(ana.core.send_call(b, id, text)).is_err());
}
