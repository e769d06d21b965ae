//! Calls: the signalling between native devices over the real server
//! (every device rings, the first answer wins, decline stops all, busy,
//! missed, a late offer never rings, the server never sees a description),
//! coturn refusing TURN credentials that expired or were signed with
//! another secret, and real calls between two headless Chromiums with
//! fake media: audio both ways (getStats), mute, video, hang-up and the
//! chat line, directly and relayed through coturn.

use courier_backend::turn;
use courier_shared::client::call::{End, Phase, RING_MS, Role};
use courier_shared::ids::DeviceId;
use courier_tests::browser::{Browser, chromium_pages, close_all};
use courier_tests::phone::{Phone, until};
use courier_tests::process::{WebServer, browser_setup, courier_bin};
use courier_tests::secure::{SecureDevice, user_with_two_devices};
use std::time::Duration;

/// Marks every description of these tests: never to be found on the server.
const CANARY: &str = "a=fingerprint:sha-256 CANARY-5D2F";

/// Every byte the server wrote: its data directory (database, WAL) and log.
fn server_bytes(server: &WebServer) -> Vec<u8> {
    fn walk(dir: &std::path::Path, out: &mut Vec<u8>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.extend(bytes);
            }
        }
    }
    let mut out = server.process.log().into_bytes();
    walk(server.data_dir(), &mut out);
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn signalling_rings_every_device_and_the_first_answer_wins() {
    let Some(bin) = courier_bin() else {
        return;
    };
    let dist = std::env::temp_dir();
    let server = WebServer::start(&bin, dist.to_str().expect("utf-8")).await;
    let ws = server.ws_url();
    let mut ana = Phone::new(SecureDevice::register(&ws, "ana").await);
    let (ben1, ben2) = user_with_two_devices(&ws, "ben").await;
    let (mut ben1, mut ben2) = (Phone::new(ben1), Phone::new(ben2));
    let mut cal = Phone::new(SecureDevice::register(&ws, "cal").await);
    let (a, b) = (ana.dev.user(), ben1.dev.user());

    // Ana calls: both of Ben's devices ring.
    let first = ana.call(b, &format!("v=0\r\n{CANARY}\r\n")).await;
    until(&mut [&mut ana, &mut ben1, &mut ben2], "both ring", |p| {
        p[1].phase() == Some(Phase::Ringing) && p[2].phase() == Some(Phase::Ringing)
    })
    .await;
    let offer = ben2.calls.call().and_then(|c| c.offer.clone());
    assert!(
        offer.is_some_and(|o| o.contains(CANARY)),
        "the offer arrives whole"
    );

    // Ben answers on his second device: the first stops ringing.
    let out = ben2
        .calls
        .accept("v=0 answer", false, courier_tests::secure::unix_ms());
    ben2.carry_out(out.expect("ringing")).await;
    until(&mut [&mut ana, &mut ben1, &mut ben2], "answered", |p| {
        p[0].phase() == Some(Phase::Live)
            && p[1].calls.call().map(|c| (c.role, c.phase))
                == Some((Role::Observer { outgoing: false }, Phase::Live))
    })
    .await;
    assert_eq!(
        ana.calls.call().and_then(|c| c.peer_device),
        Some(ben2.dev.device())
    );

    // Cal calls Ben meanwhile: busy; neither of Ben's devices rings.
    let busy = cal.call(b, "v=0 cal").await;
    until(&mut [&mut cal, &mut ben1, &mut ben2], "busy", |p| {
        p[0].phase() == Some(Phase::Ended(End::Busy))
    })
    .await;
    assert_eq!(cal.line(b, busy).as_deref(), Some("Outgoing call · busy"));
    assert_eq!(ben1.phase(), Some(Phase::Live));
    assert_eq!(ben2.phase(), Some(Phase::Live));
    until(&mut [&mut ben1, &mut ben2], "missed lines", |p| {
        p.iter()
            .all(|p| p.line(cal.dev.user(), busy).as_deref() == Some("Missed call"))
    })
    .await;

    // Ana hangs up: every device ends and keeps the line.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let out = ana.calls.hang_up(courier_tests::secure::unix_ms());
    ana.carry_out(out.expect("live")).await;
    until(&mut [&mut ana, &mut ben1, &mut ben2], "hung up", |p| {
        p.iter()
            .all(|p| p.phase() == Some(Phase::Ended(End::HungUp)))
    })
    .await;
    let line = ana.line(b, first).expect("ana's line");
    assert!(line.starts_with("Outgoing call · 0:0"), "{line}");
    for ben in [&ben1, &ben2] {
        let line = ben.line(a, first).expect("ben's line");
        assert!(line.starts_with("Incoming call · 0:0"), "{line}");
    }

    // A decline on one device stops the other.
    let second = ana.call(b, "v=0 again").await;
    until(&mut [&mut ana, &mut ben1, &mut ben2], "ring again", |p| {
        p[1].phase() == Some(Phase::Ringing) && p[2].phase() == Some(Phase::Ringing)
    })
    .await;
    let out = ben1.calls.decline(courier_tests::secure::unix_ms());
    ben1.carry_out(out.expect("ringing")).await;
    until(&mut [&mut ana, &mut ben1, &mut ben2], "declined", |p| {
        p.iter()
            .all(|p| p.phase() == Some(Phase::Ended(End::Declined)))
    })
    .await;
    assert_eq!(
        ana.line(b, second).as_deref(),
        Some("Outgoing call · declined")
    );
    assert_eq!(ben2.line(a, second).as_deref(), Some("Declined call"));

    // Ben is offline; Ana's call waits in his queue, and reaches him after
    // its ring time (as a late delivery or a replay by the server would):
    // it never rings, and is a missed call.
    ben1.dev.net().disconnect().await;
    ben2.dev.net().disconnect().await;
    let third = ana.call(b, &format!("v=0\r\n{CANARY}\r\n")).await;
    ana.dev.run_for(Duration::from_millis(500)).await;
    let stored = server_bytes(&server);
    ben1.late_ms = RING_MS + 1;
    ben1.dev.net().reconnect().await;
    let mut rang = false;
    for _ in 0..100 {
        ben1.pump().await;
        rang |= ben1.phase() == Some(Phase::Ringing);
        if ben1.line(a, third).is_some() {
            break;
        }
    }
    assert!(!rang, "a late offer rang");
    assert_eq!(ben1.line(a, third).as_deref(), Some("Missed call"));

    // The server never saw a description: not in its database (where the
    // waiting offer was queued) nor in its log.
    assert!(!contains(&stored, CANARY), "an SDP canary is on the server");
    assert!(!contains(&server_bytes(&server), CANARY));
    assert!(!contains(&stored, "v=0\r\n"));
}

