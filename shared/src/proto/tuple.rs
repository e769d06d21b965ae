//! The array encoding every frame shares: `[type, field, field, …]`.
//!
//! [`wire_enum!`] turns an enum with struct-like variants into that encoding, so
//! each frame type lists its fields once, in wire order, and nothing else has to
//! keep them in step. The helpers below are what the generated code calls.

use serde::de::{self, DeserializeOwned, IgnoredAny, SeqAccess};

/// What a decoder expected when it met an unknown frame type; the codec looks
/// for these words to report [`super::ErrorCode::UnknownFrame`].
pub(crate) const KNOWN_FRAME: &str = "a known frame type";

/// Reads element `index` of a frame array, failing if the array ended early.
pub(crate) fn next<'de, T: DeserializeOwned, A: SeqAccess<'de>>(
    seq: &mut A,
    index: usize,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::invalid_length(index, &"all of the frame's fields"))
}

/// Fails if a frame array has elements past its last field.
pub(crate) fn end<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(), A::Error> {
    match seq.next_element::<IgnoredAny>()? {
        None => Ok(()),
        Some(_) => Err(de::Error::custom("frame has more fields than its type")),
    }
}

/// Defines a wire enum: each variant has a fixed type number and named fields
/// that are encoded, in order, after the number in one CBOR array.
///
/// A variant written `Name = 9 request { … }` also carries a
/// [`crate::ids::RequestId`] named `request` as its first field (right after
/// the type number): the id that pairs a request with its answer. The enum
/// gets `request()` and `set_request()` for it.
macro_rules! wire_enum {
    (@request) => { None };
    (@request $req:ident) => { Some(*$req) };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $tag:literal $($req:ident)? { $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)? }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant {
                $(
                    /// The id pairing this request with its answer (0: none).
                    $req: $crate::ids::RequestId,
                )?
                $( $(#[$fmeta])* $field: $ty ),*
            } ),*
        }

        impl $name {
            /// The frame's type number on the wire.
            pub fn tag(&self) -> u8 {
                match self { $( Self::$variant { .. } => $tag ),* }
            }

            /// The frame type's name, for logs and metrics.
            pub fn name(&self) -> &'static str {
                match self { $( Self::$variant { .. } => stringify!($variant) ),* }
            }

            /// The request id the frame carries, for the frame types that carry one.
            pub fn request(&self) -> Option<$crate::ids::RequestId> {
                match self {
                    $( Self::$variant { $($req,)? .. } => $crate::proto::tuple::wire_enum!(@request $($req)?) ),*
                }
            }

            /// Sets the request id, for the frame types that carry one.
            pub fn set_request(&mut self, id: $crate::ids::RequestId) {
                let _ = id;
                match self {
                    $( Self::$variant { $($req,)? .. } => { $( *$req = id; )? } ),*
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeTuple;
                match self {
                    $( Self::$variant { $($req,)? $($field),* } => {
                        let fields: &[&str] = &[$(stringify!($req),)? $(stringify!($field)),*];
                        let mut tuple = serializer.serialize_tuple(1 + fields.len())?;
                        tuple.serialize_element(&($tag as u8))?;
                        $( tuple.serialize_element($req)?; )?
                        $( tuple.serialize_element($field)?; )*
                        tuple.end()
                    } )*
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct FrameVisitor;

                impl<'de> serde::de::Visitor<'de> for FrameVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " array"))
                    }

                    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<$name, A::Error> {
                        let tag: u8 = $crate::proto::tuple::next(&mut seq, 0)?;
                        #[allow(unused_mut, unused_variables, unused_assignments)]
                        let frame = match tag {
                            $( $tag => {
                                let mut index = 0usize;
                                $(
                                    index += 1;
                                    let $req: $crate::ids::RequestId = $crate::proto::tuple::next(&mut seq, index)?;
                                )?
                                $(
                                    index += 1;
                                    let $field: $ty = $crate::proto::tuple::next(&mut seq, index)?;
                                )*
                                $name::$variant { $($req,)? $($field),* }
                            } )*
                            other => return Err(serde::de::Error::invalid_value(
                                serde::de::Unexpected::Unsigned(u64::from(other)),
                                &$crate::proto::tuple::KNOWN_FRAME,
                            )),
                        };
                        $crate::proto::tuple::end(&mut seq)?;
                        Ok(frame)
                    }
                }

                deserializer.deserialize_seq(FrameVisitor)
            }
        }
    };
}

pub(crate) use wire_enum;

/// Defines a struct with named fields that travels as a CBOR array of its
/// fields, in order (no field names on the wire, as a tuple struct would),
/// and rejects arrays with missing or extra fields.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty ),*
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeTuple;
                let fields: &[&str] = &[$(stringify!($field)),*];
                let mut tuple = serializer.serialize_tuple(fields.len())?;
                $( tuple.serialize_element(&self.$field)?; )*
                tuple.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct StructVisitor;

                impl<'de> serde::de::Visitor<'de> for StructVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " array"))
                    }

                    #[allow(unused_assignments)]
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<$name, A::Error> {
                        #[allow(unused_mut, unused_variables)]
                        let mut index = 0usize;
                        $(
                            let $field: $ty = $crate::proto::tuple::next(&mut seq, index)?;
                            index += 1;
                        )*
                        $crate::proto::tuple::end(&mut seq)?;
                        Ok($name { $($field),* })
                    }
                }

                deserializer.deserialize_seq(StructVisitor)
            }
        }
    };
}

pub(crate) use wire_struct;
