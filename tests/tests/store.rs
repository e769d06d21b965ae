//! The store against each backend: migrations, identity, readiness.

use courier_backend::store::{Store, StoreError};
use courier_tests::{backends, fresh_database_url};
use secrecy::SecretString;

#[tokio::test]
async fn migrations_are_idempotent_and_the_deployment_id_is_stable() {
    for backend in backends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = SecretString::from(fresh_database_url(backend, dir.path()).await);
        let first = Store::open(&url, 2).await.expect("opens");
        assert_eq!(first.backend(), backend);
        first.ping().await.expect("answers");
        let id = first.deployment_id().await.expect("id");
        first
            .migrate()
            .await
            .expect("a second migration run is a no-op");
        first.close().await;

        let again = Store::open(&url, 2).await.expect("reopens");
        assert_eq!(again.deployment_id().await.expect("id"), id, "{backend:?}");
        again.close().await;
    }
}

#[tokio::test]
async fn unknown_schemes_and_unreachable_databases_are_clear_errors() {
    let err = Store::open(&SecretString::from("mysql://localhost/x"), 1)
        .await
        .expect_err("unsupported");
    assert!(matches!(err, StoreError::UnsupportedUrl), "{err}");

    let port = courier_tests::browser::free_port();
    let url = format!("postgres://nobody@127.0.0.1:{port}/none");
    let err = Store::open(&SecretString::from(url), 1)
        .await
        .expect_err("nothing listens there");
    assert!(matches!(err, StoreError::Connect(_)), "{err}");
}
