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

#[tokio::test]
async fn accounts_and_queues_behave_the_same_on_every_backend() {
    use courier_backend::store::queue::{Enqueued, EntryKind, NewEntry};
    use courier_shared::ids::{DeviceId, MessageId, PublicKey, UserId, Username};

    for backend in backends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = SecretString::from(fresh_database_url(backend, dir.path()).await);
        let store = Store::open(&url, 4).await.expect("opens");
        let name = |n: &str| Username::parse(n).expect("valid");
        let key = |b: u8| PublicKey::new_const([b; 32]);

        let (ana, ana_phone) = store
            .create_user(&name("ana"), &key(1), 1)
            .await
            .expect("ana");
        let (ben, ben_phone) = store
            .create_user(&name("ben"), &key(2), 1)
            .await
            .expect("ben");
        assert!(matches!(
            store.create_user(&name("ana"), &key(3), 1).await,
            Err(StoreError::UsernameTaken)
        ));
        assert!(matches!(
            store.create_user(&name("cid"), &key(2), 1).await,
            Err(StoreError::KeyInUse)
        ));
        let ben_laptop = store
            .add_device(ben, &key(4), true, 2)
            .await
            .expect("second device");
        assert_eq!(
            store.user_devices(ben).await.expect("devices"),
            vec![ben_phone, ben_laptop]
        );
        let record = store
            .user_by_name(&name("ben"))
            .await
            .expect("query")
            .expect("ben");
        assert_eq!(
            record.devices,
            vec![(ben_phone, key(2)), (ben_laptop, key(4))]
        );
        assert_eq!(
            store
                .device(ana_phone)
                .await
                .expect("query")
                .map(|d| d.user),
            Some(ana)
        );

        let id = MessageId::v7(10, [7; 10]);
        let entries: Vec<NewEntry> = [ben_phone, ben_laptop]
            .into_iter()
            .map(|device| NewEntry {
                device,
                id,
                kind: EntryKind::Message,
                payload: vec![0xc1, 0xc2],
            })
            .collect();
        let sender = (ana, ana_phone);
        assert_eq!(
            store
                .enqueue(sender, &entries, Some(id), 100, 10_000)
                .await
                .expect("queued"),
            Enqueued::Queued(vec![ben_phone, ben_laptop])
        );
        assert_eq!(
            store
                .enqueue(sender, &entries, Some(id), 101, 10_000)
                .await
                .expect("retry"),
            Enqueued::Duplicate,
            "{backend:?}"
        );

        let stray = vec![NewEntry {
            device: DeviceId(424_242),
            ..entries[0].clone()
        }];
        let other = MessageId::v7(11, [8; 10]);
        assert!(matches!(
            store
                .enqueue(sender, &stray, Some(other), 102, 10_000)
                .await,
            Ok(Enqueued::UnknownRecipient)
        ));
        assert_eq!(
            store.total_queued().await.expect("count"),
            2,
            "nothing partial"
        );

        let pending = store.pending(ben_phone, 10, 200).await.expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (
                pending[0].id,
                pending[0].from,
                pending[0].from_device,
                pending[0].created_at
            ),
            (id, ana, ana_phone, 100)
        );
        assert_eq!(pending[0].payload, vec![0xc1, 0xc2]);
        assert!(
            store
                .pending(ben_phone, 10, 10_000)
                .await
                .expect("q")
                .is_empty(),
            "expired"
        );

        assert_eq!(
            store.ack(ana_phone, &[id]).await.expect("ack"),
            0,
            "not ana's queue"
        );
        assert_eq!(store.ack(ben_phone, &[id]).await.expect("ack"), 1);
        assert_eq!(store.queue_depth(ben_phone).await.expect("depth"), 0);
        assert_eq!(store.queue_depth(ben_laptop).await.expect("depth"), 1);
        assert_eq!(store.purge_expired(10_000).await.expect("purge"), 1);
        assert_eq!(store.total_queued().await.expect("count"), 0);

        store.add_contact(ana, ben, 5).await.expect("contact");
        assert!(store.has_contact(ana, ben).await.expect("query"));
        assert!(
            !store.has_contact(ben, ana).await.expect("query"),
            "one-way"
        );
        assert!(matches!(
            store.add_contact(ana, UserId(777_777), 5).await,
            Err(StoreError::NotFound(_))
        ));
        store.remove_contact(ana, ben).await.expect("removed");
        assert!(!store.has_contact(ana, ben).await.expect("query"));

        assert_eq!(store.last_seen(ana).await.expect("seen"), 0);
        store.set_last_seen(ana, 1_234).await.expect("set");
        assert_eq!(store.last_seen(ana).await.expect("seen"), 1_234);
        store.close().await;
    }
}