/// Allocates a relay on the TURN server at `addr` with `username` and
/// `password`; the STUN response class and error code (0 for success).
async fn allocate(addr: &str, username: &str, password: &str) -> u16 {
    use md5::Digest;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("udp");
    socket.connect(addr).await.expect("connect");
    // First without credentials: coturn answers 401 with its realm and nonce.
    let first = stun(0x0003, [1; 12], &[attr(0x0019, &[17, 0, 0, 0])]);
    let reply = exchange(&socket, &first).await;
    let realm = find(&reply, 0x0014).expect("a realm");
    let nonce = find(&reply, 0x0015).expect("a nonce");
    let key =
        md5::Md5::digest([username.as_bytes(), b":", &realm, b":", password.as_bytes()].concat());
    let attrs = [
        attr(0x0019, &[17, 0, 0, 0]),
        attr(0x0006, username.as_bytes()),
        attr(0x0014, &realm),
        attr(0x0015, &nonce),
    ];
    let mut request = stun(0x0003, [2; 12], &attrs);
    // MESSAGE-INTEGRITY over the message with its length counting it.
    let length = u16::from_be_bytes([request[2], request[3]]) + 24;
    request[2..4].copy_from_slice(&length.to_be_bytes());
    let mac = turn::hmac_sha1(&key, &request);
    request.extend(attr(0x0008, &mac));
    let reply = exchange(&socket, &request).await;
    let class = u16::from_be_bytes([reply[0], reply[1]]);
    if class == 0x0103 {
        return 0;
    }
    find(&reply, 0x0009).map_or(class, |e| u16::from(e[2]) * 100 + u16::from(e[3]))
}

fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut out = kind.to_be_bytes().to_vec();
    out.extend(u16::try_from(value.len()).expect("short").to_be_bytes());
    out.extend(value);
    out.resize(out.len().div_ceil(4) * 4, 0);
    out
}

fn stun(kind: u16, transaction: [u8; 12], attrs: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = attrs.concat();
    let mut out = kind.to_be_bytes().to_vec();
    out.extend(u16::try_from(body.len()).expect("short").to_be_bytes());
    out.extend(0x2112_A442_u32.to_be_bytes());
    out.extend(transaction);
    out.extend(body);
    out
}

fn find(message: &[u8], kind: u16) -> Option<Vec<u8>> {
    let mut at = 20;
    while at + 4 <= message.len() {
        let t = u16::from_be_bytes([message[at], message[at + 1]]);
        let len = usize::from(u16::from_be_bytes([message[at + 2], message[at + 3]]));
        let value = message.get(at + 4..at + 4 + len)?;
        if t == kind {
            return Some(value.to_vec());
        }
        at += 4 + len.div_ceil(4) * 4;
    }
    None
}

async fn exchange(socket: &tokio::net::UdpSocket, request: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    for _ in 0..5 {
        socket.send(request).await.expect("send");
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(500), socket.recv(&mut buf)).await
        {
            buf.truncate(n);
            return buf;
        }
    }
    panic!("the TURN server did not answer");
}

/// The test coturn (`TEST_TURN_URL`, `TEST_TURN_SECRET`), or `None` to skip.
fn coturn() -> Option<(String, String)> {
    let url = courier_tests::env::optional("TEST_TURN_URL", "the TURN tests")?;
    let secret = courier_tests::env::optional("TEST_TURN_SECRET", "the TURN tests")?;
    Some((url, secret))
}

#[tokio::test]
async fn coturn_refuses_expired_and_forged_credentials() {
    let Some((url, secret)) = coturn() else {
        return;
    };
    let addr = url
        .trim_start_matches("turn:")
        .split('?')
        .next()
        .expect("host:port");
    let now = courier_tests::secure::unix_ms() / 1000;
    let device = DeviceId(7);
    let (user, pass) = turn::credential(secret.as_bytes(), device, now + 600);
    assert_eq!(
        allocate(addr, &user, &pass).await,
        0,
        "a fresh credential works"
    );
    let (user, pass) = turn::credential(secret.as_bytes(), device, now - 60);
    assert_eq!(
        allocate(addr, &user, &pass).await,
        401,
        "an expired one is refused"
    );
    let (user, pass) = turn::credential(b"another secret", device, now + 600);
    assert_eq!(
        allocate(addr, &user, &pass).await,
        401,
        "a forged one is refused"
    );
}

/// A tune for the fake microphone (10 s, looped by Chromium): 440 and
/// 550 Hz by turns, every quarter second, its loudness swaying between 0.3
/// and 0.6. Never silent, and never steady: WebRTC's noise suppression
/// fades a steady tone out as background noise (seen in one relayed run:
/// the level fell to 0.0007 while the bytes kept coming).
fn tone() -> tempfile::NamedTempFile {
    let rate = 16_000;
    let mut phase = 0.0_f32;
    let samples: Vec<f32> = (0..rate * 10)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let hz = if ((t * 4.0) as u32).is_multiple_of(2) {
                440.0
            } else {
                550.0
            };
            phase += hz * std::f32::consts::TAU / rate as f32;
            let loud = 0.45 + 0.15 * (t * 3.0 * std::f32::consts::TAU).sin();
            phase.sin() * loud
        })
        .collect();
    let file = tempfile::Builder::new()
        .suffix(".wav")
        .tempfile()
        .expect("tone");
    std::fs::write(file.path(), courier_shared::wav::encode(&samples, rate)).expect("written");
    file
}

/// The call screen's `data-` number `key`.
async fn stat(page: &Browser, key: &str) -> Result<f64, String> {
    let value = page
        .js(&format!(
            "const c = document.querySelector('#call'); return c ? Number(c.dataset.{key}) : -1;"
        ))
        .await?;
    Ok(value.as_f64().unwrap_or(-1.0))
}

