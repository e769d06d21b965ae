//! Before sign-in a connection gets a few tries, not an endless supply:
//! refused registrations (a taken name) close the socket after
//! `MAX_REFUSED_SIGN_INS`, and the server keeps serving everyone else.

use courier_backend::session::task::MAX_REFUSED_SIGN_INS;
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{RequestId, Username};
use courier_shared::proto::{ClientFrame, ErrorCode, ServerFrame, auth};
use courier_tests::client::Received;
use courier_tests::device::random_seed;
use courier_tests::{Backend, TestClient, TestDevice, spawn_app};

#[tokio::test]
async fn refused_registrations_close_the_socket_after_a_few() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
    let mut client = TestClient::connect(&app.ws_url()).await;
    let challenge = client.hello().await;
    let name = Username::parse("ana").expect("valid");
    let mut refused = 0;
    let closed = loop {
        let key = DeviceKey::from_seed(random_seed());
        client
            .send(&ClientFrame::Register {
                request: RequestId::NONE,
                username: name.clone(),
                key: key.public_key(),
                signature: key.sign(&auth::register_message(&challenge, &name)),
            })
            .await;
        match client.recv().await {
            Received::Frame(ServerFrame::Rejected { code, .. }) => {
                assert_eq!(code, ErrorCode::UsernameTaken);
                refused += 1;
                assert!(refused < 1_000, "never closed");
            }
            Received::Frame(ServerFrame::Error { code, .. }) => break code,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(closed, ErrorCode::RateLimited);
    assert_eq!(
        refused, MAX_REFUSED_SIGN_INS,
        "each refusal is answered, then it closes"
    );
    assert!(matches!(client.recv().await, Received::Closed(_)));
    // Everyone else is still served.
    let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
    let id = ana.send_text(&[ben.device], "still here").await;
    assert_eq!(ben.next_message().await.0, id);
    app.stop().await;
}
