//! Feeds arbitrary bytes to both frame decoders. Whatever decodes must encode
//! again and decode to the same frame; nothing may panic.
#![no_main]

use courier_shared::proto::{self, ClientFrame, ServerFrame};
use libfuzzer_sys::fuzz_target;

fn round_trip<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(frame) = proto::decode::<T>(data) {
        let bytes = proto::encode(&frame).expect("a decoded frame encodes");
        let again = proto::decode::<T>(&bytes).expect("an encoded frame decodes");
        assert_eq!(again, frame);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<ClientFrame>(data);
    round_trip::<ServerFrame>(data);
});
