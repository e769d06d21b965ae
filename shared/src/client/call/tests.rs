//! The calls' state machine over a little network of devices: every
//! signal one device sends reaches every device of the peer and the
//! sender's other devices, as `Messenger::send_call` makes it.

use super::*;

const ANA: UserId = UserId(1);
const BEN: UserId = UserId(2);
const CAL: UserId = UserId(3);
/// When the calls start (Unix ms).
const T0: u64 = 1_800_000_000_000;

fn id(at: u64, n: u8) -> MessageId {
    MessageId::v7(at, [n; 10])
}

/// Devices, each with what it was told to do.
struct Net {
    devices: Vec<(UserId, Calls, Vec<Output>)>,
}

impl Net {
    /// `users[i]` owns device `i + 1`.
    fn new(users: &[UserId]) -> Self {
        let devices = users
            .iter()
            .enumerate()
            .map(|(i, user)| (*user, Calls::new(DeviceId(i as u64 + 1)), Vec::new()))
            .collect();
        Self { devices }
    }

    fn calls(&mut self, device: usize) -> &mut Calls {
        &mut self.devices[device].1
    }

    /// Carries out what device `from` was told: signals to every device of
    /// the peer and `from`'s user's other devices, until nothing is left.
    fn run(&mut self, from: usize, outputs: Vec<Output>, now: u64) {
        let mut queue = vec![(from, outputs)];
        while let Some((from, outputs)) = queue.pop() {
            let sender = self.devices[from].0;
            for output in outputs {
                if let Output::Send { peer, content } = &output {
                    self.deliver(from, sender, *peer, content, now, &mut queue);
                }
                self.devices[from].2.push(output);
            }
        }
    }

    /// Hands `content`, sent by device `from` of `sender` to `peer`, to
    /// every device it reaches; what each then says joins `queue`.
    fn deliver(
        &mut self,
        from: usize,
        sender: UserId,
        peer: UserId,
        content: &Content,
        now: u64,
        queue: &mut Vec<(usize, Vec<Output>)>,
    ) {
        for to in 0..self.devices.len() {
            let user = self.devices[to].0;
            if to == from || (user != peer && user != sender) {
                continue;
            }
            let own = user == sender;
            let chat_peer = if own { peer } else { sender };
            let device = DeviceId(from as u64 + 1);
            let out = self.devices[to]
                .1
                .on_signal(device, own, chat_peer, content, now);
            queue.push((to, out));
        }
    }

    /// The chat lines device `device` was told to store.
    fn lines(&self, device: usize) -> Vec<(UserId, String)> {
        self.devices[device]
            .2
            .iter()
            .filter_map(|o| match o {
                Output::Line { peer, text, .. } => Some((*peer, text.clone())),
                _ => None,
            })
            .collect()
    }