/// Waits (at most 30 s) until `key` passes `test` on `page`.
async fn wait_stat(
    page: &Browser,
    key: &str,
    what: &str,
    test: impl Fn(f64) -> bool,
) -> Result<f64, String> {
    let mut last = 0.0;
    for _ in 0..150 {
        last = stat(page, key).await?;
        if test(last) {
            return Ok(last);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("{what}: {key} stayed at {last}"))
}

/// Ana calls Ben, who accepts; audio flows both ways; mute, video, hang-up.
async fn a_call(ana: &Browser, ben: &Browser, url: &str, relay: bool) -> Result<(), String> {
    ana.register(url, "ana").await?;
    ben.register(url, "ben").await?;
    if relay {
        for page in [ana, ben] {
            page.js("localStorage.setItem('courier-call-relay', 'on'); return true;")
                .await?;
        }
    }
    ana.start_chat("ben").await?;
    ana.send("can we talk?").await?;
    ben.click("button[data-chat]").await?;
    ben.wait_text("li[data-outgoing='false']", "can we talk?", 30)
        .await?;

    ana.click("button[data-action='call']").await?;
    ben.text_of("#call[data-call-phase='ringing']", 30).await?;
    ben.click("[data-call='accept']").await?;
    for page in [ana, ben] {
        page.text_of("#call[data-call-phase='live']", 30).await?;
    }
    // Both sides hear the other: bytes arriving and growing, a level.
    for page in [ana, ben] {
        let first = wait_stat(page, "audioBytes", "audio arrives", |b| b > 0.0).await?;
        wait_stat(page, "audioBytes", "audio keeps arriving", |b| {
            b > first + 2_000.0
        })
        .await?;
        wait_stat(page, "audioLevel", "the tone is heard", |l| l > 0.01).await?;
        if relay {
            let path = page
                .js("return document.querySelector('#call').dataset.path;")
                .await?;
            if path.as_str() != Some("relay") {
                return Err(format!("the call took the path {path}, not the relay"));
            }
        }
    }
    // Ana mutes: Ben hears silence; she unmutes.
    ana.click("[data-call='mute']").await?;
    wait_stat(ben, "audioLevel", "muted", |l| l < 0.001).await?;
    ana.click("[data-call='mute']").await?;
    wait_stat(ben, "audioLevel", "unmuted", |l| l > 0.01).await?;
    // Ana turns her camera on: Ben receives video frames.
    ana.click("[data-call='camera']").await?;
    wait_stat(ben, "videoFrames", "video arrives", |f| f > 10.0).await?;
    let quality = ben.text_of("[data-quality]", 10).await?;
    if !quality.ends_with("connection") {
        return Err(format!("no quality hint: {quality:?}"));
    }
    // Ana hangs up: both ends end; each chat has the call's line.
    ana.click("[data-call='hangup']").await?;
    for page in [ana, ben] {
        page.text_of("#call[data-call-phase='ended']", 30).await?;
    }
    ana.wait_text("li[data-system]", "Outgoing call · 0:", 30)
        .await?;
    ben.wait_text("li[data-system]", "Incoming call · 0:", 30)
        .await?;
    Ok(())
}

async fn two_browsers_call(relay: bool) {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let turn_args = match (relay, coturn()) {
        (false, _) => None,
        (true, Some(turn)) => Some(turn),
        (true, None) => return,
    };
    let extra: Vec<String> = match &turn_args {
        Some((url, secret)) => vec![
            "--turn-url".into(),
            format!("{url}?transport=udp"),
            "--turn-secret".into(),
            secret.clone(),
        ],
        None => Vec::new(),
    };
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let courier = WebServer::start_with(&bin, &dist, &extra).await;
    let tone = tone();
    let args = vec![format!(
        "--use-file-for-fake-audio-capture={}",
        tone.path().display()
    )];
    let ana = Browser::start_with(&driver, &args).await;
    let ben = Browser::start_with(&driver, &args).await;
    let outcome = a_call(&ana, &ben, &courier.url(), relay).await;
    let failed = outcome.is_err();
    if let Err(err) = &outcome {
        eprintln!("server log:\n{}", courier.process.log());
        for (name, page) in [("ana", &ana), ("ben", &ben)] {
            let call = page
                .js("const c = document.querySelector('#call'); return c ? c.outerHTML : 'none';")
                .await
                .unwrap_or_default();
            eprintln!("{name}'s call screen: {call}");
        }
        eprintln!("the call failed: {err}");
    }
    close_all([("ana", ana), ("ben", ben)], failed).await;
    outcome.expect("a call between two browsers");
}

#[tokio::test]
async fn ana_calls_ben_in_two_chromiums() {
    two_browsers_call(false).await;
}

#[tokio::test]
async fn the_same_call_relayed_through_coturn() {
    two_browsers_call(true).await;
}

#[tokio::test]
async fn both_of_bens_browsers_ring_and_one_takes_the_call() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let tone = tone();
    let args = vec![format!(
        "--use-file-for-fake-audio-capture={}",
        tone.path().display()
    )];
    let ana = Browser::start_with(&driver, &args).await;
    let ben = Browser::start_with(&driver, &args).await;
    let ben2 = Browser::start_with(&driver, &args).await;
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        ben2.link_from(&ben, &url).await?;
        ben.tab("#chats-tab").await?;
        ana.start_chat("ben").await?;
        ana.send("ring ring").await?;
        for page in [&ben, &ben2] {
            page.click("button[data-chat]").await?;
            page.wait_text("li[data-outgoing='false']", "ring ring", 30)
                .await?;
        }
        ana.click("button[data-action='call']").await?;
        for page in [&ben, &ben2] {
            page.text_of("#call[data-call-phase='ringing']", 30).await?;
        }
        ben2.click("[data-call='accept']").await?;
        ben.wait_text("[data-call-status]", "Answered on another device", 30)
            .await?;
        for page in [&ana, &ben2] {
            page.text_of("#call[data-call-phase='live']", 30).await?;
        }
        wait_stat(&ana, "audioBytes", "audio from ben's second browser", |b| {
            b > 0.0
        })
        .await?;
        ben.click("[data-call='close']").await?;
        // Ben hangs up on the browser that has the call.
        ben2.click("[data-call='hangup']").await?;
        ana.text_of("#call[data-call-phase='ended']", 30).await?;
        for page in [&ben, &ben2] {
            page.wait_text("li[data-system]", "Incoming call · 0:", 30)
                .await?;
        }
        ana.wait_text("li[data-system]", "Outgoing call · 0:", 30)
            .await?;
        Ok(())
    }
    .await;
    let failed = outcome.is_err();
    close_all([("ana", ana), ("ben", ben), ("ben2", ben2)], failed).await;
    outcome.expect("multi-device ringing");
}

