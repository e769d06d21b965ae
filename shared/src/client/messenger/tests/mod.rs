//! Unit tests of the messenger core, without a browser or a server: each
//! device runs the real [`Messenger`] (real Olm and Megolm) over a
//! [`hub::Line`] to the scripted in-memory [`hub::Hub`].

mod calls;
mod changes;
mod description;
mod gallery;
mod group_trust;
mod hub;
mod invites;
mod organise;
mod profiles;
mod scenarios;
mod timer;

use super::{Effect, Messenger};
use crate::client::chat::{ChatId, Mark, Message};
use crate::client::memory::MemoryStore;
use crate::ids::{DeviceId, MessageId, UserId, Username};
use crate::time::{Env, UnixMs};
use hub::{Hub, Line, Shared};
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Runs a future that never waits on anything outside (the hub answers at
/// once) to completion.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// A clock the test moves (and that moves a millisecond on every reading,
/// so message ids sort as they were made), and the system's randomness.
#[derive(Clone)]
struct TestEnv {
    now: Rc<Cell<UnixMs>>,
}

impl Env for TestEnv {
    fn now_ms(&self) -> UnixMs {
        let now = self.now.get() + 1;
        self.now.set(now);
        now
    }

    fn fill(&mut self, bytes: &mut [u8]) {
        crate::time::SystemEnv.fill(bytes);
    }
}

type Core = Messenger<Line, MemoryStore, TestEnv>;

/// One device in a test.
struct Device {
    core: Core,
    effects: Vec<Effect>,
}

impl Device {
    fn user(&self) -> UserId {
        self.core.me().expect("signed in").0
    }

    fn device(&self) -> DeviceId {
        self.core.me().expect("signed in").1
    }

    /// The stored messages of `chat`, oldest first.
    fn messages(&self, chat: ChatId) -> Vec<Message> {
        self.core.store.chat(chat).into_iter().cloned().collect()
    }

    fn message(&self, chat: ChatId, id: MessageId) -> Message {
        self.core
            .store
            .messages
            .get(&(chat, id))
            .cloned()
            .expect("stored")
    }
}

/// A test world: a hub, a shared clock and the devices.
struct World {
    hub: Shared,
    now: Rc<Cell<UnixMs>>,
}

impl World {
    fn new() -> Self {
        Self {
            hub: Hub::shared(),
            now: Rc::new(Cell::new(1_764_000_000_000)),
        }
    }

    fn env(&self) -> TestEnv {
        TestEnv {
            now: self.now.clone(),
        }
    }

    fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    /// A new account named `name` with one device.
    fn register(&self, name: &str) -> Device {
        let mut core = Messenger::new(
            Line::new(&self.hub, DeviceId(0)),
            MemoryStore::default(),
            self.env(),
        );
        let crypto = core.new_device();
        let me = self
            .hub
            .borrow_mut()
            .register(name, crypto.signing_public());
        core.server.device = me.1;
        let username = Username::parse(name).expect("valid");
        run(core.create_account(&username, crypto, me)).expect("account created");
        Device {
            core,
            effects: Vec::new(),
        }
    }

    /// A second device of `first`'s account, linked by code.
    fn link(&self, first: &mut Device) -> Device {
        let code = run(first.core.show_link("https://courier.test")).expect("link opened");
        let mut core = Messenger::new(
            Line::new(&self.hub, DeviceId(0)),
            MemoryStore::default(),
            self.env(),
        );
        let crypto = core.new_device();
        let user = first.user();
        let device = self
            .hub
            .borrow_mut()
            .add_device(user, crypto.signing_public());
        core.server.device = device;
        let secret = crate::crypto::link::LinkSecret::parse(&code.code).expect("code");
        run(core.join(secret, crypto, (user, device))).expect("joined");
        let mut second = Device {
            core,
            effects: Vec::new(),
        };
        self.settle(&mut [first, &mut second]);
        assert!(second.core.is_approved(), "approved by the first device");
        second
    }

    /// Hands every device the events the hub pushed to it, until none are
    /// left.
    fn settle(&self, devices: &mut [&mut Device]) {
        for _ in 0..50 {
            let mut quiet = true;
            for device in devices.iter_mut() {
                let events = self.hub.borrow_mut().take_events(device.core.server.device);
                for event in events {
                    quiet = false;
                    run(device.core.on_event(event)).expect("event handled");
                }
                device.effects.extend(device.core.take_effects());
            }
            if quiet {
                return;
            }
        }
        panic!("the devices never settled");
    }

    /// Ana and Ben, Ana with their chat started.
    fn pair(&self) -> (Device, Device, ChatId) {
        let mut ana = self.register("ana");
        let ben = self.register("ben");
        let to_ben = run(ana.core.start_chat("ben")).expect("chat started");
        (ana, ben, to_ben)
    }

    /// Ana, Ben and `third` in Ana's group "Trip", everyone told.
    fn trip(&self, third: &str) -> (Device, Device, Device, ChatId) {
        let mut ana = self.register("ana");
        let mut ben = self.register("ben");
        let mut other = self.register(third);
        let members = format!("ben {third}");
        let group = run(ana.core.create_group("Trip", &members)).expect("created");
        self.settle(&mut [&mut ana, &mut ben, &mut other]);
        (ana, ben, other, group)
    }

    /// Lets the clock pass `ms` and ticks every device.
    fn tick(&self, ms: u64, devices: &mut [&mut Device]) {
        self.advance(ms);
        for device in devices.iter_mut() {
            run(device.core.on_tick()).expect("tick");
        }
        self.settle(devices);
    }
}

/// Signs `device` in again (as after a reconnect): the outbox goes out.
fn signed_in(device: &mut Device) {
    let (user, me) = (device.user(), device.device());
    run(device
        .core
        .on_event(crate::client::Event::SignedIn { user, device: me }))
    .expect("signed in");
}

/// `device` writes `text` into `chat`; the message's id.
fn say(device: &mut Device, chat: ChatId, text: &str) -> MessageId {
    run(device.core.send_text(chat, text, None))
        .expect("sent")
        .expect("an id")
}

/// The newest message of `chat` on `device`.
fn last(device: &Device, chat: ChatId) -> Message {
    device.messages(chat).pop().expect("a message")
}

/// Whether `device` showed a mark of `mark` for message `id`.
fn has_mark(device: &Device, chat: ChatId, id: MessageId, mark: Mark) -> bool {
    device.message(chat, id).mark == mark
}
