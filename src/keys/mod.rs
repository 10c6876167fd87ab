//! Doris key encoding: the tuple codec (`encode_key` / `decode_key`) and the layout of every record
//! metaraft stores. Knows nothing of HTTP or of record contents.
//!
//! `key_types` is the `key_type` table of `encode_key` / `get_value`; `render` draws `decode_key`'s
//! picture. Only what callers use is re-exported.

mod codec;
mod key_types;
mod layout;
pub mod load;
mod render;

pub use key_types::key_type;
pub use key_types::KeyType;
pub use key_types::KEY_TYPES;
pub use layout::instance_key;
pub use layout::instance_key_prefix;
pub use layout::storage_vault_key;
pub use layout::storage_vault_key_prefix;
pub use layout::system_meta_service_key;
pub use layout::BUILT_IN_STORAGE_VAULT_NAME;
pub use render::fdb_escaped;
pub use render::hex;
pub use render::prettify;
pub use render::unhex;
pub use render::RenderError;
