//! [`TestClient`]: a device speaking the wire protocol over a real WebSocket.

use courier_shared::ids::Challenge;
use courier_shared::proto::{self, ClientFrame, PROTOCOL_VERSION, ServerFrame, Text};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long a test waits for any one message.
const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server sent, as a test sees it.
#[derive(Debug)]
pub enum Received {
    /// A decoded frame.
    Frame(ServerFrame),
    /// A close frame with its code and reason.
    Closed(Option<(u16, String)>),
    /// The connection ended without a close frame.
    Ended,
}

/// A WebSocket connection to a test server.
pub struct TestClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl TestClient {
    /// Opens a WebSocket to `ws_url` without any handshake.
    pub async fn connect(ws_url: &str) -> Self {
        let (socket, _) = connect_async(ws_url).await.expect("WebSocket connects");
        Self { socket }
    }

    /// Opens a WebSocket to `ws_url`, or the HTTP status it was refused with.
    pub async fn try_connect(ws_url: &str) -> Result<Self, u16> {
        match connect_async(ws_url).await {
            Ok((socket, _)) => Ok(Self { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(err) => panic!("WebSocket connect failed: {err}"),
        }
    }

    /// Opens a WebSocket to `ws_url` as a proxy would for a client at
    /// `forwarded_for` (the `X-Forwarded-For` header).
    pub async fn connect_forwarded_for(ws_url: &str, forwarded_for: &str) -> Self {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = ws_url.into_client_request().expect("a ws:// URL");
        request.headers_mut().insert(
            "x-forwarded-for",
            forwarded_for.parse().expect("a header value"),
        );
        let (socket, _) = connect_async(request).await.expect("WebSocket connects");
        Self { socket }
    }

    /// Opens a WebSocket and completes the protocol handshake.
    pub async fn connect_and_hello(ws_url: &str) -> Self {
        let mut client = Self::connect(ws_url).await;
        client.hello().await;
        client
    }

    /// Sends `Hello` and waits for `Welcome`; returns the sign-in challenge.
    pub async fn hello(&mut self) -> Challenge {
        self.send(&ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            agent: Text::truncating("courier-tests"),
        })
        .await;
        match self.recv().await {
            Received::Frame(ServerFrame::Welcome { challenge, .. }) => challenge,
            other => panic!("expected Welcome, got {other:?}"),
        }
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: &ClientFrame) {
        let bytes = proto::encode(frame).expect("encodes");
        self.send_raw(Message::Binary(bytes.into())).await;
    }

    /// Sends any WebSocket message, well-formed or not.
    pub async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.expect("send");
    }

    /// The next frame or close from the server (panics after ten seconds).
    pub async fn recv(&mut self) -> Received {
        loop {
            let next = tokio::time::timeout(RECV_TIMEOUT, self.socket.next())
                .await
                .expect("the server answers within the timeout");
            return match next {
                Some(Ok(Message::Binary(bytes))) => {
                    Received::Frame(proto::decode(&bytes).expect("server frames decode"))
                }
                Some(Ok(Message::Close(frame))) => Received::Closed(
                    frame.map(|CloseFrame { code, reason }| (code.into(), reason.to_string())),
                ),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Text(text))) => panic!("server sent text: {text}"),
                Some(Err(_)) | None => Received::Ended,
            };
        }
    }

    /// Pings and expects the matching pong.
    pub async fn ping(&mut self, nonce: u64) {
        self.send(&ClientFrame::Ping { nonce }).await;
        match self.recv().await {
            Received::Frame(ServerFrame::Pong { nonce: got }) => assert_eq!(got, nonce),
            other => panic!("expected Pong {nonce}, got {other:?}"),
        }
    }
}
