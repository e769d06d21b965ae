//! Golden tests: the exact bytes of every frame type, so that no change to the
//! wire format goes unnoticed. Each entry is checked both ways (encode, then
//! decode back to the same frame).

use super::{ClientFrame, ErrorCode, Payload, ReceiptKind, ServerFrame, Text, decode, encode};
use crate::crypto::device_list::SignedDeviceList;
use crate::crypto::keys::SignedKey;
use crate::ids::{
    Blob, Challenge, CurveKey, DeviceId, DeviceSetDigest, GroupId, LinkId, MessageId, PublicKey,
    RequestId, Signature, UserId, Username,
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
    SignedKey {
        key: CurveKey::new_const([0x44; 32]),
        signature: Signature::new_const([0x33; 64]),
    }
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
                request: RequestId(5),
                username: name(),
                key,
                signature,
            },
            format!("85030563616e61{KEY_HEX}{sig_hex}"),
        ),
        (
            ClientFrame::Authenticate {
                request: RequestId(5),
                device: DeviceId(2),
                signature,
            },
            format!("84040502{sig_hex}"),
        ),
        (
            ClientFrame::LookupUser {
                request: RequestId(5),
                username: name(),
            },
            "83060563616e61".into(),
        ),
        (
            ClientFrame::AddContact {
                request: RequestId(5),
                user: UserId(9),
            },
            "83070509".into(),
        ),
        (
            ClientFrame::RemoveContact {
                request: RequestId(5),
                user: UserId(9),
            },
            "83080509".into(),
        ),
        (
            ClientFrame::Send {
                request: RequestId(5),
                id: id(),
                to: vec![(DeviceId(3), payload())],
            },
            format!("840905{ID_HEX}81820342abcd"),
        ),
        (
            ClientFrame::SendFanout {
                request: RequestId(5),
                id: id(),
                to: vec![DeviceId(3), DeviceId(4)],
                payload: payload(),
            },
            format!("850a05{ID_HEX}82030442abcd"),
        ),
        (
            ClientFrame::Ack { ids: vec![id()] },
            format!("820b81{ID_HEX}"),
        ),
        (
            ClientFrame::Receipt {
                request: RequestId(5),
                to: UserId(1),
                kind: ReceiptKind::Read,
                ids: vec![id()],
            },
            format!("850c05010281{ID_HEX}"),
        ),
        (
            ClientFrame::Subscribe {
                request: RequestId(5),
                users: vec![UserId(1), UserId(2)],
            },
            "830d05820102".into(),
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
                request: RequestId(5),
                link: link(),
                key,
                signature,
            },
            format!("850f05{LINK_HEX}{KEY_HEX}{sig_hex}"),
        ),
        (
            ClientFrame::PublishKeys {
                request: RequestId(5),
                one_time: vec![signed_key()],
                fallback: None,
            },
            format!("84100581{}f6", signed_key_hex()),
        ),
        (
            ClientFrame::ClaimKeys {
                request: RequestId(5),
                devices: vec![DeviceId(5)],
            },
            "8311058105".into(),
        ),
        (
            ClientFrame::PublishDeviceList {
                request: RequestId(5),
                list: SignedDeviceList {
                    body: Blob::new(vec![0xab, 0xcd]).expect("small"),
                    signature,
                },
            },
            format!("8312058242abcd{sig_hex}"),
        ),
        (
            ClientFrame::FetchDeviceList {
                request: RequestId(5),
                user: UserId(7),
            },
            "83130507".into(),
        ),
        (
            ClientFrame::LookupUserId {
                request: RequestId(5),
                user: UserId(7),
            },
            "83150507".into(),
        ),
        (
            ClientFrame::CreateLink {
                request: RequestId(5),
                link: link(),
            },
            format!("831405{LINK_HEX}"),
        ),
        (
            ClientFrame::CreateGroup {
                request: RequestId(5),
                members: vec![UserId(7)],
            },
            "8316058107".into(),
        ),
        (
            ClientFrame::AddMembers {
                request: RequestId(5),
                group: GroupId(3),
                users: vec![UserId(7)],
            },
            "841705038107".into(),
        ),
        (
            ClientFrame::RemoveMember {
                request: RequestId(5),
                group: GroupId(3),
                user: UserId(7),
            },
            "841818050307".into(),
        ),
        (
            ClientFrame::SetAdmin {
                request: RequestId(5),
                group: GroupId(3),
                user: UserId(7),
                admin: true,
            },
            "851819050307f5".into(),
        ),
        (
            ClientFrame::FetchGroup {
                request: RequestId(5),
                group: GroupId(3),
            },
            "83181a0503".into(),
        ),
        (
            ClientFrame::SendGroup {
                request: RequestId(5),
                id: id(),
                group: GroupId(3),
                devices: DeviceSetDigest::new_const([0x33; 16]),
                payload: payload(),
            },
            format!("86181b05{ID_HEX}0350{}42abcd", "33".repeat(16)),
        ),
        (
            ClientFrame::RequestUpload {
                request: RequestId(5),
                size: 1_000,
                hash: [0x44; 32].into(),
            },
            format!("84181c051903e85820{}", "44".repeat(32)),
        ),
        (
            ClientFrame::CompleteUpload {
                request: RequestId(5),
                media: id(),
            },
            format!("83181d05{ID_HEX}"),
        ),
        (
            ClientFrame::RequestDownload {
                request: RequestId(5),
                media: id(),
            },
            format!("83181e05{ID_HEX}"),
        ),
        (
            ClientFrame::RequestTurn {
                request: RequestId(5),
            },
            "82181f05".into(),
        ),
        (
            ClientFrame::SetProfile {
                request: RequestId(5),
                sealed: Blob::new(vec![0xab]).expect("small"),
            },
            "8318200541ab".into(),
        ),
        (
            ClientFrame::FetchProfile {
                request: RequestId(5),
                user: UserId(1),
            },
            "8318210501".into(),
        ),
        (
            ClientFrame::SetInvite {
                request: RequestId(5),
                group: GroupId(2),
                token: None,
            },
            "8418220502f6".into(),
        ),
        (
            ClientFrame::JoinGroup {
                request: RequestId(5),
                token: link(),
            },
            format!("83182305{LINK_HEX}"),
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
                request: RequestId(5),
                user: UserId(1),
                device: DeviceId(2),
            },
            "8404050102".into(),
        ),
        (
            ServerFrame::UserInfo {
                request: RequestId(5),
                user: UserId(1),
                username: name(),
                devices: vec![(DeviceId(2), key)],
            },
            format!("8506050163616e61818202{KEY_HEX}"),
        ),
        (
            ServerFrame::ContactUpdated {
                request: RequestId(5),
                user: UserId(1),
                added: false,
            },
            "84070501f4".into(),
        ),
        (
            ServerFrame::Accepted {
                request: RequestId(5),
            },
            "820805".into(),
        ),
        (
            ServerFrame::rejected(RequestId(5), ErrorCode::RateLimited, "slow"),
            "8409050d64736c6f77".into(),
        ),
        (
            ServerFrame::rejected(RequestId(300), ErrorCode::NotFound, ""),
            "840919012c0c60".into(),
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
        (
            ServerFrame::KeyCount {
                request: RequestId(5),
                one_time: 50,
            },
            "830e051832".into(),
        ),
        (
            ServerFrame::ClaimedKeys {
                request: RequestId(5),
                keys: vec![(DeviceId(5), signed_key())],
            },
            format!("830f05818205{}", signed_key_hex()),
        ),
        (
            ServerFrame::DeviceList {
                request: RequestId(5),
                user: UserId(7),
                list: None,
                registered: vec![(DeviceId(5), PublicKey::new_const([0x22; 32]))],
            },
            format!("85100507f6818205{KEY_HEX}"),
        ),
        (
            ServerFrame::LinkCreated {
                request: RequestId(5),
                link: link(),
                expires_at: 1_000,
            },
            format!("841105{LINK_HEX}1903e8"),
        ),
        (
            ServerFrame::Group {
                request: RequestId(5),
                group: GroupId(3),
                version: 2,
                members: vec![(UserId(7), true)],
            },
            "8512050302818207f5".into(),
        ),
        (
            ServerFrame::UploadSlot {
                request: RequestId(5),
                media: id(),
                url: Text::truncating("/m"),
                expires_at: 1_000,
            },
            format!("851305{ID_HEX}622f6d1903e8"),
        ),
        (
            ServerFrame::MediaReady {
                request: RequestId(5),
                media: id(),
            },
            format!("831405{ID_HEX}"),
        ),
        (
            ServerFrame::DownloadUrl {
                request: RequestId(5),
                media: id(),
                url: Text::truncating("/m"),
                expires_at: 1_000,
            },
            format!("851505{ID_HEX}622f6d1903e8"),
        ),
        (
            ServerFrame::PresenceList {
                request: RequestId(5),
                users: vec![(UserId(1), true, 0)],
            },
            "831605818301f500".into(),
        ),
        (
            ServerFrame::TurnServers {
                request: RequestId(5),
                urls: vec![Text::truncating("turn:h")],
                username: Text::truncating("9:3"),
                credential: Text::truncating("c2"),
                expires_at: 9_000,
            },
            "86170581667475726e3a6863393a33626332192328".into(),
        ),
        (
            ServerFrame::Profile {
                request: RequestId(5),
                user: UserId(1),
                sealed: Blob::new(vec![0xab]).expect("small"),
            },
            "841818050141ab".into(),
        ),
    ];
    for (frame, expected) in cases {
        check(frame, &expected);
    }
}
