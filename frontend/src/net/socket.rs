//! The device's one WebSocket to its server.
//!
//! [`Socket::start`] opens `/ws` on the page's own host (once there is
//! someone to sign in as) and wires the browser's
//! socket events into the shared, I/O-free [`Connection`] state machine, which
//! decides what to send, when to ping, and how long to wait before
//! reconnecting. The outcome is published as a [`SocketStatus`] signal, and
//! the machine's events go to the application's handler. [`SocketHandle`]
//! lets the application sign in and send.

use courier_shared::client::{Action, Connection, ConnectionState, Event};
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, LinkId, RequestId, Username};
use courier_shared::proto::{self, ClientFrame};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// How often the heartbeat clock ticks, in milliseconds.
const TICK_MS: i32 = 1_000;

/// What the page shows about the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketStatus {
    /// Connecting, online or reconnecting.
    pub state: ConnectionState,
    /// The server's last error report, for people.
    pub last_error: Option<String>,
    /// The page has connected (or is connecting): it has someone to sign in
    /// as. Until then its state is nothing to show.
    pub active: bool,
}

impl Default for SocketStatus {
    fn default() -> Self {
        Self {
            state: ConnectionState::Connecting,
            last_error: None,
            active: false,
        }
    }
}

/// The browser callbacks of the current socket, kept alive while it is open.
struct Handlers {
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

struct Inner {
    url: String,
    machine: Connection,
    socket: Option<WebSocket>,
    handlers: Option<Handlers>,
    status: WriteSignal<SocketStatus>,
    on_event: Rc<dyn Fn(Event)>,
}

/// Owner of the connection for the lifetime of the page.
pub struct Socket;

/// The application's hold on the connection.
#[derive(Clone)]
pub struct SocketHandle(Rc<RefCell<Inner>>);

impl Socket {
    /// The page's connection to its server, publishing every change to
    /// `status` and every event to `on_event`. It connects once the page has
    /// someone to sign in as ([`SocketHandle::sign_in`], `register`,
    /// `link`): the server gives an anonymous socket only a few seconds to
    /// sign in, and a welcome page may be read for longer. Once open, it
    /// keeps reconnecting for as long as the page lives.
    pub fn start(status: WriteSignal<SocketStatus>, on_event: Rc<dyn Fn(Event)>) -> SocketHandle {
        let inner = Rc::new(RefCell::new(Inner {
            url: socket_url(),
            machine: Connection::new(&agent()),
            socket: None,
            handlers: None,
            status,
            on_event,
        }));
        start_clock(inner.clone());
        SocketHandle(inner)
    }
}

impl SocketHandle {
    fn run(&self, step: impl FnOnce(&mut Connection) -> Vec<Action>) {
        let actions = step(&mut self.0.borrow_mut().machine);
        apply(&self.0, actions);
    }

    /// Sends `frame` as a request under a fresh id (after sign-in, if not
    /// signed in yet); its answer comes as an [`Event::Answer`] with that id.
    pub fn request(&self, frame: ClientFrame) -> RequestId {
        let mut request = RequestId::NONE;
        self.run(|machine| {
            let (id, actions) = machine.request(frame, now_ms());
            request = id;
            actions
        });
        request
    }

    /// Sends a frame that has no answer (`Ack`, `Typing`).
    pub fn notify(&self, frame: ClientFrame) {
        self.run(|machine| machine.notify(frame));
    }

    /// Registers `username` with this device's `key` (connecting first if
    /// the page has not yet).
    pub fn register(&self, username: Username, key: DeviceKey) {
        self.run(|machine| machine.register(username, key));
        self.connect();
    }

    /// Signs in as `device` (connecting first if the page has not yet).
    pub fn sign_in(&self, device: DeviceId, key: DeviceKey) {
        self.run(|machine| machine.sign_in(device, key));
        self.connect();
    }

    /// Joins an account through `link` (connecting first if the page has
    /// not yet).
    pub fn link(&self, link: LinkId, key: DeviceKey) {
        self.run(|machine| machine.link(link, key));
        self.connect();
    }

    /// Opens the socket if none was opened yet; the handshake then signs in
    /// as the identity just set.
    fn connect(&self) {
        let never_opened = self.0.borrow().socket.is_none();
        if never_opened {
            open(&self.0);
            publish(&self.0);
        }
    }

