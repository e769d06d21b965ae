//! Deliver first, persist on miss (issue 21): a message to a device online
//! on the node is pushed at once, and if the device acknowledges it before
//! the queue write would have committed it is never stored; a message to an
//! offline device is stored as before, and `Accepted` means the same in both.

use courier_tests::process::{FreshData, courier_bin};
use courier_tests::{TestDevice, backends};

/// A counter of the server's `/metrics` (at `url`).
async fn counter(url: &str, name: &str) -> f64 {
    let text = reqwest::get(url)
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

const STORED: &str = "courier_entries_stored_total";
const MESSAGES: usize = 20;

#[tokio::test]
async fn a_message_acknowledged_at_once_is_never_stored_and_one_for_an_offline_device_is() {
    // Its own server process: the counters are the process's, not shared
    // with the other tests' in-process servers.
    let Some(bin) = courier_bin() else { return };
    for backend in backends() {
        let fresh = FreshData::new(backend).await;
        let courier = fresh.start(&bin, &[("COURIER_LOG", "warn")]).await;
        let ws = courier.ws_url();
        let mut ana = TestDevice::register(&ws, "ana").await;
        let mut ben = TestDevice::register(&ws, "ben").await;

        let before = counter(&fresh.metrics_url(), STORED).await;
        for n in 0..MESSAGES {
            let id = ana.send_text(&[ben.device], &format!("online {n}")).await;
            ben.next_message().await;
            ana.accepted(id).await;
        }
        let online = counter(&fresh.metrics_url(), STORED).await - before;

        ben.disconnect().await;
        let before = counter(&fresh.metrics_url(), STORED).await;
        for n in 0..MESSAGES {
            let id = ana.send_text(&[ben.device], &format!("offline {n}")).await;
            ana.accepted(id).await;
        }
        let offline = counter(&fresh.metrics_url(), STORED).await - before;
        ben.reconnect().await;
        for _ in 0..MESSAGES {
            ben.next_message().await;
        }
        println!(
            "{backend:?}: {MESSAGES} messages to an online device stored {online} entries, \
             {MESSAGES} to an offline one {offline}"
        );
        // An acknowledgement may miss the 100 ms on a loaded machine: then
        // that entry is stored, as it must be. Most are not.
        assert!(
            online <= (MESSAGES / 4) as f64,
            "{backend:?}: {online} of {MESSAGES} acknowledged messages were stored"
        );
        assert_eq!(
            offline, MESSAGES as f64,
            "{backend:?}: every offline message is stored"
        );
        drop(courier);
    }
}
