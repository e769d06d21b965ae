//! Requests and their answers over this page's connection: [`Requests`]
//! hands each answer to the request it names (by request id, never by
//! guessing from its type), and [`Link`] is the client core's
//! [`Server`] over the socket, so every request has a typed answer
//! ([`courier_shared::client::Api`]).

use super::socket::SocketHandle;
use courier_shared::client::{Event, Server};
use courier_shared::ids::RequestId;
use courier_shared::proto::{ClientFrame, Refusal, ServerFrame};
use futures_channel::oneshot;
use std::cell::RefCell;
use std::rc::Rc;

type Answer = Result<ServerFrame, Refusal>;

/// Waiters for answers, by request, and for the next sign-in outcome.
#[derive(Default, Clone)]
pub struct Requests(Rc<RefCell<Waiters>>);

#[derive(Default)]
struct Waiters {
    /// Few wait at once: a list (smaller code than a map).
    answers: Vec<(RequestId, oneshot::Sender<Answer>)>,
    sign_in: Option<oneshot::Sender<Event>>,
}

impl Requests {
    /// Hands `event` to whoever waits for it: an answer to the request it
    /// names, or a sign-in outcome. `None` if it was taken; otherwise the
    /// event goes back to the caller (the app handles it).
    pub fn offer(&self, event: Event) -> Option<Event> {
        let mut waiters = self.0.borrow_mut();
        match event {
            Event::Answer { request, answer } => {
                match waiters.answers.iter().position(|(r, _)| *r == request) {
                    Some(index) => {
                        let (_, waiter) = waiters.answers.swap_remove(index);
                        let _ = waiter.send(answer);
                        None
                    }
                    None => Some(Event::Answer { request, answer }),
                }
            }
            event @ (Event::SignedIn { .. } | Event::SignInRefused(_) | Event::Failed(_)) => {
                match waiters.sign_in.take() {
                    Some(waiter) => {
                        let _ = waiter.send(event.clone());
                        // The app sees sign-ins and failures too.
                        Some(event)
                    }
                    None => Some(event),
                }
            }
            other => Some(other),
        }
    }

    /// Sends `frame` and waits for its answer. The connection answers every
    /// request (a refusal, or "unanswered" when the socket drops or the
    /// server stays silent too long), so this wait ends.
    pub async fn call(&self, socket: &SocketHandle, frame: ClientFrame) -> Answer {
        let (answer, answered) = oneshot::channel();
        let request = socket.request(frame);
        self.0.borrow_mut().answers.push((request, answer));
        answered
            .await
            .unwrap_or_else(|_| Err(Refusal::unanswered()))
    }

    /// Waits for the next sign-in outcome: signed in, refused, or failed.
    pub async fn next_sign_in(&self) -> Option<Event> {
        let (waiter, outcome) = oneshot::channel();
        self.0.borrow_mut().sign_in = Some(waiter);
        outcome.await.ok()
    }
}

/// The server, as the client core sees it, over this page's socket.
#[derive(Clone)]
pub struct Link {
    /// The connection.
    pub socket: SocketHandle,
    /// Where answers arrive.
    pub requests: Requests,
}

impl Server for Link {
    async fn call(&mut self, frame: ClientFrame) -> Answer {
        self.requests.call(&self.socket, frame).await
    }

    async fn post(&mut self, frame: ClientFrame) -> RequestId {
        self.socket.request(frame)
    }

    async fn notify(&mut self, frame: ClientFrame) {
        self.socket.notify(frame);
    }
}
