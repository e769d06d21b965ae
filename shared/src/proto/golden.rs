//! Golden tests: the exact bytes of every frame type, so that no change to the
//! wire format goes unnoticed. Each entry is checked both ways (encode, then
//! decode back to the same frame).

use super::{ClientFrame, ErrorCode, Payload, ReceiptKind, ServerFrame, Text, decode, encode};
use crate::crypto::device_list::SignedDeviceList;
use crate::crypto::keys::SignedKey;
use crate::ids::{
    Blob, Challenge, CurveKey, DeviceId, DeviceSetDigest, GroupId, LinkId, MessageId, PublicKey,
    Signature, UserId, Username,
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check<T>(frame: T, expected: &str)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = encode(&frame).expect("encodes");
    assert_eq!(hex(&bytes), expected, "encoding of {frame:?}");
    assert_eq!(decode::<T>(&bytes).expect("decodes"), frame);
}

fn name() -> Username {
    Username::parse("ana").expect("valid")
}

fn id() -> MessageId {
    MessageId::new_const([0x11; 16])
}

fn payload() -> Payload {
    Payload::new(vec![0xab, 0xcd]).expect("small")
}

const ID_HEX: &str = "5011111111111111111111111111111111";
const LINK_HEX: &str = "5055555555555555555555555555555555";

fn link() -> LinkId {
    LinkId::new_const([0x55; 16])
}

fn signed_key() -> SignedKey {
    SignedKey(
        CurveKey::new_const([0x44; 32]),
        Signature::new_const([0x33; 64]),
    )
}

fn signed_key_hex() -> String {
    format!("825820{}5840{}", "44".repeat(32), "33".repeat(64))
}

const KEY_HEX: &str = "58202222222222222222222222222222222222222222222222222222222222222222";

#[test]
fn client_frames() {
    let key = PublicKey::new_const([0x22; 32]);
    let signature = Signature::new_const([0x33; 64]);
    let sig_hex = format!("5840{}", "33".repeat(64));
    let cases: Vec<(ClientFrame, String)> = vec![
        (
            ClientFrame::Hello {
                version: 1,
                agent: Text::truncating("web"),
            },
            "83000163776562".into(),
        ),
        (ClientFrame::Ping { nonce: 7 }, "820107".into()),
        (ClientFrame::Pong { nonce: 300 }, "820219012c".into()),
        (
            ClientFrame::Register {
                username: name(),
                key,
                signature,
            },
            format!("840363616e61{KEY_HEX}{sig_hex}"),
        ),
        (
            ClientFrame::Authenticate {
                device: DeviceId(2),
                signature,
            },
            format!("830402{sig_hex}"),
        ),
        (ClientFrame::AddDevice { key }, format!("8205{KEY_HEX}")),
        (
            ClientFrame::LookupUser { username: name() },
            "820663616e61".into(),
        ),
        (ClientFrame::AddContact { user: UserId(9) }, "820709".into()),
        (
            ClientFrame::RemoveContact { user: UserId(9) },
            "820809".into(),
        ),
        (
            ClientFrame::Send {
                id: id(),
                to: vec![(DeviceId(3), payload())],
            },
            format!("8309{ID_HEX}81820342abcd"),
        ),
        (
            ClientFrame::SendFanout {
                id: id(),
                to: vec![DeviceId(3), DeviceId(4)],
                payload: payload(),
            },
            format!("840a{ID_HEX}82030442abcd"),
        ),
        (
            ClientFrame::Ack { ids: vec![id()] },
            format!("820b81{ID_HEX}"),
        ),
        (
            ClientFrame::Receipt {
                to: UserId(1),
                kind: ReceiptKind::Read,
                ids: vec![id()],
            },
            format!("840c010281{ID_HEX}"),
        ),
        (
            ClientFrame::Subscribe {
                users: vec![UserId(1), UserId(2)],
            },
            "820d820102".into(),
        ),
        (
            ClientFrame::Typing {
                to: UserId(1),
                typing: true,
            },
            "830e01f5".into(),
        ),
        (
            ClientFrame::Link {
                link: link(),
                key,
                signature,
            },
            format!("840f{LINK_HEX}{KEY_HEX}{sig_hex}"),
        ),
        (
            ClientFrame::PublishKeys {
                one_time: vec![signed_key()],
                fallback: None,
            },
            format!("831081{}f6", signed_key_hex()),
        ),
        (
            ClientFrame::ClaimKeys {
                devices: vec![DeviceId(5)],
            },
            "82118105".into(),
        ),
        (
            ClientFrame::PublishDeviceList {
                list: SignedDeviceList(Blob::new(vec![0xab, 0xcd]).expect("small"), signature),
            },
            format!("82128242abcd{sig_hex}"),
        ),
        (
            ClientFrame::FetchDeviceList { user: UserId(7) },
            "821307".into(),
        ),
        (
            ClientFrame::LookupUserId { user: UserId(7) },
            "821507".into(),
        ),
        (
            ClientFrame::CreateLink { link: link() },
            format!("8214{LINK_HEX}"),
        ),
        (
            ClientFrame::CreateGroup {
                members: vec![UserId(7)],
            },
            "82168107".into(),
        ),
        (
            ClientFrame::AddMembers {
                group: GroupId(3),
                users: vec![UserId(7)],
            },
            "8317038107".into(),
        ),
        (
            ClientFrame::RemoveMember {
                group: GroupId(3),
                user: UserId(7),
            },
            "8318180307".into(),
        ),
        (
            ClientFrame::SetAdmin {
                group: GroupId(3),
                user: UserId(7),
                admin: true,
            },
            "8418190307f5".into(),
        ),
        (
            ClientFrame::FetchGroup { group: GroupId(3) },
            "82181a03".into(),
        ),
        (
            ClientFrame::SendGroup {
                id: id(),
                group: GroupId(3),
                devices: DeviceSetDigest::new_const([0x33; 16]),
                payload: payload(),
            },
            format!("85181b{ID_HEX}0350{}42abcd", "33".repeat(16)),
        ),
        (
            ClientFrame::RequestUpload {
                size: 1_000,
                hash: [0x44; 32].into(),
            },
            format!("83181c1903e85820{}", "44".repeat(32)),
        ),
        (
            ClientFrame::CompleteUpload { media: id() },
            format!("82181d{ID_HEX}"),
        ),
        (
            ClientFrame::RequestDownload { media: id() },
            format!("82181e{ID_HEX}"),
        ),
    ];
    for (frame, expected) in cases {
        check(frame, &expected);
    }
}

