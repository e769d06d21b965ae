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
            .add_device(ben, &key(4), true, 2, 2)
            .await
            .expect("second device")
            .expect("under the cap");
        assert_eq!(
            store
                .add_device(ben, &key(5), true, 2, 2)
                .await
                .expect("answers"),
            None,
            "a third device is over a cap of two"
        );
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

/// Every rule a write checks — the media quota, the open-link and device
/// caps, the device list's growing version, a group's size and who may
/// change it — holds when many writes race on one user or group: each
/// check is made inside the transaction that writes, on rows it keeps
/// locked (Postgres runs at READ COMMITTED, where a count read and then
/// acted on is stale by the time a concurrent writer commits).
#[tokio::test]
async fn checks_hold_when_writes_race_on_every_backend() {
    use courier_backend::store::directory::{LinkOpened, ListStored, MAX_OPEN_LINKS};
    use courier_backend::store::groups::{GroupChange, GroupChanged};
    use courier_shared::crypto::device_list::{DeviceList, ListedDevice};
    use courier_shared::crypto::identity::DeviceKey;
    use courier_shared::crypto::media::MediaHash;
    use courier_shared::ids::{CurveKey, LinkId, MediaId, PublicKey, UserId, Username};
    use futures_util::future::join_all;

    const RACERS: u8 = 16;
    for backend in backends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = SecretString::from(fresh_database_url(backend, dir.path()).await);
        let store = Store::open(&url, 8).await.expect("opens");
        let name = |n: String| Username::parse(&n).expect("valid");
        let key = |b: u8| PublicKey::new_const([b; 32]);
        let (ana, ana_phone) = store
            .create_user(&name("ana".into()), &key(200), 1)
            .await
            .expect("ana");

        // The media quota: four uploads of 100 bytes fit under 400.
        let opened = join_all((0..RACERS).map(|i| {
            let id = MediaId::from([i; 16]);
            let hash = MediaHash::from([i; 32]);
            let store = store.clone();
            async move { store.open_upload(ana, &id, 100, &hash, 400, 1, 1_000).await }
        }))
        .await;
        let fitted = opened
            .into_iter()
            .map(|r| r.expect("answers"))
            .filter(|ok| *ok);
        assert_eq!(fitted.count(), 4, "{backend:?}: uploads over the quota");

        // Open links: at most MAX_OPEN_LINKS.
        let links = join_all((0..RACERS).map(|i| {
            let link = LinkId::new_const([i; 16]);
            let store = store.clone();
            async move { store.create_link(ana, &link, 1, 1_000).await }
        }))
        .await;
        let open = links
            .into_iter()
            .filter(|r| matches!(r, Ok(LinkOpened::Opened)))
            .count();
        assert_eq!(
            open,
            usize::try_from(MAX_OPEN_LINKS).expect("small"),
            "{backend:?}"
        );

        // Devices: a cap of five, ana's phone being one.
        let added = join_all((0..RACERS).map(|i| {
            let store = store.clone();
            async move { store.add_device(ana, &key(i), false, 5, 1).await }
        }))
        .await;
        let added = added
            .into_iter()
            .filter(|r| matches!(r, Ok(Some(_))))
            .count();
        assert_eq!(added, 4, "{backend:?}: devices over the cap");

        // Device lists: whatever order they commit in, the highest version
        // is the one kept and a lower one never replaces it.
        let account = DeviceKey::from_seed([9; 32]);
        let list = |version: u64| {
            let list = DeviceList {
                user: ana,
                version,
                account: account.public_key(),
                devices: vec![ListedDevice {
                    device: ana_phone,
                    signing_key: key(200),
                    identity_key: CurveKey::new_const([3; 32]),
                }],
            };
            let signed = list.sign(&account).expect("signs");
            (list, signed)
        };
        let published = join_all((1..=u64::from(RACERS)).map(|version| {
            let store = store.clone();
            let (list, signed) = list(version);
            async move { store.publish_device_list(ana, &list, &signed).await }
        }))
        .await;
        assert!(
            published
                .iter()
                .any(|r| matches!(r, Ok(ListStored::Stored(_)))),
            "{backend:?}: {published:?}"
        );
        let (kept, _) = store.device_list(ana).await.expect("list");
        let kept = kept.expect("a list").open().expect("decodes");
        assert_eq!(
            kept.version(),
            u64::from(RACERS),
            "{backend:?}: a lower list won"
        );

        // A group of at most five: racing adds of one user each fill it and
        // no more.
        let mut users = Vec::new();
        for i in 0..RACERS {
            let (user, _) = store
                .create_user(&name(format!("user{i}")), &key(100 + i), 1)
                .await
                .expect("user");
            users.push(user);
        }
        let group = store.create_group(ana, &[], 1).await.expect("group").id;
        let adds = join_all(users.iter().map(|user| {
            let store = store.clone();
            let change = GroupChange::Add(vec![*user]);
            async move { store.change_group(group, ana, &change, 5, 2).await }
        }))
        .await;
        let full = adds
            .iter()
            .filter(|r| matches!(r, Ok(GroupChanged::TooMany)))
            .count();
        let members = store
            .group(group)
            .await
            .expect("read")
            .expect("group")
            .members;
        assert_eq!(members.len(), 5, "{backend:?}: {adds:?}");
        assert_eq!(full, usize::from(RACERS) - 4, "{backend:?}");

        // Who may change a group is checked against the group as it is
        // when the change is made: a dismissed admin can no longer add.
        let ben: UserId = members[1].0;
        let make_admin = GroupChange::SetAdmin(ben, true);
        let done = store.change_group(group, ana, &make_admin, 5, 3).await;
        assert!(matches!(done, Ok(GroupChanged::Done(_))), "{done:?}");
        let dismiss = GroupChange::SetAdmin(ben, false);
        let done = store.change_group(group, ana, &dismiss, 5, 4).await;
        assert!(matches!(done, Ok(GroupChanged::Done(_))), "{done:?}");
        let remove = GroupChange::Remove(ana);
        let refused = store.change_group(group, ben, &remove, 5, 5).await;
        assert!(matches!(refused, Ok(GroupChanged::NotAdmin)), "{refused:?}");
        let (outsider, _) = store
            .create_user(&name("zed".into()), &key(250), 1)
            .await
            .expect("zed");
        let leave = GroupChange::Remove(outsider);
        let refused = store.change_group(group, outsider, &leave, 5, 6).await;
        assert!(
            matches!(refused, Ok(GroupChanged::NotMember)),
            "{refused:?}"
        );
        store.close().await;
    }
}
