//! Request and answer over the connection: [`Requests`] pairs each
//! awaited answer with the next event that matches it, and [`Directory`]
//! implements the crypto core's [`KeyServer`] with it.

use super::socket::SocketHandle;
use courier_shared::client::Event;
use courier_shared::crypto::CryptoError;
use courier_shared::crypto::device_list::SignedDeviceList;
use courier_shared::crypto::flow::KeyServer;
use courier_shared::crypto::keys::SignedKey;
use courier_shared::ids::{DeviceId, UserId};
use courier_shared::proto::ClientFrame;
use futures_channel::oneshot;
use std::cell::RefCell;
use std::rc::Rc;

type Pick = Box<dyn Fn(&Event) -> bool>;

/// How long an answer may take before the request counts as failed (the
/// connection may have dropped with the request on it).
const ANSWER_MS: i32 = 15_000;

/// `answered`, or an error after `ms` milliseconds.
async fn within(ms: i32, answered: oneshot::Receiver<Event>) -> Result<Event, oneshot::Canceled> {
    let timer = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let timeout = wasm_bindgen_futures::JsFuture::from(timer);
    match futures_util::future::select(answered, timeout).await {
        futures_util::future::Either::Left((answer, _)) => answer,
        futures_util::future::Either::Right(_) => Err(oneshot::Canceled),
    }
}
/// One awaited answer: which events it wants, and where to send the first.
type Waiter = (Pick, oneshot::Sender<Event>);

/// Answers being waited for.
#[derive(Default, Clone)]
pub struct Requests(Rc<RefCell<Vec<Waiter>>>);

impl Requests {
    /// Hands `event` to the first waiter that wants it; `true` if one did.
    pub fn offer(&self, event: &Event) -> bool {
        let mut waiters = self.0.borrow_mut();
        let Some(index) = waiters.iter().position(|(pick, _)| pick(event)) else {
            return false;
        };
        let (_, answer) = waiters.remove(index);
        answer.send(event.clone()).is_ok()
    }

    /// Sends `frame` and waits for the event `pick` accepts, or for a refusal
    /// or fatal error (returned as [`CryptoError::Server`]).
    pub async fn ask(
        &self,
        socket: &SocketHandle,
        frame: ClientFrame,
        pick: impl Fn(&Event) -> bool + 'static,
    ) -> Result<Event, CryptoError> {
        let (answer, answered) = oneshot::channel();
        let pick = move |event: &Event| {
            pick(event)
                || matches!(
                    event,
                    Event::Rejected { id: None, .. } | Event::Failed { .. }
                )
        };
        self.0.borrow_mut().push((Box::new(pick), answer));
        socket.send(frame);
        match within(ANSWER_MS, answered).await {
            Ok(Event::Rejected { message, .. } | Event::Failed { message, .. }) => {
                Err(CryptoError::Server(message))
            }
            Ok(event) => Ok(event),
            Err(_) => Err(CryptoError::Server(
                "the server did not answer in time; try again when online".into(),
            )),
        }
    }

    /// Waits for the event `pick` accepts, without sending anything.
    pub async fn wait(&self, pick: impl Fn(&Event) -> bool + 'static) -> Option<Event> {
        let (answer, answered) = oneshot::channel();
        self.0.borrow_mut().push((Box::new(pick), answer));
        within(ANSWER_MS * 3, answered).await.ok()
    }
}

/// The server's key directory, as the crypto core sees it.
pub struct Directory<'a> {
    /// The connection.
    pub socket: &'a SocketHandle,
    /// Where answers arrive.
    pub requests: &'a Requests,
}

impl KeyServer for Directory<'_> {
    async fn fetch_list(&mut self, user: UserId) -> Result<Option<SignedDeviceList>, CryptoError> {
        let frame = ClientFrame::FetchDeviceList { user };
        let pick = move |e: &Event| matches!(e, Event::DeviceList { user: u, .. } if *u == user);
        match self.requests.ask(self.socket, frame, pick).await? {
            Event::DeviceList { list, .. } => Ok(list),
            _ => Err(CryptoError::Server("unexpected answer".into())),
        }
    }

    async fn claim(
        &mut self,
        devices: Vec<DeviceId>,
    ) -> Result<Vec<(DeviceId, SignedKey)>, CryptoError> {
        let frame = ClientFrame::ClaimKeys { devices };
        let pick = |e: &Event| matches!(e, Event::ClaimedKeys(_));
        match self.requests.ask(self.socket, frame, pick).await? {
            Event::ClaimedKeys(keys) => Ok(keys),
            _ => Err(CryptoError::Server("unexpected answer".into())),
        }
    }
}