#[test]
fn server_frames() {
    let key = PublicKey::new_const([0x22; 32]);
    let cases: Vec<(ServerFrame, String)> = vec![
        (
            ServerFrame::Welcome {
                version: 1,
                max_frame: 65536,
                heartbeat_secs: 25,
                challenge: Challenge::new_const([0x22; 32]),
            },
            format!("8500011a000100001819{KEY_HEX}"),
        ),
        (ServerFrame::Ping { nonce: 0 }, "820100".into()),
        (ServerFrame::Pong { nonce: 1 }, "820201".into()),
        (
            ServerFrame::error(ErrorCode::Malformed, "bad"),
            "83030163626164".into(),
        ),
        (
            ServerFrame::Authenticated {
                user: UserId(1),
                device: DeviceId(2),
            },
            "83040102".into(),
        ),
        (
            ServerFrame::DeviceAdded {
                device: DeviceId(3),
            },
            "820503".into(),
        ),
        (
            ServerFrame::UserInfo {
                user: UserId(1),
                username: name(),
                devices: vec![(DeviceId(2), key)],
            },
            format!("84060163616e61818202{KEY_HEX}"),
        ),
        (
            ServerFrame::ContactUpdated {
                user: UserId(1),
                added: false,
            },
            "830701f4".into(),
        ),
        (ServerFrame::Accepted { id: id() }, format!("8208{ID_HEX}")),
        (
            ServerFrame::rejected(Some(id()), ErrorCode::RateLimited, "slow"),
            format!("8409{ID_HEX}0d64736c6f77"),
        ),
        (
            ServerFrame::rejected(None, ErrorCode::NotFound, ""),
            "8409f60c60".into(),
        ),
        (
            ServerFrame::Deliver {
                id: id(),
                from: UserId(1),
                from_device: DeviceId(2),
                payload: payload(),
            },
            format!("850a{ID_HEX}010242abcd"),
        ),
        (
            ServerFrame::Receipt {
                id: id(),
                from: UserId(1),
                from_device: DeviceId(2),
                kind: ReceiptKind::Delivered,
                ids: vec![id()],
            },
            format!("860b{ID_HEX}01020181{ID_HEX}"),
        ),
        (
            ServerFrame::Presence {
                user: UserId(1),
                online: true,
                last_seen: 0,
            },
            "840c01f500".into(),
        ),
        (
            ServerFrame::Typing {
                from: UserId(1),
                typing: false,
            },
            "830d01f4".into(),
        ),
        (ServerFrame::KeyCount { one_time: 50 }, "820e1832".into()),
        (
            ServerFrame::ClaimedKeys {
                keys: vec![(DeviceId(5), signed_key())],
            },
            format!("820f818205{}", signed_key_hex()),
        ),
        (
            ServerFrame::DeviceList {
                user: UserId(7),
                list: None,
                registered: vec![(DeviceId(5), PublicKey::new_const([0x22; 32]))],
            },
            format!("841007f6818205{KEY_HEX}"),
        ),
        (
            ServerFrame::LinkCreated {
                link: link(),
                expires_at: 1_000,
            },
            format!("8311{LINK_HEX}1903e8"),
        ),
        (
            ServerFrame::Group {
                group: GroupId(3),
                version: 2,
                members: vec![(UserId(7), true)],
            },
            "84120302818207f5".into(),
        ),
        (
            ServerFrame::UploadSlot {
                media: id(),
                url: Text::truncating("/m"),
                expires_at: 1_000,
            },
            format!("8413{ID_HEX}622f6d1903e8"),
        ),
        (
            ServerFrame::MediaReady { media: id() },
            format!("8214{ID_HEX}"),
        ),
        (
            ServerFrame::DownloadUrl {
                media: id(),
                url: Text::truncating("/m"),
                expires_at: 1_000,
            },
            format!("8415{ID_HEX}622f6d1903e8"),
        ),
    ];
    for (frame, expected) in cases {
        check(frame, &expected);
    }
}