    /// Whether the connection signs in again (as the identity last set) on
    /// its next socket: a sign-up cut short by a dropped connection goes on
    /// there, unless the server refused that identity.
    pub fn retries_sign_in(&self) -> bool {
        self.0.borrow().machine.has_identity()
    }
}

/// `ws://HOST/ws`, or `wss://` on an https page.
fn socket_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let secure = location
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .is_some_and(|p| p == "https:");
    let host = location
        .and_then(|l| l.host().ok())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{}://{host}/ws", if secure { "wss" } else { "ws" })
}

fn agent() -> String {
    format!("courier-web/{}", env!("CARGO_PKG_VERSION"))
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Opens a new socket and hooks its events to the state machine.
fn open(inner: &Rc<RefCell<Inner>>) {
    let url = inner.borrow().url.clone();
    let socket = match WebSocket::new(&url) {
        Ok(socket) => socket,
        Err(_) => {
            let actions = inner.borrow_mut().machine.on_close(js_sys::Math::random());
            apply(inner, actions);
            return;
        }
    };
    socket.set_binary_type(BinaryType::Arraybuffer);

    let weak = Rc::downgrade(inner);
    let on_open = Closure::<dyn FnMut()>::new(move || {
        with(&weak, |inner| {
            let actions = inner.borrow_mut().machine.on_open(now_ms());
            apply(inner, actions);
        });
    });
    let weak = Rc::downgrade(inner);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() else {
            return;
        };
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        with(&weak, |inner| {
            let actions = inner.borrow_mut().machine.on_message(&bytes, now_ms());
            apply(inner, actions);
        });
    });
    let weak = Rc::downgrade(inner);
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_event: CloseEvent| {
        with(&weak, |inner| {
            let actions = inner.borrow_mut().machine.on_close(js_sys::Math::random());
            apply(inner, actions);
        });
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));

    let mut state = inner.borrow_mut();
    if let Some(old) = state.socket.replace(socket) {
        old.set_onopen(None);
        old.set_onmessage(None);
        old.set_onclose(None);
        let _ = old.close();
    }
    state.handlers = Some(Handlers {
        _open: on_open,
        _message: on_message,
        _close: on_close,
    });
}

/// Ticks the heartbeat clock every second for the life of the page. The clock
/// holds the only strong reference to the connection, so the connection lives
/// exactly as long as the page; socket callbacks hold weak ones.
fn start_clock(inner: Rc<RefCell<Inner>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let tick = Closure::<dyn FnMut()>::new(move || {
        let actions = inner.borrow_mut().machine.on_tick(now_ms());
        apply(&inner, actions);
    });
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        TICK_MS,
    );
    // The clock runs as long as the page does, so its callback is never freed.
    tick.forget();
}

fn with(weak: &Weak<RefCell<Inner>>, f: impl FnOnce(&Rc<RefCell<Inner>>)) {
    if let Some(inner) = weak.upgrade() {
        f(&inner);
    }
}

/// Carries out the state machine's decisions, publishes its state, then
/// hands its events to the application (with no borrow held, so that the
/// handler may send).
fn apply(inner: &Rc<RefCell<Inner>>, actions: Vec<Action>) {
    let mut events = Vec::new();
    for action in actions {
        match action {
            Action::Send(frame) => {
                let state = inner.borrow();
                if let (Ok(bytes), Some(socket)) = (proto::encode(&frame), &state.socket) {
                    let _ = socket.send_with_u8_array(&bytes);
                }
            }
            Action::Close => {
                if let Some(socket) = &inner.borrow().socket {
                    let _ = socket.close();
                }
            }
            Action::ReconnectAfter(delay_ms) => schedule_reconnect(inner, delay_ms),
            Action::Emit(event) => events.push(event),
        }
    }
    publish(inner);
    let on_event = inner.borrow().on_event.clone();
    for event in events {
        on_event(event);
    }
}

/// Publishes the connection's state to the page.
fn publish(inner: &Rc<RefCell<Inner>>) {
    let state = inner.borrow();
    state.status.set(SocketStatus {
        state: state.machine.state(),
        last_error: state
            .machine
            .last_error()
            .map(|refusal| format!("{} (error {})", refusal.message, refusal.code.as_u16())),
        active: state.socket.is_some(),
    });
}

fn schedule_reconnect(inner: &Rc<RefCell<Inner>>, delay_ms: u32) {
    let weak = Rc::downgrade(inner);
    let reconnect = Closure::once_into_js(move || with(&weak, open));
    if let Some(window) = web_sys::window() {
        let delay = i32::try_from(delay_ms).unwrap_or(i32::MAX);
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            reconnect.unchecked_ref(),
            delay,
        );
    }
}
