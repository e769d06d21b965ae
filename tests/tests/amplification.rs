//! Memory and disk amplification (issue 16, item 3): a message to many
//! devices is stored once and does not grow the server's memory by its
//! fan-out; a device's queue is capped.

use courier_backend::store::Store;
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, RequestId, Username};
use courier_shared::proto::{ClientFrame, ErrorCode, Payload};
use courier_tests::device::{new_message_id, random_seed};
use courier_tests::process::{FreshData, courier_bin};
use courier_tests::{TestDevice, backends, spawn_app_with};
use secrecy::SecretString;

/// A field of `/proc/PID/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("the server's status")
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .expect("a number of KiB")
}

#[tokio::test]
async fn a_60_kib_fan_out_to_1024_devices_is_stored_once_and_costs_the_server_no_copies() {
    let Some(bin) = courier_bin() else { return };
    for backend in backends() {
        let fresh = FreshData::new(backend).await;
        let courier = fresh.start(&bin, &[("COURIER_LOG", "warn")]).await;
        let ws = courier.ws_url();
        // 1,024 offline recipients, each its own user (with no device list,
        // so its one device is listed), written straight into the database.
        let store = Store::open(&SecretString::from(fresh.database_url.clone()), 4)
            .await
            .expect("the server's database");
        let mut to = Vec::new();
        for n in 0..1_024u32 {
            let name = Username::parse(&format!("member{n}")).expect("valid");
            let key = DeviceKey::from_seed(random_seed()).public_key();
            let (_, device) = store.create_user(&name, &key, 1).await.expect("a user");
            to.push(device);
        }
        let mut ana = TestDevice::register(&ws, "ana").await;

        // The same fan-out with a 1-byte payload first, so that the server
        // has opened its queue writer's connection and prepared the
        // statements of a 1,024-row send: what is measured is the payload's
        // cost, which a copy per device would multiply by 1,024.
        let warm_up = new_message_id();
        ana.send(ClientFrame::SendFanout {
            request: RequestId::NONE,
            id: warm_up,
            to: to.clone(),
            payload: Payload::new(vec![1]).expect("small"),
        })
        .await;
        ana.accepted(warm_up).await;
        for device in &to {
            store.ack(*device, &[warm_up]).await.expect("acknowledged");
        }
        // Start the peak over from what the server holds now.
        std::fs::write(format!("/proc/{}/clear_refs", courier.pid()), "5").expect("clear_refs");
        let before = status_kib(courier.pid(), "VmHWM:");
        let id = new_message_id();
        let payload = vec![0x5a; 60 * 1024];
        ana.send(ClientFrame::SendFanout {
            request: RequestId::NONE,
            id,
            to: to.clone(),
            payload: Payload::new(payload).expect("within the payload limit"),
        })
        .await;
        ana.accepted(id).await;
        let peak = status_kib(courier.pid(), "VmHWM:");

        let (rows, bytes) = store.queued_copies(id).await.expect("counted");
        println!(
            "{backend:?}: a 60 KiB fan-out to 1,024 devices: {rows} queue rows, {bytes} payload \
             bytes stored, server peak memory +{} KiB",
            peak.saturating_sub(before)
        );
        assert_eq!(rows, 1_024, "one queue row per device");
        assert!(
            (60 * 1024..61 * 1024).contains(&bytes),
            "the payload is stored once: {bytes} bytes"
        );
        assert_eq!(store.shared_payloads().await.expect("counted"), 1);
        assert!(
            peak.saturating_sub(before) < 1_024,
            "{backend:?}: the server's peak memory grew by {} KiB",
            peak.saturating_sub(before)
        );

        // The payload goes with its last reference.
        for device in &to {
            store.ack(*device, &[id]).await.expect("acknowledged");
        }
        assert_eq!(store.shared_payloads().await.expect("counted"), 0);
        store.close().await;
        drop(courier);
    }
}

#[tokio::test]
async fn a_full_queue_refuses_new_messages_until_its_device_catches_up() {
    for backend in backends() {
        let app = spawn_app_with(backend, |settings| settings.queue_max_entries = 5).await;
        let store = app.store().await;
        let mut ana = TestDevice::register(&app.ws_url(), "ana").await;
        let mut ben = TestDevice::register(&app.ws_url(), "ben").await;
        ben.disconnect().await;
        for n in 0..5 {
            let id = ana.send_text(&[ben.device], &format!("message {n}")).await;
            ana.accepted(id).await;
        }
        let id = new_message_id();
        ana.send(ClientFrame::SendFanout {
            request: RequestId::NONE,
            id,
            to: vec![ben.device],
            payload: Payload::new(b"one too many".to_vec()).expect("small"),
        })
        .await;
        let code = ana.outcome(id).await.expect_err("refused");
        assert_eq!(code, ErrorCode::QuotaExceeded, "{backend:?}");
        assert_eq!(store.queue_depth(ben.device).await.expect("depth"), 5);

        ben.reconnect().await;
        for _ in 0..5 {
            ben.next_message().await;
        }
        wait_empty(&store, ben.device).await;
        ben.disconnect().await;
        let id = ana.send_text(&[ben.device], "room again").await;
        ana.accepted(id).await;
        assert_eq!(store.queue_depth(ben.device).await.expect("depth"), 1);
        store.close().await;
        app.stop().await;
    }
}

async fn wait_empty(store: &Store, device: DeviceId) {
    for _ in 0..200 {
        if store.queue_depth(device).await.expect("depth") == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the queue of {device:?} did not empty");
}