#[tokio::test]
async fn a_call_to_someone_offline_is_a_missed_call_that_never_rings() {
    let Some((_courier, url, [ana, ben])) = chromium_pages().await else {
        return;
    };
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        ana.start_chat("ben").await?;
        ana.send("call you later").await?;
        ben.click("button[data-chat]").await?;
        ben.wait_text("li[data-outgoing='false']", "call you later", 30)
            .await?;
        // From now on every page of Ben's records whether a call screen
        // ever appeared.
        let watch = "new MutationObserver(() => { if (document.querySelector('#call')) \
                     window.__rang = true; }).observe(document, {childList: true, subtree: true});";
        ben.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({ "source": watch }),
        )
        .await?;
        // Ben closes Courier; Ana calls, and it rings out.
        ben.goto("about:blank").await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        ana.click("button[data-action='call']").await?;
        ana.text_of("#call[data-call-phase='calling']", 30).await?;
        let deadline = RING_MS / 1000 + 30;
        ana.wait_text("li[data-system]", "Outgoing call · no answer", deadline)
            .await?;
        // Ben comes back: a missed call in the chat, and no ringing.
        ben.goto(&url).await?;
        ben.click("button[data-chat]").await?;
        ben.wait_text("li[data-system]", "Missed call", 30).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rang = ben.js("return window.__rang === true;").await?;
        if rang.as_bool() != Some(false) {
            return Err("the late call rang".into());
        }
        Ok(())
    }
    .await;
    let failed = outcome.is_err();
    close_all([("ana", ana), ("ben", ben)], failed).await;
    outcome.expect("a call to someone offline");
}
