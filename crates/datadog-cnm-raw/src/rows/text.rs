//! Small serde pieces the row decoders share: map keys and strings borrowed from the input,
//! `int64` metrics, `null`-or-value, and the name under which serde_json hands over text.

use std::fmt;

use serde::de::{self, DeserializeSeed, Visitor};
use serde::{Deserialize, Deserializer};

/// The name under which serde_json hands over the text of a value instead of its tokens
/// (the mechanism behind `serde_json::value::RawValue`, enabled by its `raw_value`
/// feature). Other deserializers treat it as an ordinary newtype struct name, and the value
/// is then decoded token by token; only speed depends on this name.
pub(crate) const RAW_TEXT: &str = "$serde_json::private::RawValue";

/// A map key, borrowed from the input when possible and not yet checked to be UTF-8:
/// known field names are matched as bytes, which spares serde_json a UTF-8 validation of
/// every key; only keys that are kept are checked (see [`KeyStr::to_str`]).
pub(crate) enum KeyStr<'de> {
    Borrowed(&'de [u8]),
    Owned(Vec<u8>),
}

impl KeyStr<'_> {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Borrowed(bytes) => bytes,
            Self::Owned(bytes) => bytes,
        }
    }

    /// The key as text; an error when it is not UTF-8.
    pub(crate) fn to_str<E: de::Error>(&self) -> Result<&str, E> {
        std::str::from_utf8(self.as_bytes())
            .map_err(|_| E::invalid_value(de::Unexpected::Bytes(self.as_bytes()), &"a UTF-8 key"))
    }
}

impl<'de> Deserialize<'de> for KeyStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(KeyStr::Borrowed(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(KeyStr::Owned(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
                Ok(KeyStr::Owned(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeyStr::Borrowed(v.as_bytes()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyStr::Owned(v.as_bytes().to_vec()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(KeyStr::Owned(v.into_bytes()))
            }
        }
        // serde_json hands map keys to `deserialize_bytes` without UTF-8 validation; a
        // self-describing deserializer of already-parsed values (such as a
        // `serde_json::Value`) hands them over as strings, which the visitor takes too.
        deserializer.deserialize_bytes(KeyVisitor)
    }
}

/// A string value, borrowed from the input when it has no escapes.
pub(crate) enum StrRef<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl StrRef<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(s) => s,
            Self::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for StrRef<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = StrRef<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrRef::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrRef::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(StrRef::Owned(v))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// An `int64` metric or `null`, read with a single dispatch (cheaper than `Option<i64>`,
/// which peeks at the input twice).
pub(crate) struct IntOrNull;

impl<'de> DeserializeSeed<'de> for IntOrNull {
    type Value = Option<i64>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<i64>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IntOrNull {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an int64 metric or null")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<i64>, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<i64>, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<i64>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A metric value read with [`IntOrNull`], as a `Deserialize` type.
pub(crate) struct MetricValue(pub(crate) Option<i64>);

impl<'de> Deserialize<'de> for MetricValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IntOrNull.deserialize(deserializer).map(MetricValue)
    }
}

/// Reads `null` as nothing, and anything else with the inner seed.
pub(crate) struct OrNull<S>(pub(crate) S);

impl<'de, S: DeserializeSeed<'de, Value = ()>> DeserializeSeed<'de> for OrNull<S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for OrNull<S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.deserialize(deserializer)
    }
}

/// The message of `error` without its position: that is relative to a piece of text the
/// outer deserializer handed over, and the outer deserializer adds its own.
pub(crate) fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(bare) => bare.to_owned(),
        None => message,
    }
}
