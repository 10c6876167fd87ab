//! Protobuf message descriptions, as data.
//!
//! Doris speaks protobuf-JSON: requests are parsed with `JsonStringToMessage` and results printed
//! with `MessageToJsonString` (transport §2, §3.4). Both depend on the proto schema: field numbers
//! fix the print order, field types decide what input is accepted (`"9050"` for an int32) and how
//! values print (int64 as strings, enums by name). [`proto_message!`] declares a Rust struct and
//! its [`MessageSchema`] in one place, so the two cannot drift; the HTTP layer's proto-JSON
//! mapping walks the schema. Field names and numbers are those of `gensrc/proto/cloud.proto`.
//!
//! Representation: every singular field is an `Option` (proto2 presence: a field set to its
//! default still prints), repeated fields are `Vec`s, maps are `BTreeMap<String, _>`.

/// How many values a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// `optional`: zero or one.
    Optional,
    /// proto2 `required`: parsing fails when absent.
    Required,
    /// `repeated`.
    Repeated,
    /// `map<string, V>`.
    Map,
}

/// The value type of a field.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `string`.
    String,
    /// `bool`.
    Bool,
    /// `int32` (printed as a JSON number).
    Int32,
    /// `int64` (printed as a JSON string).
    Int64,
    /// `uint64` (printed as a JSON string).
    #[expect(dead_code, reason = "no uint64 field is mirrored yet")]
    Uint64,
    /// An enum, printed by name.
    Enum(&'static EnumSchema),
    /// A nested message.
    Message(&'static MessageSchema),
}

impl Kind {
    /// The type name protobuf prints in `invalid value … for type …` errors.
    pub fn type_name(self) -> String {
        match self {
            Kind::String => "TYPE_STRING".into(),
            Kind::Bool => "TYPE_BOOL".into(),
            Kind::Int32 => "TYPE_INT32".into(),
            Kind::Int64 => "TYPE_INT64".into(),
            Kind::Uint64 => "TYPE_UINT64".into(),
            Kind::Enum(e) => format!("type.googleapis.com/{}", e.full_name),
            Kind::Message(m) => format!("type.googleapis.com/{}", m.full_name),
        }
    }
}

/// One field of a message.
#[derive(Debug)]
pub struct FieldSchema {
    /// Rust field identifier (`r#type` for proto `type`); see [`FieldSchema::name`].
    pub ident: &'static str,
    /// Field number (print order follows declaration order; a test checks they agree).
    pub number: u32,
    /// Cardinality.
    pub label: Label,
    /// Value type.
    pub kind: Kind,
}

impl FieldSchema {
    /// The proto field name (also the serde name of the Rust field).
    pub fn name(&self) -> &'static str {
        self.ident.strip_prefix("r#").unwrap_or(self.ident)
    }

    /// Whether `key` is protobuf's `json_name` of this field, the lowerCamelCase of the proto name
    /// (`instance_id` → `instanceId`), compared without building it (the body parser asks this of
    /// every field it scans).
    pub fn is_json_name(&self, key: &str) -> bool {
        let mut want = key.bytes();
        let mut upper = false;
        for c in self.name().bytes() {
            if c == b'_' {
                upper = true;
                continue;
            }
            let c = if std::mem::take(&mut upper) { c.to_ascii_uppercase() } else { c };
            if want.next() != Some(c) {
                return false;
            }
        }
        want.next().is_none()
    }
}

/// A message type.
#[derive(Debug)]
pub struct MessageSchema {
    /// Full proto name, e.g. `doris.cloud.ObjectStoreInfoPB`.
    pub full_name: &'static str,
    /// Fields in field-number order (checked by a test).
    pub fields: &'static [FieldSchema],
}

impl MessageSchema {
    /// The field a JSON key names: its proto name or its lowerCamelCase json name.
    pub fn field(&self, key: &str) -> Option<&'static FieldSchema> {
        let fields: &'static [FieldSchema] = self.fields;
        fields.iter().find(|f| f.name() == key || f.is_json_name(key))
    }
}

/// An enum type.
#[derive(Debug)]
pub struct EnumSchema {
    /// Full proto name, e.g. `doris.cloud.ObjectStoreInfoPB.Provider`.
    pub full_name: &'static str,
    /// `(name, number)` in declaration order.
    pub values: &'static [(&'static str, i32)],
}