    /// The kinds of signal device `device` sent.
    fn sent(&self, device: usize) -> Vec<CallKind> {
        self.devices[device]
            .2
            .iter()
            .filter_map(|o| match o {
                Output::Send { content, .. } => match **content {
                    Content::Call { kind, .. } => Some(kind),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    fn phase(&self, device: usize) -> Option<Phase> {
        self.devices[device].1.call().map(|c| c.phase)
    }
}

#[test]
fn every_device_rings_the_first_answer_takes_the_call_and_all_keep_its_line() {
    // Devices: 0 ana, 1 ana's other, 2 ben, 3 ben's other.
    let mut net = Net::new(&[ANA, ANA, BEN, BEN]);
    let call = id(T0, 1);
    let out = net
        .calls(0)
        .start(BEN, call, "offer-sdp", false)
        .expect("idle");
    net.run(0, out, T0 + 10);
    assert_eq!(net.phase(2), Some(Phase::Ringing));
    assert_eq!(net.phase(3), Some(Phase::Ringing));
    assert_eq!(
        net.devices[2]
            .1
            .call()
            .and_then(|c| c.offer.clone())
            .as_deref(),
        Some("offer-sdp")
    );
    // The caller hears it ring; its other device follows without ringing.
    assert_eq!(net.phase(0), Some(Phase::Calling { ringing: true }));
    assert_eq!(net.phase(1), Some(Phase::Calling { ringing: false }));
    assert_eq!(
        net.devices[1].1.call().map(|c| c.role),
        Some(Role::Observer { outgoing: true })
    );

    let out = net
        .calls(2)
        .accept("answer-sdp", false, T0 + 2_000)
        .expect("ringing");
    net.run(2, out, T0 + 2_000);
    assert_eq!(net.phase(2), Some(Phase::Live));
    assert_eq!(net.phase(0), Some(Phase::Live));
    assert!(
        net.devices[0]
            .2
            .contains(&Output::RemoteAnswer("answer-sdp".into()))
    );
    // Ben's other device stopped ringing: answered on another device.
    let other = net.devices[3].1.call().cloned().expect("followed");
    assert_eq!(
        (other.role, other.phase),
        (Role::Observer { outgoing: false }, Phase::Live)
    );
    assert!(net.devices[3].1.busy());

    // 65 s later ana hangs up: every device ends and writes the same line.
    let out = net.calls(0).hang_up(T0 + 67_000).expect("live");
    net.run(0, out, T0 + 67_000);
    for device in 0..4 {
        assert_eq!(
            net.phase(device),
            Some(Phase::Ended(End::HungUp)),
            "device {device}"
        );
    }
    assert_eq!(net.lines(0), [(BEN, "Outgoing call · 1:05".to_owned())]);
    assert_eq!(net.lines(1), [(BEN, "Outgoing call · 1:05".to_owned())]);
    assert_eq!(net.lines(2), [(ANA, "Incoming call · 1:05".to_owned())]);
    assert_eq!(net.lines(3), [(ANA, "Incoming call · 1:05".to_owned())]);
    // Every line is under the call's id.
    assert!(net.devices.iter().flat_map(|d| &d.2).all(|o| match o {
        Output::Line { id, .. } => *id == call,
        _ => true,
    }));
    net.calls(2).dismiss();
    assert!(net.calls(2).call().is_none());
}

#[test]
fn a_decline_on_one_device_stops_every_device() {
    let mut net = Net::new(&[ANA, BEN, BEN]);
    let out = net
        .calls(0)
        .start(BEN, id(T0, 1), "sdp", true)
        .expect("idle");
    net.run(0, out, T0);
    let out = net.calls(2).decline(T0 + 3_000).expect("ringing");
    net.run(2, out, T0 + 3_000);
    assert_eq!(net.phase(0), Some(Phase::Ended(End::Declined)));
    assert_eq!(net.phase(1), Some(Phase::Ended(End::Declined)));
    assert_eq!(
        net.lines(0),
        [(BEN, "Outgoing video call · declined".to_owned())]
    );
    assert_eq!(net.lines(1), [(ANA, "Declined video call".to_owned())]);
    assert_eq!(net.lines(2), [(ANA, "Declined video call".to_owned())]);
}

#[test]
fn a_call_to_someone_in_a_call_is_busy() {
    // 0 ana, 1 ben, 2 ben's other device, 3 cal.
    let mut net = Net::new(&[ANA, BEN, BEN, CAL]);
    let out = net
        .calls(3)
        .start(BEN, id(T0, 1), "sdp", false)
        .expect("idle");
    net.run(3, out, T0);
    let out = net
        .calls(1)
        .accept("sdp", false, T0 + 1_000)
        .expect("ringing");
    net.run(1, out, T0 + 1_000);

    let out = net
        .calls(0)
        .start(BEN, id(T0 + 5_000, 2), "sdp", false)
        .expect("idle");
    net.run(0, out, T0 + 5_000);
    assert_eq!(net.phase(0), Some(Phase::Ended(End::Busy)));
    assert_eq!(net.lines(0), [(BEN, "Outgoing call · busy".to_owned())]);
    // Ben's devices never rang: a missed-call line, and the call with cal
    // goes on. Only the device in the call answered busy.
    assert_eq!(net.lines(1), [(ANA, "Missed call".to_owned())]);
    assert_eq!(net.lines(2), [(ANA, "Missed call".to_owned())]);
    assert_eq!(
        net.sent(1),
        [CallKind::Ringing, CallKind::Answer, CallKind::Busy]
    );
    assert_eq!(net.sent(2), [CallKind::Ringing]);
    assert_eq!(net.phase(1), Some(Phase::Live));
    assert_eq!(net.phase(3), Some(Phase::Live));
    // The caller cannot start a second call meanwhile.
    assert_eq!(
        net.calls(3).start(ANA, id(T0 + 6_000, 3), "sdp", false),
        Err(CallError::Busy)
    );
}

#[test]
fn an_offer_past_its_ring_time_never_rings_and_is_a_missed_call() {
    let mut ben = Calls::new(DeviceId(2));
    let call = id(T0, 1);
    let offer = signal(call, CallKind::Offer, None, false, "sdp");
    // Delivered when ben came online, or replayed by the server, a minute on.
    let out = ben.on_signal(DeviceId(1), false, ANA, &offer, T0 + RING_MS + 1);
    assert_eq!(
        out,
        [Output::Line {
            peer: ANA,
            id: call,
            text: "Missed call".into()
        }]
    );
    assert!(!ben.busy());
    assert!(ben.call().is_none());
    // Just in time, it rings.
    let out = ben.on_signal(DeviceId(1), false, ANA, &offer, T0 + RING_MS);
    assert_eq!(ben.call().map(|c| c.phase), Some(Phase::Ringing));
    assert!(matches!(&out[..], [Output::Send { content, .. }]
        if matches!(**content, Content::Call { kind: CallKind::Ringing, device: Some(DeviceId(1)), .. })));
}

#[test]
fn unanswered_calls_ring_out_on_both_sides() {
    let mut net = Net::new(&[ANA, BEN]);
    let out = net
        .calls(0)
        .start(BEN, id(T0, 1), "sdp", false)
        .expect("idle");
    net.run(0, out, T0);
    assert!(net.calls(1).tick(T0 + RING_MS).is_empty());
    let out = net.calls(1).tick(T0 + RING_MS + 1);
    net.run(1, out, T0 + RING_MS + 1);
    assert_eq!(net.phase(1), Some(Phase::Ended(End::Missed)));
    let out = net.calls(0).tick(T0 + RING_MS + 2);
    net.run(0, out, T0 + RING_MS + 2);
    assert_eq!(net.phase(0), Some(Phase::Ended(End::NoAnswer)));
    assert_eq!(
        net.lines(0),
        [(BEN, "Outgoing call · no answer".to_owned())]
    );
    assert_eq!(net.lines(1), [(ANA, "Missed call".to_owned())]);
}

#[test]
fn a_call_called_off_before_an_answer_is_missed_on_the_callee_side() {
    let mut net = Net::new(&[ANA, BEN, BEN]);
    let out = net
        .calls(0)
        .start(BEN, id(T0, 1), "sdp", false)
        .expect("idle");
    net.run(0, out, T0);
    let out = net.calls(0).hang_up(T0 + 4_000).expect("calling");
    net.run(0, out, T0 + 4_000);
    assert_eq!(
        net.lines(0),
        [(BEN, "Outgoing call · no answer".to_owned())]
    );
    assert_eq!(net.lines(1), [(ANA, "Missed call".to_owned())]);
    assert_eq!(net.lines(2), [(ANA, "Missed call".to_owned())]);
}

#[test]
fn a_late_second_answer_is_hung_up_and_the_first_device_keeps_the_call() {
    let mut ana = Calls::new(DeviceId(1));
    let call = id(T0, 1);
    ana.start(BEN, call, "sdp", false).expect("idle");
    let answer = signal(call, CallKind::Answer, Some(DeviceId(1)), false, "a2");
    assert_eq!(
        ana.on_signal(DeviceId(2), false, BEN, &answer, T0 + 1),
        [Output::RemoteAnswer("a2".into())]
    );
    let out = ana.on_signal(DeviceId(3), false, BEN, &answer, T0 + 2);
    assert_eq!(
        out,
        [Output::Send {
            peer: BEN,
            content: Box::new(signal(call, CallKind::HangUp, Some(DeviceId(3)), false, ""))
        }]
    );
    assert_eq!(ana.call().and_then(|c| c.peer_device), Some(DeviceId(2)));
    // Only the partner's hang-up, candidates and new offers count.
    let ice = signal(call, CallKind::Ice, Some(DeviceId(1)), false, "candidate");
    assert!(
        ana.on_signal(DeviceId(3), false, BEN, &ice, T0 + 3)
            .is_empty()
    );
    assert_eq!(
        ana.on_signal(DeviceId(2), false, BEN, &ice, T0 + 3),
        [Output::RemoteIce("candidate".into())]
    );
    let bye = signal(call, CallKind::HangUp, Some(DeviceId(1)), false, "");
    assert!(
        ana.on_signal(DeviceId(3), false, BEN, &bye, T0 + 4)
            .is_empty()
    );
    assert!(ana.busy());
    // A signal meant for another device of ana's is not for this one.
    let elsewhere = signal(call, CallKind::HangUp, Some(DeviceId(9)), false, "");
    assert!(
        ana.on_signal(DeviceId(2), false, BEN, &elsewhere, T0 + 5)
            .is_empty()
    );
    assert!(ana.busy());
}

#[test]
fn renegotiation_during_the_call_goes_to_the_peer_connection() {
    let mut net = Net::new(&[ANA, BEN]);
    let out = net
        .calls(0)
        .start(BEN, id(T0, 1), "o1", false)
        .expect("idle");
    net.run(0, out, T0);
    let out = net.calls(1).accept("a1", false, T0 + 1).expect("ringing");
    net.run(1, out, T0 + 1);
    // Ana turns her camera on: a new offer, answered by ben.
    let out = net.calls(0).renegotiate("o2", true).expect("live");
    net.run(0, out, T0 + 2);
    assert!(net.devices[1].2.contains(&Output::RemoteOffer("o2".into())));
    let out = net.calls(1).answer_update("a2", true).expect("live");
    net.run(1, out, T0 + 3);
    assert!(
        net.devices[0]
            .2
            .contains(&Output::RemoteAnswer("a2".into()))
    );
    assert_eq!(net.phase(0), Some(Phase::Live));
    // Candidates (an ICE restart's) travel too.
    let out = net.calls(1).candidate("c").expect("live");
    net.run(1, out, T0 + 4);
    assert!(net.devices[0].2.contains(&Output::RemoteIce("c".into())));
}

#[test]
fn refused_actions_change_nothing() {
    let mut calls = Calls::new(DeviceId(1));
    assert_eq!(calls.accept("sdp", false, T0), Err(CallError::NoCall));
    assert_eq!(calls.decline(T0), Err(CallError::NoCall));
    assert_eq!(calls.hang_up(T0), Err(CallError::NoCall));
    assert_eq!(calls.renegotiate("sdp", false), Err(CallError::NoCall));
    assert!(calls.tick(T0).is_empty());
    assert!(calls.call().is_none());
    // A signal about a call this device never heard of is dropped.
    let bye = signal(id(T0, 1), CallKind::HangUp, None, false, "");
    assert!(
        calls
            .on_signal(DeviceId(2), false, BEN, &bye, T0)
            .is_empty()
    );
    // Not a call signal at all.
    let text = Content::Retry { id: id(T0, 2) };
    assert!(
        calls
            .on_signal(DeviceId(2), false, BEN, &text, T0)
            .is_empty()
    );
}

#[test]
fn durations_read_as_minutes_and_seconds() {
    assert_eq!(duration(0), "0:00");
    assert_eq!(duration(65_400), "1:05");
    assert_eq!(duration(3_723_000), "1:02:03");
}

#[test]
fn a_call_signal_on_the_wire() {
    // Golden: [11, call id, kind, device, video, body] inside the content.
    let content = signal(
        MessageId::from_slice(&[7; 16]).expect("16"),
        CallKind::Answer,
        Some(DeviceId(5)),
        true,
        "v=0",
    );
    let plain = crate::crypto::content::Plaintext {
        id: MessageId::from_slice(&[1; 16]).expect("16"),
        to: UserId(2),
        content: content.clone(),
    };
    let bytes = plain.encode().expect("encodes");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let id7 = "07".repeat(16);
    let id1 = "01".repeat(16);
    assert_eq!(hex, format!("8350{id1}02860b50{id7}0205f563763d30"));
    assert_eq!(
        crate::crypto::content::Plaintext::decode(&bytes)
            .expect("decodes")
            .content,
        content
    );
    // Kinds outside 1 to 7 are refused.
    let mut bad = bytes.clone();
    let at = 1 + 1 + 16 + 1 + 1 + 1 + 1 + 16;
    bad[at] = 8;
    assert!(crate::crypto::content::Plaintext::decode(&bad).is_err());
}