impl EnumSchema {
    /// The name of value `number`, if declared.
    pub fn name_of(&self, number: i64) -> Option<&'static str> {
        let values: &'static [(&'static str, i32)] = self.values;
        values.iter().find(|(_, n)| i64::from(*n) == number).map(|(name, _)| *name)
    }

    /// Whether `name` is declared.
    pub fn has_name(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| *n == name)
    }

    /// Every declared name, comma-separated (for error messages).
    pub fn names(&self) -> String {
        self.values.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    }
}

/// A Rust struct that mirrors a proto message.
pub trait ProtoMessage: serde::Serialize + serde::de::DeserializeOwned {
    /// The message's description.
    const SCHEMA: &'static MessageSchema;
}

/// A Rust enum that mirrors a proto enum (serde names = proto names).
pub trait ProtoEnum {
    /// The enum's description.
    const SCHEMA: &'static EnumSchema;
}

/// Rust type of one value of a field kind.
macro_rules! pb_type {
    (string) => {
        String
    };
    (bool) => {
        bool
    };
    (int32) => {
        i32
    };
    (int64) => {
        i64
    };
    (uint64) => {
        u64
    };
    (enum $t:ident) => {
        $t
    };
    (message $t:ident) => {
        $t
    };
}

/// Rust type of a field.
macro_rules! pb_field_type {
    (optional $($k:tt)+) => { Option<$crate::meta::schema::pb_type!($($k)+)> };
    (required $($k:tt)+) => { Option<$crate::meta::schema::pb_type!($($k)+)> };
    (repeated $($k:tt)+) => { Vec<$crate::meta::schema::pb_type!($($k)+)> };
    (map $($k:tt)+) => { std::collections::BTreeMap<String, $crate::meta::schema::pb_type!($($k)+)> };
}

macro_rules! pb_label {
    (optional) => {
        $crate::meta::schema::Label::Optional
    };
    (required) => {
        $crate::meta::schema::Label::Required
    };
    (repeated) => {
        $crate::meta::schema::Label::Repeated
    };
    (map) => {
        $crate::meta::schema::Label::Map
    };
}

macro_rules! pb_kind {
    (string) => {
        $crate::meta::schema::Kind::String
    };
    (bool) => {
        $crate::meta::schema::Kind::Bool
    };
    (int32) => {
        $crate::meta::schema::Kind::Int32
    };
    (int64) => {
        $crate::meta::schema::Kind::Int64
    };
    (uint64) => {
        $crate::meta::schema::Kind::Uint64
    };
    (enum $t:ident) => {
        $crate::meta::schema::Kind::Enum(<$t as $crate::meta::schema::ProtoEnum>::SCHEMA)
    };
    (message $t:ident) => {
        $crate::meta::schema::Kind::Message(<$t as $crate::meta::schema::ProtoMessage>::SCHEMA)
    };
}

/// Declares a struct mirroring a proto message, plus its [`MessageSchema`]:
///
/// ```ignore
/// proto_message! {
///     /// doc
///     pub struct RamUserPb = "doris.cloud.RamUserPB" {
///         1 user_id: optional string,
///         6 encryption_info: optional message(EncryptionInfoPb),
///     }
/// }
/// ```
macro_rules! proto_message {
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $full:literal {
            $( $num:literal $field:ident : $label:ident $kind:tt $(($arg:ident))? ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        pub struct $name {
            $( pub $field: $crate::meta::schema::pb_field_type!($label $kind $($arg)?), )*
        }

        impl $crate::meta::schema::ProtoMessage for $name {
            const SCHEMA: &'static $crate::meta::schema::MessageSchema = &$crate::meta::schema::MessageSchema {
                full_name: $full,
                fields: &[
                    $( $crate::meta::schema::FieldSchema {
                        ident: stringify!($field),
                        number: $num,
                        label: $crate::meta::schema::pb_label!($label),
                        kind: $crate::meta::schema::pb_kind!($kind $($arg)?),
                    }, )*
                ],
            };
        }
    };
}

/// Declares a Rust enum mirroring a proto enum, plus its [`EnumSchema`]. Variants serialize by
/// their proto name.
macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident = $full:literal {
            $( $variant:ident = $pname:literal $num:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( #[serde(rename = $pname)] $variant, )*
        }

        impl $crate::meta::schema::ProtoEnum for $name {
            const SCHEMA: &'static $crate::meta::schema::EnumSchema = &$crate::meta::schema::EnumSchema {
                full_name: $full,
                values: &[ $( ($pname, $num), )* ],
            };
        }
    };
}

pub(crate) use pb_field_type;
pub(crate) use pb_kind;
pub(crate) use pb_label;
pub(crate) use pb_type;
pub(crate) use proto_enum;
pub(crate) use proto_message;
